# Proves the command routes record the right events: opening and attaching calls, outcomes,
# callbacks, idempotent retries, If-Match.
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from api_harness import Api, machine_claims, person_claims, sample, sample_body, signed_in

from notfall.domain import events as ev
from notfall.domain.case import fold_case
from notfall.domain.commands import e164

CALLER = "+49 511 76023145"  # the number of the call_* samples
DAY_CALL = "pbx-20260302-071204-0042"


def events_of(api: Api, stream_prefix: str = "") -> list[ev.Event]:
    return [e.data for e in api.log() if e.stream_id.startswith(stream_prefix)]


def types(envelopes) -> list[str]:
    return [e.event_type for e in envelopes]


def state(api: Api, case_id: str):
    return fold_case(api.store.load(f"case-{case_id}"))


def call(name: str, **changes) -> dict:
    return {**sample_body(name), **changes}


def test_a_call_from_an_unknown_number_opens_a_case(api: Api) -> None:
    reply = api.call("call_started")
    assert reply.status == 201
    case_id = reply.body["case_id"]
    assert reply.body == {"case_id": case_id, "call_id": DAY_CALL, "opened": True}
    log = api.log()
    # the caller's ledger and the new case, in one write
    assert [(e.stream_id.split("-")[0], e.event_type, e.version, e.position) for e in log] == [
        ("caller", "CallerCaseOpened", 1, 1),
        ("caller", "CallRouted", 2, 2),
        ("case", "CaseOpened", 1, 3),
        ("case", "CallStarted", 2, 4),
    ]
    assert CALLER.replace(" ", "") not in log[0].stream_id  # the ledger key hides the number
    opened = log[2].data
    assert (
        opened.case_id == case_id and opened.channel == "call" and opened.caller_number == e164(CALLER)
    )  # stored as E.164
    assert opened.opened_at == datetime(2026, 3, 2, 6, 12, 4, tzinfo=UTC)
    # provenance: the request id correlates, the derived command id makes resends harmless
    assert {e.correlation_id for e in log} == {sample("call_started")["requestContext"]["requestId"]}
    assert {e.command_id for e in log} == {f"phone:{DAY_CALL}:started:2026-03-02T06:12:04+00:00"}


def test_later_events_of_the_call_and_new_calls_attach_to_the_open_case(api: Api) -> None:
    case_id = api.open_case()
    answered = api.call("call_answered")
    assert (answered.status, answered.body) == (200, {"case_id": case_id, "call_id": DAY_CALL, "opened": False})
    assert types(api.log()[-1:]) == ["CallAnswered"]  # a routed call needs no new ledger entry
    assert api.call("call_ended").status == 200
    # a second call from the same number, written another way, joins the open case
    before = api.log_length()
    second = api.call(
        "call_started",
        body=call("call_started", call_id="pbx-2", caller_number="+49 (511) 760-23145", at="2026-03-02T09:02:00+01:00"),
    )
    assert (second.status, second.body["case_id"], second.body["opened"]) == (200, case_id, False)
    assert types(api.log()[before:]) == ["CallRouted", "CallStarted"]
    case = state(api, case_id)
    assert [c.call_id for c in case.calls] == [DAY_CALL, "pbx-2"]
    first = case.calls[0]
    assert first.agent == "hotline-schulz"
    assert (first.started_at, first.answered_at, first.ended_at) == (
        datetime(2026, 3, 2, 6, 12, 4, tzinfo=UTC),
        datetime(2026, 3, 2, 6, 12, 31, tzinfo=UTC),
        datetime(2026, 3, 2, 6, 31, 10, tzinfo=UTC),
    )


