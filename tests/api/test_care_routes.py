# Proves every care, caregiver and report route through the assign function's resolver: good paths, and every
# class of bad input answering 4xx with the field named and nothing written.
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from api_harness import Api, person_claims, sample, sample_body, signed_in

from notfall.app.care import Care
from notfall.app.sweep import sweep
from notfall.domain.case import fold_case
from notfall.domain.hours import month_of
from notfall.settings import CareSettings

# Every emergency here has the sample need, whose employer is the partner company of the samples.
pytestmark = pytest.mark.usefixtures("sample_employer")

CG = "cg-sommer"  # the caregiver of the samples
STAFF_SUB = "4c2e8a61-93b7-4d05-a1f8-6e0d2b9c7a54"  # Cognito subjects of a staff member and of that caregiver
CG_SUB = "b81f0d3e-27c4-4a96-8e5b-f3a2c7d91e08"
OTHER = "cg-yilmaz"
EXPIRED = "cg-abgelaufen"  # first-aid course too old
UNKNOWN_CASE = "0123456789ab"


# --- helpers ----------------------------------------------------------------------------


def profile(**changes: Any) -> dict[str, Any]:
    return {**sample_body("caregiver_register")["profile"], **changes}


def register(assign_api: Api, caregiver_id: str, **changes: Any) -> None:
    body = {**sample_body("caregiver_register"), "caregiver_id": caregiver_id, "profile": profile(**changes)}
    reply = assign_api.call("caregiver_register", body=body)
    assert reply.status == 201, reply.body


def emergency(api: Api, caller: str = "+49 511 76023145", **need: Any) -> str:
    """A case worked to an emergency with the sample need (Laatzen, two children, 3 March 2026, 06:30-11:00)."""
    call = {**sample_body("call_started"), "caller_number": caller, "call_id": "pbx-" + caller[-7:]}
    case_id = api.open_case(body=call)
    for name, body in (("need", {**sample_body("need"), **need}), ("outcome_care_need", None)):
        reply = api.call(name, case_id=case_id, **({"body": body} if body else {}))
        assert reply.status == 200, reply.body
    return case_id


def ok(reply, status: int = 200) -> dict[str, Any]:
    assert reply.status == status, reply.body
    return reply.body


def case_state(api: Api, case_id: str):
    return fold_case(api.store.load(f"case-{case_id}"))


@pytest.fixture
def cared(api: Api, assign_api: Api) -> dict[str, str]:
    """An emergency with cg-sommer assigned; cg-yilmaz and an expired caregiver registered too."""
    register(assign_api, CG)
    register(assign_api, OTHER, name="Deniz Yilmaz", home_municipality="hannover", drives=False, offers_transport=False)
    register(assign_api, EXPIRED, name="Jonas Abendroth", first_aid_on="2023-06-01")
    case_id = emergency(api)
    ok(assign_api.call("assign", case_id=case_id), 201)
    assign_api.project()
    return {"case_id": case_id}


# --- the register -----------------------------------------------------------------------


