"""The hash chain on DynamoDB: each event item carries `hash` and `prev_hash`, chained in global
order through the counter item, also when writers race for the counter; the export reads the
items as stored and passes over a hole only when it is too old to be index lag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from race import run_together

from notfall.domain import case as c
from notfall.domain.commands import CallEventIn
from notfall.domain.envelope import Metadata
from notfall.store import chain
from notfall.store.dynamodb import LOG_COUNTER

NOW = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def meta(command_id: str) -> Metadata:
    return Metadata(command_id=command_id, actor="user:tester", correlation_id=f"corr-{command_id}")


def open_case(store, i: int) -> None:
    cmd = CallEventIn(
        type="started",
        call_id=f"c{i}",
        line="hotline-1",
        caller_number=f"+49 30 55500{i:02d}",
        at="2026-11-03T07:55:00Z",
    )
    routing_id = c.caller_stream(cmd.caller_number, cmd.call_id)
    routing = c.fold_routing(routing_id, store.load(routing_id))
    store.append(c.decide_call_event(cmd, routing, None, f"case{i:04d}"), meta(f"open-{i}"))


def chain_breaks(records: list[dict]) -> list[int]:
    """Positions whose hash or prev_hash does not follow from the one before."""
    prev, broken = chain.GENESIS, []
    for record in records:
        if record["prev_hash"] != prev or record["hash"] != chain.event_hash(record, prev):
            broken.append(record["position"])
        prev = record["hash"]
    return broken


def counter_item(aws) -> dict:
    key = {"stream_id": {"S": LOG_COUNTER}, "version": {"N": "0"}}
    return aws.client.get_item(TableName=aws.events_table, Key=key, ConsistentRead=True)["Item"]


def test_racing_writers_chain_every_event_to_the_one_before(aws):
    store = aws.store(lambda: NOW)
    n = 6
    # Every writer reads the counter (and its hash) before anybody commits: n - 1 of them must
    # read it again and chain onto the winner's last hash.
    outcomes = run_together(aws, n, lambda i: open_case(store, i), all_read_first=True)
    assert not [o for o in outcomes if isinstance(o, Exception)]

    records = store.read_records(0, 100).records
    assert [r["position"] for r in records] == list(range(1, 4 * n + 1))
    assert records[0]["prev_hash"] == chain.GENESIS
    assert chain_breaks(records) == []
    item = counter_item(aws)
    assert item["last_hash"]["S"] == records[-1]["hash"] and store.log_head() == (4 * n, records[-1]["hash"])
    # What the export hands out is what the item holds: the payload string as written.
    raw = next(i for i in aws.event_items() if int(i["position"]["N"]) == 1)
    assert records[0]["data"] == raw["data"]["S"] and records[0]["hash"] == raw["hash"]["S"]


def test_an_event_changed_in_the_table_no_longer_matches_its_hash(aws):
    store = aws.store(lambda: NOW)
    for i in range(2):
        open_case(store, i)
    victim = next(i for i in aws.event_items() if int(i["position"]["N"]) == 2)
    aws.client.update_item(
        TableName=aws.events_table,
        Key={"stream_id": victim["stream_id"], "version": victim["version"]},
        UpdateExpression="SET actor = :a",
        ExpressionAttributeValues={":a": {"S": "user:someone-else"}},
    )
    assert chain_breaks(store.read_records(0, 100).records) == [2]


def test_the_export_passes_a_settled_hole_but_stops_at_a_fresh_gap(aws):
    store = aws.store(lambda: NOW)
    for i in range(3):
        open_case(store, i)  # positions 1..12, recorded at NOW
    victim = next(i for i in aws.event_items() if int(i["position"]["N"]) == 3)
    aws.client.delete_item(
        TableName=aws.events_table, Key={"stream_id": victim["stream_id"], "version": victim["version"]}
    )

    fresh = store.read_records(0, 100, settled_before=NOW - timedelta(minutes=1))
    assert [r["position"] for r in fresh.records] == [1, 2] and fresh.next_position == 2
    settled = store.read_records(0, 100, settled_before=NOW + timedelta(minutes=1))
    assert [r["position"] for r in settled.records] == [1, 2, *range(4, 13)] and settled.next_position == 12
    assert [e.position for e in store.read_all(0, 100).events] == [1, 2]  # projections never skip