def test_after_the_case_is_closed_the_same_number_opens_a_new_case_of_the_same_family(api: Api) -> None:
    first = api.open_case()
    assert api.call("close", case_id=first).body == {"case_id": first, "version": 3, "status": "closed"}
    # the phone system reports the end of the first call after staff closed the case: it stays there
    ended = api.call("call_ended")
    assert (ended.status, ended.body["case_id"], ended.body["opened"]) == (200, first, False)
    assert state(api, first).status == "closed" and state(api, first).calls[0].ended_at is not None
    reply = api.call("call_started", body=call("call_started", call_id="pbx-3", at="2026-03-04T16:40:00+01:00"))
    assert reply.status == 201 and reply.body["opened"] is True
    second = reply.body["case_id"]
    assert second != first
    assert state(api, second).family_id == state(api, first).family_id


def test_withheld_numbers_each_open_a_case(api: Api) -> None:
    ids = set()
    for n in range(2):
        reply = api.call("call_started", body=call("call_started", call_id=f"pbx-anon-{n}", caller_number=None))
        assert reply.status == 201
        ids.add(reply.body["case_id"])
    assert len(ids) == 2
    assert len({state(api, i).family_id for i in ids}) == 2


def test_voicemail_opens_a_case_waiting_for_a_callback(api: Api) -> None:
    reply = api.call("call_voicemail")
    assert reply.status == 201
    case = state(api, reply.body["case_id"])
    assert case.channel == "voicemail"
    assert case.callback_pending_since == datetime(2026, 3, 2, 4, 48, 20, tzinfo=UTC)
    assert case.calls[0].recording_ref == "voicemail/2026/03/02/pbx-20260302-054820-0007.wav"
    unreached = api.call("callback", case_id=case.case_id, body=call("callback", reached=False))
    assert unreached.body == {"case_id": case.case_id, "version": 3}
    assert state(api, case.case_id).callback_pending_since == case.callback_pending_since
    assert api.call("callback", case_id=case.case_id).status == 200
    after = state(api, case.case_id)
    assert after.callback_pending_since is None and [c.reached for c in after.callbacks] == [False, True]


@pytest.mark.usefixtures("sample_employer")
def test_consultation_need_and_care_need_make_an_emergency(api: Api) -> None:
    case_id = api.open_case()
    assert api.call("consultation", case_id=case_id).body == {"case_id": case_id, "version": 3}
    assert api.call("need", case_id=case_id).body == {"case_id": case_id, "version": 4}
    outcome = api.call("outcome_care_need", case_id=case_id)
    # the outcome and the eligibility assessed for the day care starts: two events
    assert outcome.body == {"case_id": case_id, "version": 6, "status": "emergency"}
    assert types(api.log()[-2:]) == ["OutcomeRecorded", "EligibilityAssessed"]
    case = state(api, case_id)
    assert case.status == "emergency" and case.outcome == ev.Outcome.CARE_NEED
    assert (case.eligibility.tier, case.eligibility.basis) == (
        "partner",
        "beschäftigt bei Partner Leine Logistik GmbH (Rahmenvertrag rv-2015)",
    )
    assert [(p.kind, p.age) for p in case.need.persons] == [("child", 3), ("child", 6)]
    assert case.need.window.start == datetime(2026, 3, 3, 5, 30, tzinfo=UTC)


def test_advice_and_referral_close_the_case(api: Api) -> None:
    advised = api.open_case()
    reply = api.call("outcome_advice", case_id=advised)
    assert reply.body == {"case_id": advised, "version": 4, "status": "closed"}
    assert types(api.log()[-2:]) == ["OutcomeRecorded", "CaseClosed"]
    assert state(api, advised).close_reason == "outcome: advice"

    referred = api.open_case(body=call("call_started", call_id="pbx-9", caller_number="+49 5131 448210"))
    assert api.call("outcome_referral", case_id=referred).body["status"] == "closed"
    case = state(api, referred)
    assert case.referral_to == sample_body("outcome_referral")["referral_to"]
    assert case.close_reason == "outcome: referral"


def test_a_later_need_supersedes_the_earlier_one(api: Api) -> None:
    case_id = api.open_case()
    api.call("need", case_id=case_id)
    later = call("need", persons=[{"kind": "child", "age": 6}], municipality="hemmingen")
    assert api.call("need", case_id=case_id, body=later).status == 200
    case = state(api, case_id)
    assert case.need.municipality == "hemmingen" and len(case.need.persons) == 1
    assert types(api.log()).count("NeedClarified") == 2  # both stay in the log