def test_register_list_get_and_change_a_caregiver(assign_api: Api) -> None:
    assert ok(assign_api.call("caregiver_register"), 201) == {"caregiver_id": CG, "version": 2}
    register(assign_api, "cg-paused", name="Ruth Pausewang")
    ok(assign_api.call("caregiver_status", path_params={"caregiver_id": "cg-paused"}))
    assign_api.project()

    listed = ok(assign_api.call("caregivers"))["caregivers"]  # the sample asks for active ones
    assert [c["caregiver_id"] for c in listed] == [CG]
    assert {"name", "status", "qualification", "age_groups", "municipalities_served"} <= listed[0].keys()
    assert "caregiver" not in listed[0]  # the list shows summaries, not whole calendars
    every = ok(assign_api.call("caregivers", query={"municipality": "laatzen"}))["caregivers"]
    assert [c["caregiver_id"] for c in every] == ["cg-paused", CG]
    assert ok(assign_api.call("caregivers", query={"municipality": "seelze"}))["caregivers"] == []

    one = ok(assign_api.call("caregiver"))
    assert one["profile"]["name"] == "Petra Sommerfeld" and one["status"] == "active"
    assert len(one["weekly"]) == 6 and one["clearance_problems"] == [] and one["families_known"] == 0

    assert ok(assign_api.call("caregiver_profile"))["version"] == 3
    staff, volunteer = person_claims(STAFF_SUB, "hotline"), person_claims(CG_SUB, "caregiver", caregiver_id=CG)
    assert ok(assign_api.send(signed_in(sample("caregiver_training"), staff)), 201)["version"] == 4
    assert ok(assign_api.call("caregiver_weekly"))["version"] == 5
    assert ok(assign_api.send(signed_in(sample("caregiver_one_off"), volunteer)), 201)["version"] == 6
    assert ok(assign_api.call("caregiver_one_off_withdraw"))["version"] == 7
    assign_api.project()
    one = ok(assign_api.call("caregiver"))
    assert "garbsen" in one["profile"]["municipalities_served"]
    assert one["training_days"] == "1.0" and len(one["weekly"]) == 7 and one["one_offs"] == []
    events = [e.event_type for e in assign_api.log() if e.stream_id == f"caregiver-{CG}"]
    assert events == [
        "CaregiverRegistered",
        "WeeklyAvailabilitySet",
        "CaregiverProfileChanged",
        "TrainingAttended",
        "WeeklyAvailabilitySet",
        "OneOffAvailabilityAdded",
        "OneOffAvailabilityWithdrawn",
    ]
    # the actor: the signed-in person (staff for the register, the caregiver for availability)
    actors = {e.event_type: e.actor for e in assign_api.log() if e.stream_id == f"caregiver-{CG}"}
    assert actors["TrainingAttended"] == f"user:{STAFF_SUB}"
    assert actors["OneOffAvailabilityAdded"] == f"user:{CG_SUB}"


def test_a_retried_registration_answers_the_same_and_writes_once(assign_api: Api) -> None:
    before = assign_api.log_length()
    first = assign_api.call("caregiver_register", headers={"Idempotency-Key": "reg-1"})
    again = assign_api.call("caregiver_register", headers={"Idempotency-Key": "reg-1"})
    assert (first.status, again.status, again.body) == (201, 201, first.body)
    assert assign_api.log_length() == before + 2


# --- matching, offers, assignments ------------------------------------------------------


def test_candidates_rank_who_can_take_the_need_and_say_why_not(api: Api, assign_api: Api) -> None:
    register(assign_api, CG)
    register(assign_api, OTHER, name="Deniz Yilmaz", home_municipality="seelze", municipalities_served=["seelze"])
    register(assign_api, EXPIRED, name="Jonas Abendroth", first_aid_on="2023-06-01")
    register(
        assign_api,
        "cg-pflege",
        name="Heike Brunnmann",
        qualification="nursing",
        age_groups=["adult"],
        offers_transport=False,
    )
    case_id = emergency(api)
    assign_api.project()

    found = ok(assign_api.call("candidates", case_id=case_id))
    assert found["case_id"] == case_id and found["age_groups"] == ["preschool", "school"]
    assert found["window"] == {"start": "2026-03-03T05:30:00Z", "expected_end": "2026-03-03T10:00:00Z"}
    assert [(c["caregiver_id"], c["score"]) for c in found["candidates"]] == [(CG, 5), (OTHER, 2)]
    best = found["candidates"][0]
    assert best["passed"] == ["active", "qualified", "available", "free", "clearance"]
    assert {p["name"]: p["points"] for p in best["preferences"]} == {
        "serves_municipality": 3,
        "known_to_family": 0,
        "fair_spread": 2,
    }
    assert best["recent_hours"] == "0.00"
    rejected = {r["caregiver_id"]: r for r in found["rejected"]}
    assert rejected[EXPIRED]["failed"] == ["clearance"]
    assert rejected[EXPIRED]["reasons"] == ["first-aid course expired on 2025-06-01"]
    assert rejected["cg-pflege"]["failed"] == ["qualified"]
    assert found["why_none"] is None


