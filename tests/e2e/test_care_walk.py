"""From a call to the volunteer's expense statement, over HTTP through the local stack: the
README's walk-through. Then the sweep flags a need nobody can take, and the demand report
shows it."""

from __future__ import annotations

import csv
import io
import urllib.request
import uuid
from datetime import datetime, timedelta

import pytest

from notfall.domain.hours import month_of

pytestmark = pytest.mark.e2e

MONTH = "2025-06"  # a month no other e2e test touches: its hours and statement are this walk's alone


def ok(reply: tuple[int, object], status: int = 200):
    got, body = reply
    assert got == status, body
    return body


def emergency(api, caller: str, call_id: str, window: tuple[str, str]) -> str:
    opened = ok(
        api.post(
            "/calls/events",
            {
                "type": "started",
                "call_id": call_id,
                "line": "hotline-1",
                "caller_number": caller,
                "at": "2025-06-09T16:00:00Z",
            },
        ),
        201,
    )
    case_id = opened["case_id"]
    ok(
        api.post(
            f"/cases/{case_id}/consultation",
            {"started_at": "2025-06-09T16:00:30Z", "ended_at": "2025-06-09T16:12:00Z"},
        )
    )
    ok(
        api.post(
            f"/cases/{case_id}/need",
            {
                "persons": [{"kind": "child", "age": 2}, {"kind": "child", "age": 5}],
                "location": {"kind": "home"},
                "window": {"start": window[0], "expected_end": window[1]},
                "reasons": ["childcare_ill"],
                "municipality": "seelze",
            },
        )
    )
    ok(api.post(f"/cases/{case_id}/outcome", {"outcome": "care_need"}))
    return case_id


@pytest.fixture(autouse=True)
def _seelze_is_a_partner(seelze) -> None:
    """The walk's families live in Seelze: a partner municipality, so care is granted."""


@pytest.fixture
def caregiver(api) -> str:
    """A caregiver in Seelze, available every day 06:00-20:00 Berlin time."""
    caregiver_id = f"cg-e2e-{uuid.uuid4().hex[:6]}"
    ok(
        api.post(
            "/caregivers",
            {
                "caregiver_id": caregiver_id,
                "profile": {
                    "name": "Greta Holzapfel",
                    "qualification": "pedagogical",
                    "certificate_level": 2,
                    "age_groups": ["infant", "preschool"],
                    "home_municipality": "seelze",
                    "municipalities_served": ["seelze", "garbsen"],
                    "drives": True,
                    "offers_transport": False,
                    "police_clearance_on": "2023-01-16",
                    "first_aid_on": "2024-09-07",
                },
                "weekly": [{"weekday": d, "start": "06:00:00", "end": "20:00:00"} for d in range(7)],
            },
        ),
        201,
    )
    return caregiver_id


def test_call_to_expense_statement(api, stack, caller, call_id, caregiver):
    case_id = emergency(api, caller, call_id, ("2025-06-10T05:00:00Z", "2025-06-10T10:00:00Z"))  # 07:00-12:00
    stack.drain()

    found = ok(api.get(f"/cases/{case_id}/candidates"))
    mine = next(c for c in found["candidates"] if c["caregiver_id"] == caregiver)
    assert mine["passed"] == ["active", "qualified", "available", "free", "clearance"]
    assert {p["name"]: p["points"] for p in mine["preferences"]}["serves_municipality"] == 3

    offer = ok(api.post(f"/cases/{case_id}/offers", {"caregiver_id": caregiver}), 201)
    stack.drain()
    open_offers = ok(api.get(f"/caregivers/{caregiver}/offers"))["offers"]
    assert [o["offer_id"] for o in open_offers] == [offer["offer_id"]]
    accepted = ok(
        api.post(f"/caregivers/{caregiver}/cases/{case_id}/offers/{offer['offer_id']}/accept", as_=caregiver), 201
    )
    ok(
        api.post(f"/caregivers/{caregiver}/cases/{case_id}/check-in", {"at": "2025-06-10T05:02:00Z"}, as_=caregiver),
        201,
    )
    ok(
        api.post(
            f"/caregivers/{caregiver}/cases/{case_id}/check-out",
            {"at": "2025-06-10T09:32:00Z", "travel_km": 8.5},
            as_=caregiver,
        )
    )
    stack.drain()

    case = ok(api.get(f"/cases/{case_id}"))
    assert [(a["assignment_id"], a["caregiver_id"]) for a in case["assignments"]] == [
        (accepted["assignment_id"], caregiver)
    ]
    assert [(s["start"], s["end"], s["source"]) for s in case["sessions"]] == [
        ("2025-06-10T05:02:00Z", "2025-06-10T09:32:00Z", "check-in")
    ]
    assert case["hours"]["cared_minutes_by_month"] == {MONTH: 270}
    hours = ok(api.get(f"/hours/{MONTH}"))
    assert (hours["cared_minutes"], hours["cared_hours"]) == (270, "4.50")
    assert ok(api.get(f"/caregivers/{caregiver}/hours"))["months"][0]["cared_minutes"] == 270

    statement = ok(api.get(f"/caregivers/{caregiver}/statements/{MONTH}"))
    # allowance 10.00 EUR for the assignment + 8.5 km x 0.30 EUR
    totals = statement["totals"]
    assert (
        totals["sessions"],
        totals["cared_hours"],
        totals["travel_cents"],
        totals["allowance_cents"],
        totals["amount_cents"],
    ) == (1, "4.50", 255, 1000, 1255)
    request = urllib.request.Request(
        f"{api.url}/caregivers/{caregiver}/statements/{MONTH}",
        headers={"Accept": "text/csv", "Authorization": api.token(caregiver)},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="notfall-statement-{caregiver}-{MONTH}.csv"'
        )
        lines = list(csv.reader(io.StringIO(response.read().decode("utf-8")), delimiter=";"))
    assert lines[-1] == ["total", "1", "4,50", "8,5", "2,55", "10,00", "12,55"]