def test_same_idempotency_key_twice_gives_the_same_answer_and_one_set_of_events(api: Api) -> None:
    key = {"Idempotency-Key": "hotline-ui-7f3a"}
    case_id = api.open_case()
    first = api.call("need", case_id=case_id, headers=key)
    before = api.log_length()
    again = api.call("need", case_id=case_id, headers=key)
    assert (again.status, again.body) == (first.status, first.body)
    assert api.log_length() == before
    assert types(api.log()).count("NeedClarified") == 1


def test_retried_command_answers_as_the_first_time_even_when_the_state_moved_on(api: Api) -> None:
    case_id = api.open_case()
    key = {"Idempotency-Key": "close-once"}
    first = api.call("close", case_id=case_id, headers=key)
    before = api.log_length()
    # the case is closed now; a plain close would be 409, the retry gets its first answer
    retry = api.call("close", case_id=case_id, headers=key)
    assert (retry.status, retry.body) == (200, first.body)
    assert api.call("close", case_id=case_id).status == 409
    assert api.log_length() == before


def open_two_cases(api: Api) -> tuple[str, str]:
    """Two open cases: calls from two numbers."""
    first = api.open_case()
    other = call("call_started", call_id="pbx-20260302-071500-0043", caller_number="+49 511 4711000")
    return first, api.open_case(body=other)


def as_caller(event: dict, sub: str) -> dict:
    """The request as another signed-in person (the Cognito authorizer's verified claims)."""
    return signed_in(event, person_claims(sub, "hotline"))


def test_a_key_used_for_case_a_closing_case_b_answers_422_and_b_stays_open(api: Api) -> None:
    case_a, case_b = open_two_cases(api)
    key = {"Idempotency-Key": "K"}
    assert api.call("close", case_id=case_a, headers=key).status == 200
    before = api.log_length()

    reply = api.call("close", case_id=case_b, headers=key)

    assert reply.status == 422 and reply.fields() == ["header.Idempotency-Key"], reply.body
    assert "different request" in reply.body["errors"][0]["problem"]
    assert case_a not in str(reply.body)  # no trace of the other command's answer
    assert state(api, case_b).status == "open" and api.log_length() == before
    # B with its own key is closed as usual; A's retry still gets A's first answer
    assert api.call("close", case_id=case_b, headers={"Idempotency-Key": "K2"}).status == 200
    assert api.call("close", case_id=case_a, headers=key).body["case_id"] == case_a


def test_a_key_replayed_with_another_body_or_route_answers_422(api: Api) -> None:
    case_id = api.open_case()
    key = {"Idempotency-Key": "need-1"}
    first = api.call("need", case_id=case_id, headers=key)
    assert first.status == 200
    before = api.log_length()
    other_body = call("need", municipality="hemmingen")
    for reply in (
        api.call("need", case_id=case_id, headers=key, body=other_body),
        api.call("consultation", case_id=case_id, headers=key),
    ):
        assert reply.status == 422 and reply.fields() == ["header.Idempotency-Key"], reply.body
    assert api.log_length() == before
    # the same body written another way (key order, spacing) is the same request
    reordered = json.dumps(dict(reversed(list(sample_body("need").items()))), indent=2)
    again = api.call("need", case_id=case_id, headers=key, body=reordered)
    assert (again.status, again.body) == (200, first.body) and api.log_length() == before


