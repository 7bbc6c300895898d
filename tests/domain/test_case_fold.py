# Proves the case fold: what each event does to a case's state, whatever order the envelopes arrive in.
from __future__ import annotations

import random

import pytest
from domain_builders import at, envelopes, facts, need, opened

from notfall.domain import events as ev
from notfall.domain.case import fold_case


def fold(*events: ev.Event):
    return fold_case(envelopes("case-c1", events))


def test_no_events_no_case() -> None:
    assert fold_case([]) is None


def test_case_opened_starts_an_open_case() -> None:
    state = fold(opened(minutes=0))
    assert (state.case_id, state.version, state.status, state.channel) == ("c1", 1, "open", "call")
    assert state.opened_at == state.last_activity_at == at(0)
    assert state.calls == [] and state.need is None and state.callback_pending_since is None


def test_call_events_are_tracked_per_call_id() -> None:
    state = fold(
        opened(),
        ev.CallStarted(call=facts("k1", 0)),
        ev.CallAnswered(call=facts("k1", 1, agent="hotline-schulz")),
        ev.CallStarted(call=facts("k2", 5)),
        ev.CallEnded(call=facts("k1", 20, agent="hotline-schulz")),
    )
    assert [c.call_id for c in state.calls] == ["k1", "k2"]
    k1, k2 = state.calls
    assert (k1.started_at, k1.answered_at, k1.ended_at, k1.agent) == (at(0), at(1), at(20), "hotline-schulz")
    assert (k2.started_at, k2.answered_at, k2.ended_at) == (at(5), None, None)
    assert state.version == 5 and state.last_activity_at == at(20)


def test_an_event_of_an_unknown_call_adds_that_call() -> None:
    # the phone system may report "ended" without a "started" the store ever saw
    state = fold(opened(), ev.CallEnded(call=facts("k9", 3)))
    assert [(c.call_id, c.started_at, c.ended_at) for c in state.calls] == [("k9", None, at(3))]


def test_voicemail_puts_the_case_in_the_callback_queue_from_the_first_one() -> None:
    state = fold(
        opened(channel="voicemail"),
        ev.VoicemailLeft(call=facts("v1", 0), recording_ref="vm/v1.wav"),
        ev.VoicemailLeft(call=facts("v2", 40), recording_ref="vm/v2.wav"),
    )
    assert state.callback_pending_since == at(0)  # the oldest message sets the place in the queue
    assert [c.recording_ref for c in state.calls] == ["vm/v1.wav", "vm/v2.wav"]


@pytest.mark.parametrize(
    "settling",
    [
        ev.CallAnswered(call=facts("k2", 90, agent="hotline-schulz")),
        ev.ConsultationRecorded(agent="hotline-schulz", started_at=at(90), ended_at=at(100)),
        ev.CallbackMade(agent="hotline-yilmaz", at=at(90), reached=True),
    ],
    ids=["answered call", "consultation", "reached callback"],
)
def test_speaking_to_the_caller_clears_the_callback(settling: ev.Event) -> None:
    state = fold(opened(), ev.VoicemailLeft(call=facts("v1", 0)), settling)
    assert state.callback_pending_since is None


def test_unreached_callback_keeps_the_case_waiting_and_is_recorded() -> None:
    state = fold(
        opened(),
        ev.VoicemailLeft(call=facts("v1", 0)),
        ev.CallbackMade(agent="hotline-yilmaz", at=at(60), reached=False),
    )
    assert state.callback_pending_since == at(0)
    assert [(c.agent, c.reached) for c in state.callbacks] == [("hotline-yilmaz", False)]
    assert state.last_activity_at == at(60)


def test_a_later_need_supersedes_the_earlier() -> None:
    first, second = need(municipality="laatzen"), need(municipality="garbsen", persons=[{"kind": "adult"}])
    state = fold(opened(), ev.NeedClarified(need=first), ev.NeedClarified(need=second))
    assert state.need == second


def test_care_need_makes_an_emergency_that_stays_open() -> None:
    state = fold(opened(), ev.NeedClarified(need=need()), ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED))
    assert (state.status, state.outcome, state.is_closed) == ("emergency", ev.Outcome.CARE_NEED, False)


@pytest.mark.parametrize(("outcome", "referral_to"), [("advice", None), ("referral", "Familienzentrum Garbsen")])
def test_advice_and_referral_close_the_case_with_a_reason(outcome: str, referral_to: str | None) -> None:
    state = fold(
        opened(),
        ev.VoicemailLeft(call=facts("v1", 0)),
        ev.OutcomeRecorded(outcome=outcome, referral_to=referral_to, note="n"),
        ev.CaseClosed(reason=f"outcome: {outcome}", closed_at=at(30)),
    )
    assert state.status == "closed" and state.is_closed
    assert (state.outcome, state.referral_to, state.outcome_note) == (ev.Outcome(outcome), referral_to, "n")
    assert (state.close_reason, state.closed_at) == (f"outcome: {outcome}", at(30))
    assert state.callback_pending_since is None  # a closed case waits for nobody


def test_last_activity_never_goes_back() -> None:
    # a late phone event about an earlier moment does not move the activity back
    state = fold(opened(), ev.CallStarted(call=facts("k1", 30)), ev.CallEnded(call=facts("k0", 10)))
    assert state.last_activity_at == at(30)


def test_out_of_order_envelopes_fold_as_in_version_order() -> None:
    events = [
        opened(),
        ev.CallStarted(call=facts("k1", 0)),
        ev.VoicemailLeft(call=facts("v1", 2)),
        ev.CallAnswered(call=facts("k1", 3, agent="hotline-schulz")),
        ev.NeedClarified(need=need(municipality="laatzen")),
        ev.NeedClarified(need=need(municipality="hemmingen")),
        ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED),
    ]
    ordered = envelopes("case-c1", events)
    expected = fold_case(ordered)
    rng = random.Random(2026)
    for _ in range(20):
        shuffled = ordered[:]
        rng.shuffle(shuffled)
        assert fold_case(shuffled) == expected
    assert fold_case(reversed(ordered)) == expected
    assert expected.version == 7 and expected.need.municipality == "hemmingen"


def test_a_case_stream_cannot_hold_ledger_events() -> None:
    with pytest.raises(TypeError):
        fold(opened(), ev.CallRouted(call_id="k1", case_id="c1"))