def test_offer_decline_offer_accept(api: Api, assign_api: Api) -> None:
    register(assign_api, CG)
    case_id = emergency(api)
    first = ok(assign_api.call("offer", case_id=case_id), 201)
    assert first["expires_at"] and first["version"] == case_state(api, case_id).version
    assign_api.project()
    offers = ok(assign_api.call("caregiver_offers"))["offers"]
    assert [(o["offer_id"], o["status"], o["municipality"]) for o in offers] == [(first["offer_id"], "open", "laatzen")]

    declined = assign_api.call("offer_decline", case_id=case_id, path_params={"offer_id": first["offer_id"]})
    ok(declined)
    # a decline needs no reason
    second = ok(assign_api.call("offer", case_id=case_id), 201)
    ok(assign_api.call("offer_decline", case_id=case_id, path_params={"offer_id": second["offer_id"]}, body=None))
    third = ok(assign_api.call("offer", case_id=case_id), 201)
    accepted = ok(assign_api.call("offer_accept", case_id=case_id, path_params={"offer_id": third["offer_id"]}), 201)
    assert accepted["caregiver_id"] == CG and accepted["assignment_id"]

    assign_api.project()
    assert ok(assign_api.call("caregiver_offers"))["offers"] == []
    every = ok(assign_api.call("caregiver_offers", query={"status": "all"}))["offers"]
    assert sorted(o["status"] for o in every) == ["accepted", "declined", "declined"]
    assignments = ok(assign_api.call("caregiver_assignments"))["assignments"]
    assert [(a["case_id"], a["active"]) for a in assignments] == [(case_id, True)]
    case = case_state(api, case_id)
    assert case.active_assignment.caregiver_id == CG and case.active_assignment.offer_id == third["offer_id"]
    # the caregiver's calendar holds the booking: written in the same command
    assert [e.event_type for e in assign_api.log() if e.stream_id == f"caregiver-{CG}"][-1] == "BookingMade"


def test_assign_reassign_cancel(api: Api, assign_api: Api) -> None:
    register(assign_api, CG)
    register(assign_api, OTHER, name="Deniz Yilmaz")
    case_id = emergency(api)
    assigned = ok(assign_api.call("assign", case_id=case_id), 201)
    version = case_state(api, case_id).version
    moved = ok(assign_api.call("reassign", case_id=case_id, headers={"If-Match": str(version)}), 201)
    assert moved["caregiver_id"] == OTHER and moved["assignment_id"] != assigned["assignment_id"]
    cancelled = ok(assign_api.call("cancel_assignment", case_id=case_id))
    assert cancelled["cancelled"] == moved["assignment_id"]
    case = case_state(api, case_id)
    assert case.active_assignment is None
    assert [(a.caregiver_id, a.cancelled_by) for a in case.assignments] == [(CG, "caregiver"), (OTHER, "family")]
    assign_api.project()
    assert (
        ok(assign_api.call("caregiver_assignments", query={"active": "false"}))["assignments"][0]["cancelled_by"]
        == "caregiver"
    )


# --- sessions, hours, statements ----------------------------------------------------------