def test_two_callers_using_the_same_key_do_not_collide(api: Api) -> None:
    case_a, case_b = open_two_cases(api)
    key = {"Idempotency-Key": "close-1"}
    first = api.send(as_caller(sample("close", case_id=case_a, headers=key), "sub-of-one-person"))
    second = api.send(as_caller(sample("close", case_id=case_b, headers=key), "sub-of-another-person"))
    assert (first.status, second.status) == (200, 200)
    assert (first.body["case_id"], second.body["case_id"]) == (case_a, case_b)
    assert state(api, case_a).status == state(api, case_b).status == "closed"
    # the key travels hashed with its caller: a fixed length, and not the key itself
    close_ids = {e.command_id for e in api.log() if e.event_type == "CaseClosed"}
    assert len(close_ids) == 2 and all(len(i) == len("key-") + 64 and "close-1" not in i for i in close_ids)


@pytest.mark.parametrize("bad", ["k" * 256, "ключ-1", "tab\there", ""])
def test_a_key_too_long_or_outside_printable_ascii_answers_422(api: Api, bad: str) -> None:
    case_id = api.open_case()
    before = api.log_length()
    reply = api.call("close", case_id=case_id, headers={"Idempotency-Key": bad})
    assert reply.status == 422 and reply.fields() == ["header.Idempotency-Key"], reply.body
    assert api.log_length() == before
    # the longest allowed key works
    assert api.call("close", case_id=case_id, headers={"Idempotency-Key": "k" * 255}).status == 200


def test_phone_call_event_with_key_twice_opens_one_case(api: Api) -> None:
    key = {"Idempotency-Key": "pbx-delivery-1"}
    first = api.call("call_started", headers=key)
    second = api.call("call_started", headers=key)
    assert (first.status, second.status) == (201, 201) and first.body == second.body
    assert api.log_length() == 4


def test_phone_system_resending_an_event_without_key_appends_nothing_twice(api: Api) -> None:
    first = api.call("call_started")
    before = api.log_length()
    # a resend after a timeout: same call id, type and time (here written in UTC)
    resent = api.call("call_started", body=call("call_started", at="2026-03-02T06:12:04Z"))
    assert resent.body == first.body
    assert api.log_length() == before
    # a different event of the same call is new
    assert api.call("call_answered").status == 200
    assert api.log_length() == before + 1


@pytest.mark.usefixtures("sample_employer")
def test_if_match_with_the_current_version_is_accepted(api: Api) -> None:
    case_id = api.open_case()  # version 2
    need = api.call("need", case_id=case_id, headers={"If-Match": '"2"'})
    assert need.body == {"case_id": case_id, "version": 3}
    outcome = api.call("outcome_care_need", case_id=case_id, headers={"If-Match": "3"})
    assert outcome.body["version"] == 5  # the outcome and the eligibility assessed
    stale = api.call("close", case_id=case_id, headers={"If-Match": "3"})
    assert stale.status == 409 and state(api, case_id).status == "emergency"


def test_correlation_id_header_ties_the_events_together(api: Api) -> None:
    case_id = api.open_case()
    api.call("need", case_id=case_id, headers={"X-Correlation-Id": "gespraech-0815"})
    assert api.log()[-1].correlation_id == "gespraech-0815"


def test_the_verified_identity_becomes_the_actor(api: Api) -> None:
    opened = api.send(signed_in(sample("call_started"), machine_claims("phone-client-id")))
    case_id = opened.body["case_id"]
    person = person_claims("sub-of-the-agent", "hotline")
    api.send(signed_in(sample("need", case_id=case_id, headers={"X-Actor": "somebody-else"}), person))
    log = api.log()
    assert {e.actor for e in log[:4]} == {"client:phone-client-id"}
    assert log[-1].actor == "user:sub-of-the-agent"


def test_a_number_dialled_nationally_is_the_same_caller(api: Api) -> None:
    national = {**sample_body("call_started"), "call_id": "pbx-n1", "caller_number": "0511 760 231 45"}
    international = {**sample_body("call_started"), "call_id": "pbx-n2", "caller_number": "+49 511 76023145"}
    first, again = api.call("call_started", body=national), api.call("call_started", body=international)
    assert (first.status, again.status) == (201, 200)
    assert again.body["case_id"] == first.body["case_id"]
    assert {e.data.call.caller_number for e in api.log() if e.event_type == "CallStarted"} == {"+4951176023145"}
