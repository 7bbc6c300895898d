# Proves the intake decisions: which streams a call writes (open or attach), and which commands a case's state refuses.
from __future__ import annotations

import pytest
from domain_builders import (
    LAATZEN,
    at,
    call_in,
    callback_in,
    close_in,
    consultation_in,
    envelopes,
    facts,
    need,
    need_in,
    opened,
    outcome_in,
)

from notfall.domain import case as c
from notfall.domain import events as ev
from notfall.domain.commands import e164
from notfall.domain.decision import Decision
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, NotFound
from notfall.store.memory import MemoryEventStore


class Desk:
    """Loads what a decision needs and commits it, as the intake use case does."""

    def __init__(self) -> None:
        self.store = MemoryEventStore()
        self.commands = 0
        self.ids = iter(f"case{n}" for n in range(1, 100))

    def commit(self, decision: Decision) -> dict:
        self.commands += 1
        meta = Metadata(command_id=f"cmd-{self.commands}", actor="test", correlation_id="corr")
        return self.store.append(decision, meta).result

    def routing(self, cmd) -> c.CallerRouting:
        stream = c.caller_stream(cmd.caller_number, cmd.call_id)
        return c.fold_routing(stream, self.store.load(stream))

    def case(self, case_id: str | None) -> c.CaseState | None:
        return c.fold_case(self.store.load(c.case_stream(case_id))) if case_id else None

    def decide_call(self, cmd) -> Decision:
        routing = self.routing(cmd)
        return c.decide_call_event(cmd, routing, self.case(routing.case_for(cmd.call_id)), next(self.ids))

    def call(self, cmd) -> dict:
        return self.commit(self.decide_call(cmd))


def shape(decision: Decision) -> list[tuple[str, int, list[str]]]:
    return [(a.stream_id.split("-")[0], a.expected_version, [e.event_type for e in a.events]) for a in decision.appends]


def test_a_call_from_an_unknown_caller_opens_a_case() -> None:
    desk = Desk()
    cmd = call_in("started")
    decision = desk.decide_call(cmd)
    assert shape(decision) == [
        ("caller", 0, ["CallerCaseOpened", "CallRouted"]),
        ("case", 0, ["CaseOpened", "CallStarted"]),
    ]
    assert decision.appends[0].stream_id == c.caller_stream(LAATZEN, "pbx-1")
    assert decision.appends[1].stream_id == "case-case1"
    assert decision.result == {"case_id": "case1", "call_id": "pbx-1", "opened": True}
    case_opened = decision.appends[1].events[0]
    assert case_opened.family_id == c.family_for(decision.appends[0].stream_id)
    assert (case_opened.channel, case_opened.caller_number, case_opened.opened_at) == ("call", e164(LAATZEN), at(0))
    assert all(a.occurred_at == at(0) for a in decision.appends)


def test_a_voicemail_from_an_unknown_caller_opens_a_voicemail_case() -> None:
    decision = Desk().decide_call(call_in("voicemail", recording_ref="vm/1.wav"))
    case_opened, left = decision.appends[1].events
    assert case_opened.channel == "voicemail" and left.recording_ref == "vm/1.wav"


def test_a_second_call_from_the_same_number_attaches_to_the_open_case() -> None:
    desk = Desk()
    desk.call(call_in("started", "pbx-1"))
    # the number in another notation is the same caller
    decision = desk.decide_call(call_in("started", "pbx-2", minutes=30, number="+49 (511) 760-23145"))
    assert shape(decision) == [("caller", 2, ["CallRouted"]), ("case", 2, ["CallStarted"])]
    assert decision.result == {"case_id": "case1", "call_id": "pbx-2", "opened": False}


def test_later_events_of_a_routed_call_append_to_its_case_only() -> None:
    desk = Desk()
    desk.call(call_in("started", "pbx-1"))
    decision = desk.decide_call(call_in("answered", "pbx-1", minutes=1))
    assert shape(decision) == [("case", 2, ["CallAnswered"])]


def test_a_call_after_the_case_was_closed_opens_a_new_case() -> None:
    desk = Desk()
    desk.call(call_in("started", "pbx-1"))
    desk.commit(c.decide_close(desk.case("case1"), "case1", close_in()))
    decision = desk.decide_call(call_in("started", "pbx-2", minutes=120))
    assert shape(decision) == [
        ("caller", 2, ["CallerCaseOpened", "CallRouted"]),
        ("case", 0, ["CaseOpened", "CallStarted"]),
    ]
    assert decision.result["case_id"] == "case2" and decision.result["opened"] is True
    desk.commit(decision)
    assert desk.case("case2").family_id == desk.case("case1").family_id


def test_a_routed_call_stays_with_its_case_after_it_was_closed() -> None:
    desk = Desk()
    desk.call(call_in("started", "pbx-1"))
    desk.commit(c.decide_close(desk.case("case1"), "case1", close_in(minutes=10)))
    decision = desk.decide_call(call_in("ended", "pbx-1", minutes=12))
    assert shape(decision) == [("case", 3, ["CallEnded"])]
    assert decision.result == {"case_id": "case1", "call_id": "pbx-1", "opened": False}
    desk.commit(decision)
    case = desk.case("case1")
    assert case.status == "closed" and case.calls[0].ended_at == at(12)


def test_withheld_numbers_each_open_their_own_case() -> None:
    desk = Desk()
    first = desk.call(call_in("started", "anon-1", number=None))
    second = desk.call(call_in("started", "anon-2", number=None, minutes=5))
    assert first["opened"] and second["opened"] and first["case_id"] != second["case_id"]
    assert c.caller_stream(None, "anon-1") != c.caller_stream(None, "anon-2")
    assert desk.case(first["case_id"]).family_id != desk.case(second["case_id"]).family_id
    # a later event of a withheld call still finds its case
    assert desk.call(call_in("ended", "anon-1", number=None, minutes=9))["case_id"] == first["case_id"]


