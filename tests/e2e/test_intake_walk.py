"""A call opens a case, the hotline works it to an emergency: all over HTTP, through the stream."""

from __future__ import annotations

import jwt
import pytest

from infra.local.client import call

pytestmark = pytest.mark.e2e

MONTH = "2031-02"  # a month no other e2e test touches, so its hours are this test's alone


def call_event(type_: str, call_id: str, caller: str, at: str, **extra) -> dict:
    return {"type": type_, "call_id": call_id, "line": "hotline-1", "caller_number": caller, "at": at, **extra}


def test_a_call_opens_a_case_that_the_projection_shows(api, stack, caller, call_id):
    status, opened = api.post("/calls/events", call_event("started", call_id, caller, "2026-11-02T08:00:00Z"))
    assert status == 201, opened
    assert opened["opened"] is True and opened["case_id"]

    stack.drain()
    status, case = api.get(f"/cases/{opened['case_id']}")
    assert status == 200, case
    assert case["status"] == "open"
    assert [c["call_id"] for c in case["calls"]] == [call_id]
    assert case["calls"][0]["started_at"] == "2026-11-02T08:00:00Z"


def test_the_whole_intake_walk_ends_in_an_emergency(api, stack, caller, call_id):
    status, opened = api.post("/calls/events", call_event("started", call_id, caller, "2031-02-09T07:00:00Z"))
    assert status == 201, opened
    case_id = opened["case_id"]

    status, answered = api.post(
        "/calls/events", call_event("answered", call_id, caller, "2031-02-09T07:00:20Z", agent="anna")
    )
    assert (status, answered["case_id"], answered["opened"]) == (200, case_id, False)
    status, body = api.post(
        f"/cases/{case_id}/consultation",
        {"started_at": "2031-02-09T07:00:20Z", "ended_at": "2031-02-09T07:15:00Z"},
    )
    assert status == 200, body
    status, body = api.post(
        f"/cases/{case_id}/need",
        {
            "persons": [{"kind": "child", "age": 4}],
            "location": {"kind": "home"},
            "window": {"start": "2031-02-10T07:00:00Z", "expected_end": "2031-02-12T16:00:00Z"},
            "reasons": ["childcare_ill"],
            "municipality": "hannover",
        },
    )
    assert status == 200, body
    status, body = api.post(f"/cases/{case_id}/outcome", {"outcome": "care_need"})
    assert (status, body["status"]) == (200, "emergency"), body

    stack.drain()
    status, case = api.get(f"/cases/{case_id}")
    assert status == 200, case
    assert case["status"] == "emergency"
    assert case["outcome"] == "care_need"
    assert case["calls"][0]["agent"] == "anna"
    assert case["need"]["municipality"] == "hannover"

    status, queue = api.get("/cases")
    assert status == 200
    assert {"case_id": case_id, "status": "emergency"}.items() <= next(
        c for c in queue["cases"] if c["case_id"] == case_id
    ).items()

    status, hours = api.get(f"/hours/{MONTH}")
    assert status == 200, hours
    assert hours["cases"] == 1 and hours["requested_minutes"] > 0

    # The stage prefix of the template's API works as well as the root.
    status, staged = api.get(f"/v1/cases/{case_id}")
    assert (status, staged["version"]) == (200, case["version"])

    # The verified token names the actor on the events: the person's subject, the phone system's client.
    status, page = api.get("/audit/events?limit=1000")
    actors = {e["event_type"]: e["actor"] for e in page["events"] if e["stream_id"] == f"case-{case_id}"}
    hotline = jwt.decode(api.tokens.token("hotline"), options={"verify_signature": False})
    assert actors["ConsultationRecorded"] == f"user:{hotline['sub']}"
    assert actors["CaseOpened"] == f"client:{stack.describe_auth()['machine_client_id']}"


def test_bad_input_answers_422_naming_the_fields_and_writes_nothing(api, caller, call_id):
    before = api.audit_count()

    status, body = api.post(
        "/calls/events",
        {
            "type": "answered",
            "call_id": call_id,
            "line": "hotline-1",
            "caller_number": "not a number",
            "at": "2026-11-02T08:00:00",
        },
    )
    assert status == 422, body
    fields = {e["field"] for e in body["errors"]}
    assert {"caller_number", "agent", "at"} <= fields

    status, body = api.post(
        "/cases/abc123/need",
        {
            "persons": [{"kind": "child", "age": 15}],
            "location": {"kind": "elsewhere"},
            "window": {"start": "2026-11-02T08:00:00Z", "expected_end": "2026-11-01T08:00:00Z"},
            "reasons": [],
            "municipality": "hannover",
        },
    )
    assert status == 422, body
    assert {"persons[0].age", "location.address", "window.expected_end", "reasons"} <= {
        e["field"] for e in body["errors"]
    }

    status, body = api.post("/calls/events", b"{not json")
    assert status == 400, body

    assert api.audit_count() == before


def test_unknown_routes_answer_404_json(api):
    for method, path in (("GET", "/nowhere"), ("DELETE", "/cases"), ("GET", "/v1/nowhere")):
        status, body = call(method, api.url + path)
        assert status == 404, (method, path, body)
        assert body["errors"] == [{"field": "path", "problem": "unknown route"}]
        assert method in body["message"]