def test_sessions_check_in_out_hours_and_statement(api: Api, assign_api: Api, cared: dict[str, str]) -> None:
    case_id = cared["case_id"]
    checked_in = ok(assign_api.call("check_in", case_id=case_id), 201)
    checked_out = ok(assign_api.call("check_out", case_id=case_id))
    assert checked_out["session_id"] == checked_in["session_id"]
    # staff record an afternoon session and correct it; a third one was a mistake
    afternoon = {
        **sample_body("session"),
        "start": "2026-03-03T12:00:00+01:00",
        "end": "2026-03-03T14:00:00+01:00",
        "travel_km": 4,
    }
    recorded = ok(assign_api.call("session", case_id=case_id, body=afternoon), 201)
    correction = {
        **sample_body("session_correction"),
        "start": "2026-03-03T12:00:00+01:00",
        "end": "2026-03-03T13:30:00+01:00",
        "travel_km": 4,
    }
    ok(
        assign_api.call(
            "session_correction", case_id=case_id, path_params={"session_id": recorded["session_id"]}, body=correction
        )
    )
    evening = {**afternoon, "start": "2026-03-03T18:00:00+01:00", "end": "2026-03-03T19:00:00+01:00"}
    mistake = ok(assign_api.call("session", case_id=case_id, body=evening), 201)
    ok(assign_api.call("session_void", case_id=case_id, path_params={"session_id": mistake["session_id"]}))
    assign_api.project()

    case = ok(api.call("get_case", case_id=case_id))
    assert [(s["source"], s["voided"]) for s in case["sessions"]] == [
        ("check-in", False),
        ("staff", False),
        ("staff", True),
    ]
    # 06:28-11:05 and 12:00-13:30 Berlin: 277 + 90 minutes
    assert ok(api.call("month_hours", path_params={"month": "2026-03"}))["cared_minutes"] == 367
    months = ok(assign_api.call("caregiver_hours"))["months"]
    assert months == [
        {
            "month": "2026-03",
            "cases": 1,
            "sessions": 2,
            "cared_minutes": 367,
            "cared_hours": "6.12",
            "travel_km": "16.5",
            "travel_cents": 495,
            "allowance_cents": 1000,
            "expenses_cents": 1495,
        }
    ]

    statement = ok(assign_api.call("caregiver_statement"))
    assert statement["totals"]["amount_cents"] == 1495 and statement["lines"][0]["case_id"] == case_id
    for changes in ({"query": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}):
        reply = assign_api.call("caregiver_statement", **changes)
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert reply.headers["Content-Disposition"] == (
            'attachment; filename="notfall-statement-cg-sommer-2026-03.csv"'
        )
        lines = list(csv.reader(io.StringIO(reply.body), delimiter=";"))
        assert lines[0][0] == "case_id" and lines[-1] == ["total", "2", "6,12", "16,5", "4,95", "10,00", "14,95"]
    # ?format=json wins over an Accept header asking for CSV
    reply = assign_api.call("caregiver_statement", query={"format": "json"}, headers={"Accept": "text/csv"})
    assert reply.headers["Content-Type"] == "application/json" and reply.body == statement


# --- transport and reports --------------------------------------------------------------


def test_transports_and_their_report(api: Api, assign_api: Api, cared: dict[str, str]) -> None:
    case_id = cared["case_id"]
    done = ok(assign_api.call("transport", case_id=case_id), 201)
    assert done["price_cents"] == 800
    ok(assign_api.call("transport_done", case_id=case_id, path_params={"transport_id": done["transport_id"]}))
    dropped = ok(assign_api.call("transport", case_id=case_id), 201)
    ok(assign_api.call("transport_cancel", case_id=case_id, path_params={"transport_id": dropped["transport_id"]}))
    ok(assign_api.call("transport", case_id=case_id, body={**sample_body("transport"), "driver_id": None}), 201)
    assign_api.project()
    report = ok(assign_api.call("report_transports"))
    assert report == {
        "month": "2026-03",
        "count": 3,
        "booked": 1,
        "done": 1,
        "cancelled": 1,
        "price_total_cents": 1600,
        "done_price_cents": 800,
        "persons": 4,
    }
    assert ok(assign_api.call("report_transports", path_params={"month": "2026-04"}))["count"] == 0


def test_demand_report_groups_the_needs(api: Api, assign_api: Api, cared: dict[str, str]) -> None:
    emergency(api, caller="+49 5131 4471122", municipality="garbsen")
    assign_api.project()
    month = month_of(case_state(api, cared["case_id"]).need_at)  # a need counts in the Berlin month recorded
    for by in ("municipality", "weekday", "hour", "age_group", "reason", "unfilled_reason"):
        report = ok(assign_api.call("report_demand", query={"from": month, "to": month, "by": by}))
        assert report["by"] == by and report["total"]["needs"] == 2 and report["total"]["filled"] == 1
    report = ok(assign_api.call("report_demand", query={"from": month, "to": month}))
    assert {g["key"]: g["needs"] for g in report["groups"]} == {"garbsen": 1, "laatzen": 1}


# --- If-Match, retries --------------------------------------------------------------------