def test_only_the_offers_caregiver_accepts_it_another_caregiver_gets_403(api, stack, caller, call_id, caregiver):
    case_id = emergency(api, caller, call_id, ("2025-06-12T05:00:00Z", "2025-06-12T07:00:00Z"))
    offer = ok(api.post(f"/cases/{case_id}/offers", {"caregiver_id": caregiver}), 201)
    stack.drain()
    before = api.audit_count()
    accept = f"/caregivers/{caregiver}/cases/{case_id}/offers/{offer['offer_id']}/accept"

    status, refused = api.post(accept, as_=f"cg-e2e-other-{uuid.uuid4().hex[:6]}")  # a caregiver, not this one
    assert status == 403, refused
    assert refused["errors"][0]["problem"]
    stack.drain()
    assert api.audit_count() == before  # nothing written

    accepted = ok(api.post(accept, as_=caregiver), 201)
    stack.drain()
    case = ok(api.get(f"/cases/{case_id}"))
    assert [(a["assignment_id"], a["caregiver_id"]) for a in case["assignments"]] == [
        (accepted["assignment_id"], caregiver)
    ]


def test_the_sweep_flags_a_need_nobody_can_take(api, stack, caller, call_id, caregiver, monkeypatch):
    # 02:30-04:30 at night: nobody in the register is available then
    night = emergency(api, caller, call_id, ("2025-06-11T00:30:00Z", "2025-06-11T02:30:00Z"))
    stack.drain()
    assert "not available for the whole window" in ok(api.get(f"/cases/{night}/candidates"))["why_none"]

    # The sweep runs as if two hours had passed since the need was recorded: past its 90-minute target time.
    later = datetime.fromisoformat(ok(api.get(f"/cases/{night}"))["need_at"]) + timedelta(hours=2)
    monkeypatch.setattr(stack.functions["SweepFunction"].module.care, "clock", lambda: later)
    fired = ok(api.post("/_local/schedules/SweepUnassigned", b""))
    assert fired["result"]["needs_flagged_unfilled"] >= 1 and fired["result"]["failed"] == []
    stack.drain()

    case = ok(api.get(f"/cases/{night}"))
    assert "take this need" in case["unfilled"]["reason"]
    assert "not available for the whole window" in case["unfilled"]["reason"]
    month = month_of(datetime.fromisoformat(case["need_at"]))  # needs count in the month they were recorded
    report = ok(api.get(f"/reports/demand?from={month}&to={month}&by=unfilled_reason"))
    group = next(g for g in report["groups"] if g["key"] == case["unfilled"]["reason"])
    assert group["unfilled"] >= 1 and report["total"]["unfilled"] >= 1
    by_place = ok(api.get(f"/reports/demand?from={month}&to={month}&by=municipality"))
    assert next(g for g in by_place["groups"] if g["key"] == "seelze")["unfilled"] >= 1

    # a second sweep records nothing twice
    again = ok(api.post("/_local/schedules/SweepUnassigned", b""))
    assert again["result"]["needs_flagged_unfilled"] == 0
