"""Rebuild and audit on DynamoDB: the log alone gives the live read model, and the audit
Lambda (functions/audit/app.py) checks and shows that log.

Proves: after a realistic day (cases by call and voicemail, consultation, a care need over
a Berlin month boundary, outcomes, partners) projected through the stream handler,
`rebuild` into an empty second table yields exactly the live table, also when the log is
read over several GlobalOrder index pages; `replay_check.compare` finds no difference, and
after a live row is corrupted or lost it names exactly those rows; the nightly
`replay_check_handler`, invoked with the sample Scheduler event, returns that report; GET
/audit/events pages through the whole log in global order with `after`/`limit`.
"""

from __future__ import annotations

import json

import pytest

import notfall.store.dynamodb as dynamodb_store
from notfall.projection.projector import rebuild
from notfall.projection.replay_check import compare, comparison


@pytest.fixture
def small_log_pages(monkeypatch):
    """Index pages of 4 positions, so the scenario's log spans many of them."""
    monkeypatch.setattr(dynamodb_store, "LOG_PAGE_SIZE", 4)


@pytest.fixture
def projected(aws, scenario, lambda_context):
    """The scenario, projected live through the projector Lambda."""
    fn = aws.load_function("projector")
    for batch in aws.batches():
        assert fn.handler(batch, lambda_context) == {"batchItemFailures": []}
    return scenario


def corrupt(aws, pk: str, sk: str, **changes) -> None:
    key = {"pk": {"S": pk}, "sk": {"S": sk}}
    item = aws.client.get_item(TableName=aws.read_model_table, Key=key)["Item"]
    body = json.loads(item["body"]["S"])
    body.update(changes)
    item["body"] = {"S": json.dumps(body, sort_keys=True)}
    aws.client.put_item(TableName=aws.read_model_table, Item=item)


def test_rebuild_into_an_empty_table_equals_live(small_log_pages, aws, projected):
    items = aws.event_items()
    assert len({int(i["log_page"]["N"]) for i in items}) > 5  # the log spans many index pages
    live = aws.readmodel().dump()
    rebuilt_table = aws.create_table("ReadModelTable", "notfall-ReadModel-rebuilt")

    stats = rebuild(aws.store(), aws.readmodel(rebuilt_table), page_size=7)

    streams = {i["stream_id"]["S"] for i in items}
    projected_streams = {s for s in streams if s.startswith(("case-", "partner-"))}
    assert (stats["events"], stats["streams"], stats["projected"]) == (len(items), len(streams), len(projected_streams))
    assert aws.readmodel(rebuilt_table).dump() == live
    kinds = {r["pk"].split("#")[0] for r in live}
    assert kinds >= {"case", "month", "family", "partner", "partners"}


def test_replay_check_compare_finds_no_difference_then_the_corrupted_rows(aws, projected):
    store, live = aws.store(), aws.readmodel()
    rows = live.dump()
    report = compare(store, live)
    assert report["differing"] == []
    assert report["rows"] == len(rows) and report["events"] == len(aws.event_items())

    a = projected.cases["A"]
    corrupt(aws, f"case#{a}", "state", version=1)
    aws.client.delete_item(TableName=aws.read_model_table, Key={"pk": {"S": "month#2026-11"}, "sk": {"S": f"case#{a}"}})
    aws.client.put_item(
        TableName=aws.read_model_table,
        Item={
            "pk": {"S": "case#ghost"},
            "sk": {"S": "state"},
            "body": {"S": json.dumps({"pk": "case#ghost", "sk": "state", "version": 1})},
        },
    )

    report = compare(store, live)
    assert report["differing"] == sorted([f"case#{a}/state", f"month#2026-11/case#{a}", "case#ghost/state"])


def test_nightly_replay_check_handler(aws, projected, schedule_event, lambda_context):
    assert schedule_event["detail-type"] == "Scheduled Event" and schedule_event["source"] == "aws.scheduler"
    audit = aws.load_function("audit")

    report = audit.replay_check_handler(schedule_event, lambda_context)

    assert report == compare(aws.store(), aws.readmodel())
    assert report["differing"] == [] and report["events"] == len(aws.event_items()) > 0
    b = projected.cases["B"]
    corrupt(aws, f"case#{b}", "state", case={"status": "open"})
    drifted = audit.replay_check_handler(schedule_event, lambda_context)
    assert drifted["differing"] == [f"case#{b}/state"]
    # the `case` object replaced by {"status": "open"}: each of its other fields is missing live
    fields = [d.field for d in comparison(aws.store(), aws.readmodel()).differences]
    assert drifted["differences"] == len(fields) > 1 and all(f.startswith("case.") for f in fields)
    assert "open" not in json.dumps(drifted)  # counted and keyed; the values never logged


def test_audit_history_pages_in_global_order(aws, projected, api_event, lambda_context):
    audit = aws.load_function("audit")
    store_records = [e.to_record() for e in aws.store().read_all(0, 1000).events]
    total = len(store_records)
    assert [r["position"] for r in store_records] == list(range(1, total + 1))

    def get(query):
        response = audit.handler(api_event("GET", "/audit/events", query), lambda_context)
        return response["statusCode"], json.loads(response["body"])

    seen, after, pages = [], 0, 0
    while True:
        status, body = get({"after": str(after), "limit": "4"})
        assert status == 200
        pages += 1
        seen += body["events"]
        assert len(body["events"]) <= 4
        assert body["complete"] is (len(body["events"]) < 4)
        if body["complete"]:
            break
        assert body["next_after"] == body["events"][-1]["position"]
        after = body["next_after"]
    assert body["next_after"] == total
    assert seen == store_records  # every event once, in order, as stored
    assert pages == total // 4 + 1
    assert {r["event_type"] for r in seen} >= {
        "CaseOpened",
        "VoicemailLeft",
        "NeedClarified",
        "CaseClosed",
        "PartnerRegistered",
        "CallRouted",
    }

    status, body = get({"after": str(total - 2)})  # the default limit
    assert status == 200 and [r["position"] for r in body["events"]] == [total - 1, total]
    status, body = get({"limit": "0"})
    assert status == 422 and body["errors"][0]["field"] == "query.limit"