def test_if_match_guards_case_commands_and_a_retry_gets_the_first_answer(api: Api, assign_api: Api) -> None:
    register(assign_api, CG)
    case_id = emergency(api)
    version = case_state(api, case_id).version
    first = assign_api.call("offer", case_id=case_id, headers={"If-Match": str(version), "Idempotency-Key": "o-1"})
    assert first.status == 201
    # the same command again: the case moved on, but the retry answers as the first time
    again = assign_api.call("offer", case_id=case_id, headers={"If-Match": str(version), "Idempotency-Key": "o-1"})
    assert (again.status, again.body) == (201, first.body)
    stale = assign_api.call("assign", case_id=case_id, headers={"If-Match": str(version)})
    assert (stale.status, stale.fields()) == (409, ["header.If-Match"])


# --- bad input ----------------------------------------------------------------------------

Build = Callable[[dict[str, str]], dict[str, Any]]


def req(
    name: str, *, body: Any = ..., params: Callable[[dict[str, str]], dict[str, str]] | None = None, **changes: Any
) -> Build:
    """The sample request aimed at the world under test (its case unless `params` says otherwise)."""

    def build(world: dict[str, str]) -> dict[str, Any]:
        path = (
            params(world)
            if params
            else {"case_id": world["case_id"]}
            if "{case_id}" in sample(name)["resource"]
            else {}
        )
        extra = {} if body is ... else {"body": body(world) if callable(body) else body}
        return sample(name, path_params=path, **extra, **changes)

    return build