def test_the_ledger_key_hides_the_number() -> None:
    key = c.caller_stream(LAATZEN, "pbx-1")
    assert key.startswith("caller-") and "511" not in key
    assert key == c.caller_stream("+4951176023145", "pbx-2")


# --- staff commands ---------------------------------------------------------------------

STAFF = {
    "consultation": lambda case, cid: c.decide_consultation(case, cid, consultation_in()),
    "need": lambda case, cid: c.decide_need(case, cid, need_in(), at(30)),
    "outcome": lambda case, cid: c.decide_outcome(case, cid, outcome_in("advice"), at(30)),
    "callback": lambda case, cid: c.decide_callback(case, cid, callback_in(True)),
    "close": lambda case, cid: c.decide_close(case, cid, close_in()),
}


def state_of(*events: ev.Event):
    return c.fold_case(envelopes("case-c1", events))


@pytest.mark.parametrize("command", STAFF)
def test_commands_on_an_unknown_case_are_not_found(command: str) -> None:
    with pytest.raises(NotFound) as err:
        STAFF[command](None, "c404")
    assert (err.value.status, err.value.field) == (404, "case_id")


@pytest.mark.parametrize("command", STAFF)
def test_commands_on_a_closed_case_conflict(command: str) -> None:
    closed = state_of(
        opened(), ev.VoicemailLeft(call=facts("v1", 0)), ev.CaseClosed(reason="erledigt", closed_at=at(5))
    )
    with pytest.raises(DomainError) as err:
        STAFF[command](closed, "c1")
    assert type(err.value) is DomainError
    assert (err.value.status, err.value.field) == (409, "case_id")


def test_care_need_before_the_need_is_clarified_is_refused() -> None:
    with pytest.raises(DomainError) as err:
        c.decide_outcome(state_of(opened()), "c1", outcome_in("care_need"), at(30))
    assert (err.value.status, err.value.field) == (409, "outcome")


def test_care_need_after_the_need_makes_an_emergency_in_one_event() -> None:
    case = state_of(opened(), ev.NeedClarified(need=need()))
    decision = c.decide_outcome(case, "c1", outcome_in("care_need"), at(30))
    assert shape(decision) == [("case", 2, ["OutcomeRecorded"])]
    assert decision.result == {"case_id": "c1", "version": 3, "status": "emergency"}


@pytest.mark.parametrize(("outcome", "referral_to"), [("advice", None), ("referral", "Jobcenter Region Hannover")])
def test_advice_and_referral_close_in_the_same_command(outcome: str, referral_to: str | None) -> None:
    decision = c.decide_outcome(state_of(opened()), "c1", outcome_in(outcome, referral_to), at(30))
    assert shape(decision) == [("case", 1, ["OutcomeRecorded", "CaseClosed"])]
    closed = decision.appends[0].events[1]
    assert (closed.reason, closed.closed_at) == (f"outcome: {outcome}", at(30))
    assert decision.result == {"case_id": "c1", "version": 3, "status": "closed"}


def test_an_emergency_keeps_its_outcome() -> None:
    case = state_of(opened(), ev.NeedClarified(need=need()), ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED))
    for outcome in ("advice", "care_need"):
        with pytest.raises(DomainError) as err:
            c.decide_outcome(case, "c1", outcome_in(outcome), at(40))
        assert err.value.field == "outcome"


def test_callback_with_none_pending_is_refused() -> None:
    with pytest.raises(DomainError) as err:
        c.decide_callback(state_of(opened()), "c1", callback_in(True))
    assert err.value.status == 409
    answered = state_of(
        opened(), ev.VoicemailLeft(call=facts("v1", 0)), ev.CallAnswered(call=facts("k2", 30, agent="hotline-schulz"))
    )
    with pytest.raises(DomainError):
        c.decide_callback(answered, "c1", callback_in(True, minutes=40))


def test_callback_while_pending_is_recorded_at_its_time() -> None:
    case = state_of(opened(), ev.VoicemailLeft(call=facts("v1", 0)))
    decision = c.decide_callback(case, "c1", callback_in(False, minutes=45))
    assert shape(decision) == [("case", 2, ["CallbackMade"])]
    assert decision.appends[0].occurred_at == at(45)
    assert decision.result == {"case_id": "c1", "version": 3}


def test_staff_decisions_append_at_the_version_they_saw() -> None:
    case = state_of(opened(), ev.CallStarted(call=facts("k1", 0)), ev.CallEnded(call=facts("k1", 9)))
    for name, decide in STAFF.items():
        if name == "callback":
            continue
        decision = decide(case, "c1")
        assert decision.appends[0].stream_id == "case-c1"
        assert decision.appends[0].expected_version == 3, name
    need_decision = STAFF["need"](case, "c1")
    assert need_decision.appends[0].events[0].need == need()


def test_a_consultation_or_callback_without_agent_is_refused_the_api_fills_it() -> None:
    case = state_of(opened(), ev.VoicemailLeft(call=facts("v1", 0)))
    for decide in (
        lambda: c.decide_consultation(case, "c1", consultation_in().model_copy(update={"agent": None})),
        lambda: c.decide_callback(case, "c1", callback_in(True).model_copy(update={"agent": None})),
    ):
        with pytest.raises(DomainError) as err:
            decide()
        assert (err.value.status, err.value.field) == (422, "agent")
