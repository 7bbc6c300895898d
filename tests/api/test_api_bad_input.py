# Proves every class of bad request gets a 4xx whose `errors` name the offending fields, and writes nothing.
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from api_harness import Api, sample, sample_body

UNKNOWN_CASE = "0123456789ab"


def body(name: str, drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    """The sample's body without `drop`, with top-level `changes`."""
    b = {k: v for k, v in sample_body(name).items() if k not in drop}
    return {**b, **changes}


def window(start: str, end: str) -> dict[str, str]:
    return {"start": start, "expected_end": end}


def child(age: Any) -> dict[str, Any]:
    return {"kind": "child", "age": age}


Build = Callable[[str], dict[str, Any]]


def on_case(name: str, **changes: Any) -> Build:
    """The sample request, aimed at the case under test."""
    return lambda case_id: sample(name, case_id=case_id, **changes)


def plain(name: str, **changes: Any) -> Build:
    return lambda case_id: sample(name, **changes)


# (id, request, status, fields the errors must name). The case under test is open: one call started.
CASES = [
    # --- missing fields
    ("call without call_id", plain("call_started", body=body("call_started", drop=("call_id",))), 422, ["call_id"]),
    ("call without time", plain("call_started", body=body("call_started", drop=("at",))), 422, ["at"]),
    ("call without type", plain("call_started", body=body("call_started", drop=("type",))), 422, ["type"]),
    ("call without line", plain("call_voicemail", body=body("call_voicemail", drop=("line",))), 422, ["line"]),
    (
        "need without persons and window",
        on_case("need", body=body("need", drop=("persons", "window"))),
        422,
        ["persons", "window"],
    ),
    ("need without municipality", on_case("need", body=body("need", drop=("municipality",))), 422, ["municipality"]),
    (
        "window without end",
        on_case("need", body=body("need", window={"start": "2026-03-03T06:30:00+01:00"})),
        422,
        ["window.expected_end"],
    ),
    # the agent is the signed-in person: naming somebody else is refused (left out, it is filled)
    (
        "consultation naming another agent",
        on_case("consultation", body=body("consultation", agent="hotline-schulz")),
        422,
        ["agent"],
    ),
    (
        "callback naming another agent",
        on_case("callback", body=body("callback", agent="user:0a9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c")),
        422,
        ["agent"],
    ),
    ("callback without reached", on_case("callback", body=body("callback", drop=("reached",))), 422, ["reached"]),
    ("close without reason and time", on_case("close", body={}), 422, ["reason", "at"]),
    ("outcome without outcome", on_case("outcome_advice", body={"note": "?"}), 422, ["outcome"]),
    ("need without body", on_case("need", body=None), 422, ["body"]),
    ("call without body", plain("call_started", body=None), 422, ["body"]),
    # --- malformed fields
    ("call time in words", plain("call_started", body=body("call_started", at="gestern früh")), 422, ["at"]),
    ("call time without zone", plain("call_started", body=body("call_started", at="2026-03-02T07:12:04")), 422, ["at"]),
    (
        "window starts on 30 February",
        on_case("need", body=body("need", window=window("2026-02-30T08:00:00+01:00", "2026-03-01T12:00:00+01:00"))),
        422,
        ["window.start"],
    ),
    (
        "consultation time in German format",
        on_case("consultation", body=body("consultation", started_at="02.03.2026 07:12")),
        422,
        ["started_at"],
    ),
    ("close time without zone", on_case("close", body=body("close", at="2026-03-02 09:00")), 422, ["at"]),
    (
        "callback reached is not a bool",
        on_case("callback", body=body("callback", reached="vielleicht")),
        422,
        ["reached"],
    ),
    ("persons is text", on_case("need", body=body("need", persons="zwei Kinder")), 422, ["persons"]),
    ("age is text", on_case("need", body=body("need", persons=[child("drei")])), 422, ["persons[0].age"]),
    ("student is not a bool", on_case("need", body=body("need", student="ja")), 422, ["student"]),
    (
        "caller number is a number",
        plain("call_started", body=body("call_started", caller_number=4951176023145)),
        422,
        ["caller_number"],
    ),
    (
        "caller number is no phone number",
        plain("call_started", body=body("call_started", caller_number="ruf an")),
        422,
        ["caller_number"],
    ),
    ("body is a list", on_case("need", body=[body("need")]), 422, ["body"]),
    ("body is a number", on_case("close", body="42"), 422, ["body"]),
    (
        "two call events in one body",
        plain(
            "call_started",
            body=[body("call_started"), body("call_started", call_id="pbx-2", caller_number="+49 5102 93310")],
        ),
        422,
        ["body"],
    ),
    ("body is plain text", on_case("close", headers={"Content-Type": "text/plain"}), 415, ["header.Content-Type"]),
    ("unknown field", on_case("need", body=body("need", priority="hoch")), 422, ["priority"]),
    # --- unknown enum values
    ("unknown call type", plain("call_started", body=body("call_started", type="ringing")), 422, ["type"]),
    (
        "unknown reason",
        on_case("need", body=body("need", reasons=["childcare_closed", "kita_strike"])),
        422,
        ["reasons[1]"],
    ),
    ("no reason", on_case("need", body=body("need", reasons=[])), 422, ["reasons"]),
    ("unknown outcome", on_case("outcome_advice", body={"outcome": "shrug"}), 422, ["outcome"]),
    (
        "advice naming a service referred to",
        on_case("outcome_advice", body={"outcome": "advice", "referral_to": "Jobcenter"}),
        422,
        ["referral_to"],
    ),
    (
        "caller number too short to be possible",
        plain("call_started", body=body("call_started", caller_number="+49 5")),
        422,
        ["caller_number"],
    ),
    (
        "unknown person kind",
        on_case("need", body=body("need", persons=[child(3), {"kind": "pet", "age": 4}])),
        422,
        ["persons[1].kind"],
    ),
    (
        "unknown location kind",
        on_case("need", body=body("need", location={"kind": "hotel", "address": "x"})),
        422,
        ["location.kind"],
    ),
    # --- ages out of range
    ("child of 14", on_case("need", body=body("need", persons=[child(14)])), 422, ["persons[0].age"]),
    ("negative age", on_case("need", body=body("need", persons=[child(3), child(-1)])), 422, ["persons[1].age"]),
    (
        "adult of 17",
        on_case("need", body=body("need", persons=[child(3), {"kind": "adult", "age": 17}])),
        422,
        ["persons[1].age"],
    ),
    ("child without age", on_case("need", body=body("need", persons=[{"kind": "child"}])), 422, ["persons[0].age"]),
    ("nobody to care for", on_case("need", body=body("need", persons=[])), 422, ["persons"]),
    ("eleven persons", on_case("need", body=body("need", persons=[child(5)] * 11)), 422, ["persons"]),
    # --- an end before a start, a window too long
    (
        "window ends before it starts",
        on_case("need", body=body("need", window=window("2026-03-03T11:00:00+01:00", "2026-03-03T06:30:00+01:00"))),
        422,
        ["window.expected_end"],
    ),
    (
        "window ends when it starts",
        on_case("need", body=body("need", window=window("2026-03-03T11:00:00+01:00", "2026-03-03T10:00:00Z"))),
        422,
        ["window.expected_end"],
    ),
    (
        "window of 31 days and a minute",
        on_case("need", body=body("need", window=window("2026-03-03T06:30:00+01:00", "2026-04-03T07:31:00+02:00"))),
        422,
        ["window.expected_end"],
    ),
    (
        "consultation ends before it starts",
        on_case("consultation", body=body("consultation", ended_at="2026-03-02T07:00:00+01:00")),
        422,
        ["ended_at"],
    ),
    # --- cross-field rules
    (
        "care elsewhere without address",
        on_case("need", body=body("need", location={"kind": "elsewhere"})),
        422,
        ["location.address"],
    ),
    (
        "referral without referral_to",
        on_case("outcome_referral", body=body("outcome_referral", drop=("referral_to",))),
        422,
        ["referral_to"],
    ),
    (
        "referral to nobody",
        on_case("outcome_referral", body=body("outcome_referral", referral_to="")),
        422,
        ["referral_to"],
    ),
    ("answered without agent", plain("call_answered", body=body("call_answered", drop=("agent",))), 422, ["agent"]),
    (
        "recording on a started call",
        plain("call_started", body=body("call_started", recording_ref="vm/1.wav")),
        422,
        ["recording_ref"],
    ),
    # --- business rules on the case's state
    ("care need before the need is clarified", on_case("outcome_care_need"), 409, ["outcome"]),
    ("callback with none pending", on_case("callback"), 409, ["case_id"]),
    # --- path and query parameters
    ("month 13", plain("month_hours", path_params={"month": "2026-13"}), 422, ["path.month"]),
    ("month in words", plain("month_hours", path_params={"month": "maerz-2026"}), 422, ["path.month"]),
    ("case id with capitals", plain("get_case", case_id="Case-1"), 422, ["path.case_id"]),
    ("case id with capitals on a command", plain("need", case_id="Case-1"), 422, ["path.case_id"]),
    ("family id without prefix", plain("family_hours", path_params={"family_id": "mueller"}), 422, ["path.family_id"]),
    ("queue limit 0", plain("open_cases", query={"limit": "0"}), 422, ["query.limit"]),
    ("queue limit 501", plain("callbacks", query={"limit": "501"}), 422, ["query.limit"]),
    ("queue limit in words", plain("open_cases", query={"limit": "zehn"}), 422, ["query.limit"]),
    # --- If-Match (the case is at version 2: CaseOpened, CallStarted)
    ("If-Match not a number", on_case("need", headers={"If-Match": "neu"}), 422, ["header.If-Match"]),
    ("If-Match behind the case", on_case("need", headers={"If-Match": "1"}), 409, ["header.If-Match"]),
    ("If-Match ahead of the case", on_case("close", headers={"If-Match": "3"}), 409, ["header.If-Match"]),
    # --- routes that do not exist
    ("unknown path", plain("open_cases", path="/faelle", query=None), 404, ["path"]),
    ("unknown method on a case", on_case("get_case", method="DELETE"), 404, ["path"]),
    ("POST to a read-only route", plain("open_cases", method="POST"), 404, ["path"]),
    ("GET on the phone route", plain("call_started", method="GET", body=None), 404, ["path"]),
]


@pytest.fixture
def case_id(api: Api) -> str:
    return api.open_case()


def _assert_problem(reply, status: int, fields: list[str]) -> None:
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"] == "application/json"
    assert isinstance(reply.body["message"], str) and reply.body["message"]
    assert reply.fields() == fields, reply.body
    assert all(e["problem"] for e in reply.body["errors"])


@pytest.mark.parametrize(("request_for", "status", "fields"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_bad_request_names_the_fields_and_writes_nothing(
    api: Api, case_id: str, request_for: Build, status: int, fields: list[str]
) -> None:
    before = api.log_length()
    _assert_problem(api.send(request_for(case_id)), status, fields)
    assert api.log_length() == before


COMMANDS = ["consultation", "need", "outcome_advice", "callback", "close"]


@pytest.mark.parametrize("name", [*COMMANDS, "call_started"])
def test_body_that_is_not_json_is_400(api: Api, case_id: str, name: str) -> None:
    before = api.log_length()
    reply = api.call(name, case_id=case_id, body="type=started&call_id=pbx-1")
    _assert_problem(reply, 400, ["body"])
    reply = api.call(name, case_id=case_id, body='{"agent": "hotline-schulz", ')
    _assert_problem(reply, 400, ["body"])
    assert api.log_length() == before


def test_form_encoded_body_is_refused(api: Api) -> None:
    form = urlencode(sample_body("call_started"))
    reply = api.call("call_started", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    # one rule for every body that is not JSON (test_api_edge.py): 415, whatever else it says
    _assert_problem(reply, 415, ["header.Content-Type"])
    assert api.log_length() == 0


@pytest.mark.parametrize("name", [*COMMANDS, "outcome_care_need", "get_case"])
def test_unknown_case_is_404(api: Api, case_id: str, name: str) -> None:
    before = api.log_length()
    _assert_problem(api.call(name, case_id=UNKNOWN_CASE), 404, ["case_id"])
    assert api.log_length() == before


@pytest.mark.parametrize("name", [*COMMANDS, "outcome_care_need", "outcome_referral"])
def test_command_on_a_closed_case_is_409(api: Api, case_id: str, name: str) -> None:
    assert api.call("close", case_id=case_id).status == 200
    before = api.log_length()
    _assert_problem(api.call(name, case_id=case_id), 409, ["case_id"])
    assert api.log_length() == before


@pytest.mark.usefixtures("sample_employer")
def test_second_outcome_on_an_emergency_is_409(api: Api, case_id: str) -> None:
    assert api.call("need", case_id=case_id).status == 200
    assert api.call("outcome_care_need", case_id=case_id).status == 200
    before = api.log_length()
    _assert_problem(api.call("outcome_advice", case_id=case_id), 409, ["outcome"])
    _assert_problem(api.call("outcome_care_need", case_id=case_id), 409, ["outcome"])
    assert api.log_length() == before


def test_all_problems_of_one_body_are_named_together(api: Api, case_id: str) -> None:
    bad = body(
        "need",
        persons=[child(14), {"kind": "adult", "age": 17}, {"kind": "robot"}],
        location={"kind": "elsewhere"},
        reasons=["bored"],
        window=window("2026-03-03T11:00:00+01:00", "2026-03-03T06:30:00+01:00"),
    )
    before = api.log_length()
    reply = api.call("need", case_id=case_id, body=bad)
    assert reply.status == 422
    assert sorted(reply.fields()) == sorted(
        ["persons[0].age", "persons[1].age", "persons[2].kind", "location.address", "window.expected_end", "reasons[0]"]
    )
    assert api.log_length() == before


def test_if_match_on_an_unknown_case_is_still_404(api: Api) -> None:
    _assert_problem(api.call("need", case_id=UNKNOWN_CASE, headers={"If-Match": "2"}), 404, ["case_id"])
    assert api.log_length() == 0


def test_bad_audit_query_parameters(audit_api: Api, api: Api, case_id: str) -> None:
    before = audit_api.log_length()
    for query, field in [
        ({"limit": "0"}, "query.limit"),
        ({"limit": "1001"}, "query.limit"),
        ({"after": "-1"}, "query.after"),
        ({"after": "anfang"}, "query.after"),
    ]:
        _assert_problem(audit_api.call("audit_events", query=query), 422, [field])
    assert audit_api.log_length() == before
