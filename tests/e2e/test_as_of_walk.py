"""An auditor's walk over HTTP through the local stack: the open cases as of a past position and
as of today, rebuilt from the log (GET /audit/as-of); a bad day names its field; the route is
for auditors only; rebuild against live shows no difference on the healthy stack, and each
difference after a row is changed by hand in moto's DynamoDB (then put back)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import boto3
import pytest

from notfall.domain.hours import BERLIN

pytestmark = pytest.mark.e2e

# Older than any other case of the session: the queue lists oldest first, so a long queue never hides it.
LONG_AGO = "2000-01-03T08:00:00Z"


def open_ids(api, query: str) -> list[str]:
    status, body = api.get(f"/audit/as-of?view=open-cases&limit=500&{query}")
    assert status == 200, body
    return [c["case_id"] for c in body["cases"]]


def test_an_auditor_sees_the_open_cases_as_of_a_position_and_a_day(api, stack, caller, call_id):
    earlier = {"type": "started", "call_id": f"{call_id}-0", "line": "hotline-1", "caller_number": None, "at": LONG_AGO}
    assert api.post("/calls/events", earlier)[0] == 201  # so that the log has a past even in a fresh session
    before = api.audit_count()
    status, opened = api.post(
        "/calls/events",
        {"type": "started", "call_id": call_id, "line": "hotline-1", "caller_number": caller, "at": LONG_AGO},
    )
    assert status == 201, opened
    case_id = opened["case_id"]
    stack.drain()
    after = api.audit_count()
    _, page = api.get(f"/audit/events?after={after - 1}&limit=1")
    today = datetime.fromisoformat(page["events"][0]["recorded_at"]).astimezone(BERLIN).date()

    assert case_id in [c["case_id"] for c in api.get("/cases?limit=500")[1]["cases"]]  # the live queue
    assert case_id not in open_ids(api, f"position={before}")
    assert case_id in open_ids(api, f"position={after}")
    assert case_id in open_ids(api, f"date={today}")

    status, body = api.get(f"/audit/as-of?view=open-cases&date={today + timedelta(days=1)}")
    assert status == 422 and body["errors"][0]["field"] == "query.date", body
    status, body = api.get(f"/audit/as-of?view=open-cases&position={after + 1000}")
    assert status == 422 and body["errors"][0]["field"] == "query.position", body
    status, body = api.get(f"/audit/as-of?view=open-cases&date={today}", as_="hotline")
    assert status == 403, body


def test_rebuild_against_live_shows_each_row_changed_by_hand(api, stack, caller, call_id):
    status, opened = api.post(
        "/calls/events",
        {"type": "started", "call_id": call_id, "line": "hotline-1", "caller_number": caller, "at": LONG_AGO},
    )
    assert status == 201, opened
    status, report = api.post("/_local/rebuild-check")
    assert (status, report["differing"]) == (200, [])

    db = boto3.client("dynamodb", endpoint_url=stack.endpoint, region_name="eu-central-1")
    table = stack.resources.refs["ReadModelTable"]
    key = {"pk": {"S": f"case#{opened['case_id']}"}, "sk": {"S": "state"}}
    item = db.get_item(TableName=table, Key=key)["Item"]
    body = json.loads(item["body"]["S"])
    body["case"]["status"] = "closed"
    db.put_item(TableName=table, Item={**item, "body": {"S": json.dumps(body, sort_keys=True)}})
    try:
        status, report = api.post("/_local/rebuild-check")
        assert status == 200 and report["differing"] == [f"case#{opened['case_id']}/state"]
        assert report["differences"] == 1
    finally:
        db.put_item(TableName=table, Item=item)  # the session's other tests expect a healthy stack
    assert api.post("/_local/rebuild-check")[1]["differing"] == []