def with_body(name: str, drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    return {**{k: v for k, v in sample_body(name).items() if k not in drop}, **changes}


SESSION_0630 = {"start": "2026-03-03T06:30:00+01:00", "end": "2026-03-03T08:00:00+01:00"}

# (id, request, status, fields). The world: an emergency with cg-sommer assigned and one session recorded
# 06:30-08:00; cg-yilmaz and cg-abgelaufen (expired first aid) registered; a second emergency at the same time
# (`twin`) without a caregiver; an open case (`open`) that is no emergency.
BAD = [
    # --- malformed bodies: 422 before anything is loaded
    ("offer without caregiver", req("offer", body={}), 422, ["caregiver_id"]),
    ("offer to a caregiver id with capitals", req("offer", body={"caregiver_id": "CG-Sommer"}), 422, ["caregiver_id"]),
    ("reassign by a neighbour", req("reassign", body=with_body("reassign", by="neighbour")), 422, ["by"]),
    (
        "cancel without reason",
        req("cancel_assignment", body=with_body("cancel_assignment", drop=("reason",))),
        422,
        ["reason"],
    ),
    (
        "session ends before it starts",
        req("session", body=with_body("session", start="2026-03-03T11:00:00+01:00", end="2026-03-03T10:00:00+01:00")),
        422,
        ["end"],
    ),
    ("session without zone", req("session", body=with_body("session", start="2026-03-03T06:30:00")), 422, ["start"]),
    ("session with 1000 km", req("session", body=with_body("session", travel_km=1000)), 422, ["travel_km"]),
    ("session km with two decimals", req("session", body=with_body("session", travel_km="12.25")), 422, ["travel_km"]),
    (
        "correction ends before it starts",
        req(
            "session_correction",
            body=with_body("session_correction", end="2026-03-03T06:00:00+01:00"),
            params=lambda w: {"case_id": w["case_id"], "session_id": w["session_id"]},
        ),
        422,
        ["end"],
    ),
    ("transport for seven", req("transport", body=with_body("transport", persons=7)), 422, ["persons"]),
    (
        "transport without destination",
        req("transport", body=with_body("transport", drop=("to_place",))),
        422,
        ["to_place"],
    ),
    ("check-out with negative km", req("check_out", body=with_body("check_out", travel_km=-1)), 422, ["travel_km"]),
    ("check-in time in words", req("check_in", body={"at": "gleich"}), 422, ["at"]),
    (
        "register with an unknown age group",
        req(
            "caregiver_register",
            body=with_body("caregiver_register", caregiver_id="cg-neu", profile=profile(age_groups=["teen"])),
        ),
        422,
        ["profile.age_groups[0]"],
    ),
    (
        "nursing caregiver for infants",
        req(
            "caregiver_register",
            body=with_body("caregiver_register", caregiver_id="cg-neu", profile=profile(qualification="nursing")),
        ),
        422,
        ["profile.age_groups"],
    ),
    ("transport without a car", req("caregiver_profile", body=profile(drives=False)), 422, ["offers_transport"]),
    (
        "weekly window ends before it starts",
        req("caregiver_weekly", body={"windows": [{"weekday": 0, "start": "14:00:00", "end": "06:00:00"}]}),
        422,
        ["windows[0].end"],
    ),
    (
        "weekday 7",
        req("caregiver_weekly", body={"windows": [{"weekday": 7, "start": "06:00:00", "end": "08:00:00"}]}),
        422,
        ["windows[0].weekday"],
    ),
    ("training of 0 days", req("caregiver_training", body=with_body("caregiver_training", days=0)), 422, ["days"]),
    ("unknown status", req("caregiver_status", body={"status": "retired"}), 422, ["status"]),
    ("unknown field", req("assign", body={"caregiver_id": CG, "urgent": True}), 422, ["urgent"]),
    ("body is a list", req("assign", body=[{"caregiver_id": CG}]), 422, ["body"]),
    ("body is not JSON", req("assign", body="caregiver_id=cg-sommer"), 400, ["body"]),
    # --- path and query parameters
    (
        "statement for month 13",
        req("caregiver_statement", params=lambda w: {"caregiver_id": CG, "month": "2026-13"}),
        422,
        ["path.month"],
    ),
    ("statement in pdf", req("caregiver_statement", query={"format": "pdf"}), 422, ["query.format"]),
    ("offers of an unknown status", req("caregiver_offers", query={"status": "maybe"}), 422, ["query.status"]),
    (
        "demand by colour",
        req("report_demand", query={"from": "2026-01", "to": "2026-03", "by": "colour"}),
        422,
        ["query.by"],
    ),
    ("demand without from", req("report_demand", query={"to": "2026-03"}), 422, ["query.from"]),
    ("demand to before from", req("report_demand", query={"from": "2026-03", "to": "2026-01"}), 422, ["query.to"]),
    ("demand over 25 months", req("report_demand", query={"from": "2024-01", "to": "2026-01"}), 422, ["query.to"]),
    ("transport month in words", req("report_transports", params=lambda w: {"month": "maerz"}), 422, ["path.month"]),
    (
        "caregiver id with capitals",
        req("caregiver", params=lambda w: {"caregiver_id": "Sommer"}),
        422,
        ["path.caregiver_id"],
    ),
    ("If-Match not a number", req("assign", headers={"If-Match": "neu"}), 422, ["header.If-Match"]),
    # --- the domain: the case's and the caregiver's state
    ("overlapping session", req("session", body=with_body("session", **SESSION_0630, travel_km=0)), 409, ["start"]),
    (
        "overlapping correction",
        req(
            "session_correction",
            body=with_body("session_correction", start="2026-03-03T07:00:00+01:00"),
            params=lambda w: {"case_id": w["case_id"], "session_id": w["late_session_id"]},
        ),
        409,
        ["start"],
    ),
    (
        "session of a caregiver not assigned",
        req("session", body=with_body("session", caregiver_id=OTHER)),
        409,
        ["caregiver_id"],
    ),
    ("session on a case without assignment", req("session", params=lambda w: {"case_id": w["twin"]}), 409, ["case_id"]),
    (
        "session in the future",
        req("session", body=with_body("session", start="2099-03-03T06:30:00+01:00", end="2099-03-03T08:00:00+01:00")),
        409,
        ["end"],
    ),
    (
        "check-in on a case without assignment",
        req("check_in", params=lambda w: {"caregiver_id": CG, "case_id": w["twin"]}),
        409,
        ["case_id"],
    ),
    ("check-out without check-in", req("check_out"), 409, ["at"]),
    ("caregiver assigned twice to the case", req("assign"), 409, ["caregiver_id"]),
    (
        "caregiver booked on another case at that time",
        req("assign", params=lambda w: {"case_id": w["twin"]}),
        409,
        ["caregiver_id"],
    ),
    (
        "offer to a caregiver booked at that time",
        req("offer", params=lambda w: {"case_id": w["twin"]}),
        409,
        ["caregiver_id"],
    ),
    (
        "expired clearance",
        req("assign", body={"caregiver_id": EXPIRED}, params=lambda w: {"case_id": w["twin"]}),
        409,
        ["caregiver_id"],
    ),
    (
        "reassign to the assigned caregiver",
        req("reassign", body=with_body("reassign", caregiver_id=CG)),
        409,
        ["caregiver_id"],
    ),
    (
        "cancel without an assignment",
        req("cancel_assignment", params=lambda w: {"case_id": w["twin"]}),
        409,
        ["case_id"],
    ),
    ("offer on a case that is no emergency", req("offer", params=lambda w: {"case_id": w["open"]}), 409, ["case_id"]),
    (
        "candidates of a case that is no emergency",
        req("candidates", params=lambda w: {"case_id": w["open"]}),
        409,
        ["case_id"],
    ),
    (
        "accept an offer that is not there",
        req("offer_accept", params=lambda w: {"caregiver_id": CG, "case_id": w["twin"], "offer_id": "nichtda"}),
        404,
        ["offer_id"],
    ),
    (
        "void a session twice",
        req("session_void", params=lambda w: {"case_id": w["case_id"], "session_id": w["voided"]}),
        409,
        ["session_id"],
    ),
    (
        "transport driven by a caregiver without a car",
        req("transport", body=with_body("transport", driver_id=OTHER)),
        409,
        ["driver_id"],
    ),
    ("status unchanged", req("caregiver_status", body={"status": "active"}), 409, ["status"]),
    ("register twice", req("caregiver_register"), 409, ["caregiver_id"]),
    ("withdraw a window that is not there", req("caregiver_one_off_withdraw"), 404, ["window_id"]),
    ("If-Match behind the case", req("assign", headers={"If-Match": "1"}), 409, ["header.If-Match"]),
    # --- unknown things
    ("candidates of an unknown case", req("candidates", params=lambda w: {"case_id": UNKNOWN_CASE}), 404, ["case_id"]),
    ("offer on an unknown case", req("offer", params=lambda w: {"case_id": UNKNOWN_CASE}), 404, ["case_id"]),
    (
        "offer to an unknown caregiver",
        req("offer", body={"caregiver_id": "cg-niemand"}, params=lambda w: {"case_id": w["twin"]}),
        404,
        ["caregiver_id"],
    ),
    (
        "unknown session",
        req("session_void", params=lambda w: {"case_id": w["case_id"], "session_id": "nichtda"}),
        404,
        ["session_id"],
    ),
    (
        "unknown transport",
        req("transport_done", params=lambda w: {"case_id": w["case_id"], "transport_id": "nichtda"}),
        404,
        ["transport_id"],
    ),
    ("unknown caregiver", req("caregiver", params=lambda w: {"caregiver_id": "cg-niemand"}), 404, ["caregiver_id"]),
    (
        "statement of an unknown caregiver",
        req("caregiver_statement", params=lambda w: {"caregiver_id": "cg-niemand", "month": "2026-03"}),
        404,
        ["caregiver_id"],
    ),
    (
        "profile of an unknown caregiver",
        req("caregiver_profile", params=lambda w: {"caregiver_id": "cg-niemand"}),
        404,
        ["caregiver_id"],
    ),
    ("unknown route", req("caregivers", path="/pflegekraefte"), 404, ["path"]),
]


@pytest.fixture
def world(api: Api, assign_api: Api, cared: dict[str, str]) -> dict[str, str]:
    case_id = cared["case_id"]
    session = ok(assign_api.call("session", case_id=case_id, body=with_body("session", **SESSION_0630)), 201)
    late = ok(
        assign_api.call(
            "session",
            case_id=case_id,
            body=with_body("session", start="2026-03-03T09:00:00+01:00", end="2026-03-03T10:00:00+01:00"),
        ),
        201,
    )
    voided = ok(
        assign_api.call(
            "session",
            case_id=case_id,
            body=with_body("session", start="2026-03-03T10:00:00+01:00", end="2026-03-03T10:30:00+01:00"),
        ),
        201,
    )
    ok(assign_api.call("session_void", case_id=case_id, path_params={"session_id": voided["session_id"]}))
    twin = emergency(api, caller="+49 511 4470001")
    open_case = api.open_case(
        body={**sample_body("call_started"), "caller_number": "+49 511 4470002", "call_id": "pbx-open"}
    )
    assign_api.project()
    return {
        **cared,
        "session_id": session["session_id"],
        "late_session_id": late["session_id"],
        "voided": voided["session_id"],
        "twin": twin,
        "open": open_case,
    }


@pytest.mark.parametrize(("request_for", "status", "fields"), [pytest.param(*c[1:], id=c[0]) for c in BAD])
def test_bad_request_names_the_field_and_writes_nothing(
    assign_api: Api, world: dict[str, str], request_for: Build, status: int, fields: list[str]
) -> None:
    before = assign_api.log_length()
    reply = assign_api.send(request_for(world))
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.fields() == fields, reply.body
    assert all(e["problem"] for e in reply.body["errors"]) and reply.body["message"]
    assert assign_api.log_length() == before


def test_the_problem_says_why_a_caregiver_cannot_take_the_need(assign_api: Api, world: dict[str, str]) -> None:
    reply = assign_api.call("assign", case_id=world["twin"], body={"caregiver_id": EXPIRED})
    assert "first-aid course expired on 2025-06-01" in reply.body["errors"][0]["problem"]
    reply = assign_api.call("assign", case_id=world["twin"])
    assert f"booked for case {world['case_id']}" in reply.body["errors"][0]["problem"]


# --- the sweep ----------------------------------------------------------------------------


def test_the_sweep_times_out_offers_and_flags_the_need_with_the_reason(api: Api, assign_api: Api, clock) -> None:
    register(assign_api, CG)
    register(assign_api, OTHER, name="Deniz Yilmaz")
    register(assign_api, EXPIRED, name="Jonas Abendroth", first_aid_on="2023-06-01")
    case_id = emergency(api)
    for caregiver in (CG, OTHER):
        offer = ok(assign_api.call("offer", case_id=case_id, body={"caregiver_id": caregiver}), 201)
        if caregiver == CG:
            ok(assign_api.call("offer_decline", case_id=case_id, path_params={"offer_id": offer["offer_id"]}))
    assign_api.project()
    rules = CareSettings().rules()

    # Ten minutes on: too early for anything. Two hours on: the open offer timed out, the need is flagged.
    for minutes, expected in ((10, (0, 0)), (120, (1, 1)), (125, (0, 0))):
        at = clock() + timedelta(minutes=minutes)
        result = sweep(Care(api.store, rules, clock=lambda at=at: at), assign_api.readmodel, rules)
        assert (result["cases_with_offers_timed_out"], result["needs_flagged_unfilled"]) == expected, minutes
        assert result["cases"] == 1 and result["failed"] == []
        assign_api.project()
    case = case_state(api, case_id)
    assert [o.status for o in case.offers] == ["declined", "timed_out"]
    assert case.unfilled.reason == "2 caregivers could take it; 1 offer declined, 1 timed out, none accepted"


def test_the_sweep_says_why_nobody_can_take_a_need(api: Api, assign_api: Api, clock) -> None:
    register(assign_api, CG)
    register(assign_api, EXPIRED, name="Jonas Abendroth", first_aid_on="2023-06-01")
    night = {"start": "2026-03-03T02:00:00+01:00", "expected_end": "2026-03-03T04:00:00+01:00"}
    case_id = emergency(api, window=night)
    assign_api.project()
    rules = CareSettings().rules()
    later = clock() + timedelta(hours=2)
    assert (
        sweep(Care(api.store, rules, clock=lambda: later), assign_api.readmodel, rules)["needs_flagged_unfilled"] == 1
    )
    assert case_state(api, case_id).unfilled.reason == (
        "none of 2 caregivers can take this need: 2 not available for the whole window; "
        "1 with an expired police clearance or first-aid course"
    )
