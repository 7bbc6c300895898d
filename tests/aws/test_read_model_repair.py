"""Compare and repair the live read model on DynamoDB (moto), and the operator's command.

Proves: on a read model damaged by hand - a field of case A's state row changed (and its
version in the body, which the projector's guard reads), A's November hour row deleted, a
row nobody owns added - compare lists each difference (row key, field, live and rebuilt
value; missing; extra); repair puts the two rows back and deletes the extra one, after
which compare shows none, and a second repair (a healthy read model) sends no write at all.
A stream the projector moves on between compare and repair is left to the projector. The
command `python -m notfall.projection` prints the same list, exits 1 on differences, and
logs the repair (actor, time, counts, keys) without any row content.
"""

from __future__ import annotations

import json

import pytest

from notfall.app.intake import Intake
from notfall.domain.commands import CloseIn
from notfall.domain.envelope import Metadata
from notfall.projection.__main__ import main
from notfall.projection.projector import Projector
from notfall.projection.repair import repair
from notfall.projection.replay_check import CHANGED, EXTRA, MISSING, comparison
from notfall.wiring import Wiring

WRITES = {"PutItem", "DeleteItem", "UpdateItem", "TransactWriteItems", "BatchWriteItem"}


@pytest.fixture
def projected(aws, scenario, lambda_context):
    """The scenario, projected live through the projector Lambda."""
    fn = aws.load_function("projector")
    for batch in aws.batches():
        assert fn.handler(batch, lambda_context) == {"batchItemFailures": []}
    return scenario


def key(pk: str, sk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def damage(aws, case_a: str, version: bool = True) -> int:
    """What somebody with write access might do by hand; returns A's real version. A wrong
    version in the body also stops the projector (its guard reads it): only repair mends it."""
    item = aws.client.get_item(TableName=aws.read_model_table, Key=key(f"case#{case_a}", "state"))["Item"]
    body = json.loads(item["body"]["S"])
    assert body["case"]["status"] == "emergency"
    body["case"]["status"] = "closed"
    real_version = body["version"]
    if version:
        body["version"] = 1
    item["body"] = {"S": json.dumps(body, sort_keys=True)}
    aws.client.put_item(TableName=aws.read_model_table, Item=item)
    aws.client.delete_item(TableName=aws.read_model_table, Key=key("month#2026-11", f"case#{case_a}"))
    ghost = {"pk": "case#ghost", "sk": "queue#open", "queue": "open", "queue_at": "2026-10-30T00:00:00.000000Z"}
    aws.client.put_item(
        TableName=aws.read_model_table,
        Item={**key("case#ghost", "queue#open"), "body": {"S": json.dumps(ghost)}, "queue": {"S": "open"}},
    )
    return real_version


def test_compare_lists_each_difference_and_repair_fixes_them(aws, projected, count_requests):
    a = projected.cases["A"]
    store, live = aws.store(), aws.readmodel()
    assert comparison(store, live).differences == []
    real_version = damage(aws, a)

    compared = comparison(store, live)

    assert [(d.key, d.kind, d.field, d.live) for d in compared.differences] == [
        ((f"case#{a}", "state"), CHANGED, "case.status", "closed"),
        ((f"case#{a}", "state"), CHANGED, "version", 1),
        (("case#ghost", "queue#open"), EXTRA, None, live.get("case#ghost", "queue#open")),
        (("month#2026-11", f"case#{a}"), MISSING, None, None),
    ]
    assert [d.rebuilt for d in compared.differences[:2]] == ["emergency", real_version]
    assert compared.differences[3].rebuilt == compared.rebuilt.get("month#2026-11", f"case#{a}")

    done = repair(compared, live)

    assert done.put == [(f"case#{a}", "state"), ("month#2026-11", f"case#{a}")]
    assert done.deleted == [("case#ghost", "queue#open")] and done.skipped == []
    assert comparison(store, live).differences == []
    assert aws.readmodel().get(f"case#{a}", "state")["case"]["status"] == "emergency"
    # the projector's guard (the version attribute) is the real version again
    item = aws.client.get_item(TableName=aws.read_model_table, Key=key(f"case#{a}", "state"))["Item"]
    assert int(item["version"]["N"]) == real_version

    with count_requests(aws.client) as calls:
        again = repair(comparison(store, live), live)
    assert (again.put, again.deleted, again.skipped) == ([], [], [])
    assert not WRITES & set(calls)  # a healthy read model: not one write


def test_repair_leaves_a_stream_the_projector_moved_on_meanwhile(aws, projected):
    a, c = projected.cases["A"], projected.cases["C"]
    store, live = aws.store(), aws.readmodel()
    damage(aws, a, version=False)
    aws.client.delete_item(TableName=aws.read_model_table, Key=key(f"case#{c}", "state"))
    compared = comparison(store, live)
    # between compare and repair: a hotline member closes A and the projector writes it
    closing = Metadata(command_id="close-a", actor="hotline", correlation_id="close-a")
    Intake(store).close(a, CloseIn(reason="care found", at="2026-11-02T08:00:00Z"), closing)
    assert Projector(store, live).project(f"case-{a}", len(store.load(f"case-{a}"))) == "written"

    done = repair(compared, live)

    assert done.skipped == [(f"case#{a}", "state")]  # the projector's newer rows stay
    assert live.get(f"case#{a}", "state")["case"]["status"] == "closed"
    assert (f"case#{c}", "state") in done.put
    assert comparison(store, live).differences == []


def test_the_command_prints_each_difference_and_logs_the_repair(aws, projected, capsys):
    a = projected.cases["A"]
    wiring = Wiring(client=aws.client)
    assert main(["compare"], wiring) == 0
    assert capsys.readouterr().out.startswith("0 differences in 0 rows")
    damage(aws, a)

    assert main(["compare"], wiring) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == [
        f'changed  case#{a}/state  case.status  live: "closed"  rebuilt: "emergency"',
        f"changed  case#{a}/state  version  live: 1  rebuilt: {len(aws.store().load(f'case-{a}'))}",
        "extra    case#ghost/queue#open",
        f"missing  month#2026-11/case#{a}",
    ]
    assert lines[4].startswith("4 differences in 3 rows")

    assert main(["repair", "--actor", "ops:7f3a"], wiring) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == "put 2 rows, deleted 1, left 0 to the projector"
    [logged] = [json.loads(line) for line in err.splitlines()]
    assert logged["message"] == "read model repaired from the log"
    assert logged["repair"]["actor"] == "ops:7f3a" and logged["repair"]["at"]
    assert logged["repair"]["put_keys"] == [f"case#{a}/state", f"month#2026-11/case#{a}"]
    assert logged["repair"]["deleted_keys"] == ["case#ghost/queue#open"]
    assert "emergency" not in err and "Neukoelln" not in err  # keys and counts, no row content

    assert main(["compare"], wiring) == 0
    assert main(["repair", "--actor", "ops:7f3a", "--json"], wiring) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["put"] == 0


def test_the_command_names_the_field_of_a_bad_cut(aws, projected, capsys):
    wiring = Wiring(client=aws.client)
    assert main(["as-of", "--position", "100000"], wiring) == 2
    assert capsys.readouterr().err.startswith("--position: position 100000 is beyond the last event")
    assert main(["as-of", "--date", "2026-02-30"], wiring) == 2
    assert capsys.readouterr().err.startswith("--date: '2026-02-30' is not a calendar day")
