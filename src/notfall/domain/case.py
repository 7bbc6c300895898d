"""The case: its state as a pure fold over its events, and the decisions of intake commands.

A call opens a case or attaches to the caller's open one. Advice and referral outcomes close
the case; a concrete care need makes it an emergency, which stays open for assignment. Care
for a household not entitled is refused, and the refusal recorded (`CareRefused`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import singledispatch
from typing import Literal

from pydantic import BaseModel

from notfall.domain import care_events as care
from notfall.domain import events as ev
from notfall.domain.commands import CallbackIn, CallEventIn, CloseIn, ConsultationIn, NeedIn, OutcomeIn, e164
from notfall.domain.decision import Append, Decision, refusal
from notfall.domain.eligibility import Assessment
from notfall.domain.envelope import Envelope, UtcDatetime
from notfall.domain.errors import DomainError, NotFound, Rejected
from notfall.domain.hours import BERLIN

CASE_PREFIX = "case-"
CALLER_PREFIX = "caller-"


def case_stream(case_id: str) -> str:
    return CASE_PREFIX + case_id


def caller_stream(caller_number: str | None, call_id: str) -> str:
    """The caller's routing ledger, keyed by the E.164 number's hash: keys must not spread
    personal data.

    A withheld number cannot be recognised again, so each such call gets a ledger of its own.
    """
    if not caller_number:
        return f"{CALLER_PREFIX}anonymous-{call_id}"
    return CALLER_PREFIX + hashlib.sha256(e164(caller_number).encode()).hexdigest()[:24]


def family_for(caller_key: str) -> str:
    """A family is first known by the number it calls from; staff can link cases later."""
    return "fam-" + hashlib.sha256(caller_key.encode()).hexdigest()[:12]


# --- state ------------------------------------------------------------------------------


class CallView(BaseModel):
    call_id: str
    line: str
    caller_number: str | None = None
    agent: str | None = None
    started_at: UtcDatetime | None = None
    answered_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    voicemail_at: UtcDatetime | None = None
    recording_ref: str | None = None


class OfferView(BaseModel):
    offer_id: str
    caregiver_id: str
    made_at: UtcDatetime
    expires_at: UtcDatetime
    status: Literal["open", "accepted", "declined", "timed_out", "withdrawn"] = "open"
    decided_at: UtcDatetime | None = None
    reason: str | None = None


class AssignmentView(BaseModel):
    assignment_id: str
    caregiver_id: str
    start: UtcDatetime
    end: UtcDatetime
    assigned_at: UtcDatetime
    offer_id: str | None = None
    replaces: str | None = None
    allowance_cents: int
    travel_cents_per_km: int
    cancelled_at: UtcDatetime | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    notice_minutes: int | None = None

    @property
    def active(self) -> bool:
        return self.cancelled_at is None


class SessionView(BaseModel):
    session_id: str
    assignment_id: str
    caregiver_id: str
    start: UtcDatetime
    end: UtcDatetime | None = None  # None while the caregiver is checked in
    travel_km: Decimal = Decimal(0)
    source: Literal["check-in", "staff"]
    tier: str | None = None  # stamped on old events only; invoices decide the tier of the day
    tier_basis: str | None = None
    corrections: int = 0
    voided: bool = False
    void_reason: str | None = None


class TransportView(BaseModel):
    transport_id: str
    from_place: str
    to_place: str
    at: UtcDatetime
    persons: int
    driver_id: str | None = None
    price_cents: int
    status: Literal["booked", "done", "cancelled"] = "booked"
    done_at: UtcDatetime | None = None
    km: Decimal | None = None
    cancel_reason: str | None = None


class CaseState(BaseModel):
    case_id: str
    version: int
    family_id: str
    caller_number: str | None
    channel: str
    status: Literal["open", "emergency", "closed"]
    opened_at: UtcDatetime
    last_activity_at: UtcDatetime
    calls: list[CallView] = []
    callback_pending_since: UtcDatetime | None = None
    callbacks: list[ev.CallbackMade] = []
    consultations: list[ev.ConsultationRecorded] = []
    need: ev.Need | None = None
    outcome: ev.Outcome | None = None
    referral_to: str | None = None
    outcome_note: str | None = None
    closed_at: UtcDatetime | None = None
    close_reason: str | None = None
    need_at: UtcDatetime | None = None  # when the concrete care need was recorded
    offers: list[OfferView] = []
    assignments: list[AssignmentView] = []
    sessions: list[SessionView] = []
    transports: list[TransportView] = []
    unfilled: care.NeedUnfilled | None = None
    eligibility: ev.EligibilityAssessed | None = None  # the latest assessment counts
    refusals: list[ev.CareRefused] = []

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"

    @property
    def active_assignment(self) -> AssignmentView | None:
        return next((a for a in reversed(self.assignments) if a.active), None)

    @property
    def first_assigned_at(self) -> datetime | None:
        return self.assignments[0].assigned_at if self.assignments else None

    @property
    def live_sessions(self) -> list[SessionView]:
        return [x for x in self.sessions if not x.voided]


def fold_case(envelopes: Iterable[Envelope]) -> CaseState | None:
    """Current state of one case stream, from its events in version order."""
    state: CaseState | None = None
    for env in sorted(envelopes, key=lambda e: e.version):
        state = _apply(env.data, state, env)
    return state


@singledispatch
def _apply(event: ev.Event, state: CaseState | None, env: Envelope) -> CaseState | None:
    raise TypeError(f"a case stream cannot hold {type(event).__name__}")


@_apply.register
def _(event: ev.CaseOpened, state: None, env: Envelope) -> CaseState:
    return CaseState(
        case_id=event.case_id,
        version=env.version,
        family_id=event.family_id,
        caller_number=event.caller_number,
        channel=event.channel,
        status="open",
        opened_at=event.opened_at,
        last_activity_at=event.opened_at,
    )


def _touch(state: CaseState, env: Envelope, at: datetime, **changes) -> CaseState:
    return state.model_copy(
        update={"version": env.version, "last_activity_at": max(at, state.last_activity_at), **changes}
    )


def _with_call(state: CaseState, facts: ev.CallFacts, **changes) -> list[CallView]:
    calls = list(state.calls)
    for i, call in enumerate(calls):
        if call.call_id == facts.call_id:
            calls[i] = call.model_copy(update={k: v for k, v in changes.items() if v is not None})
            return calls
    fresh = CallView(call_id=facts.call_id, line=facts.line, caller_number=facts.caller_number)
    calls.append(fresh.model_copy(update={k: v for k, v in changes.items() if v is not None}))
    return calls


@_apply.register
def _(event: ev.CallStarted, state: CaseState, env: Envelope) -> CaseState:
    return _touch(state, env, event.call.at, calls=_with_call(state, event.call, started_at=event.call.at))


@_apply.register
def _(event: ev.CallAnswered, state: CaseState, env: Envelope) -> CaseState:
    calls = _with_call(state, event.call, answered_at=event.call.at, agent=event.call.agent)
    # Speaking to the caller settles an open callback.
    return _touch(state, env, event.call.at, calls=calls, callback_pending_since=None)


@_apply.register
def _(event: ev.CallEnded, state: CaseState, env: Envelope) -> CaseState:
    return _touch(state, env, event.call.at, calls=_with_call(state, event.call, ended_at=event.call.at))


@_apply.register
def _(event: ev.VoicemailLeft, state: CaseState, env: Envelope) -> CaseState:
    calls = _with_call(state, event.call, voicemail_at=event.call.at, recording_ref=event.recording_ref)
    pending = state.callback_pending_since or event.call.at
    return _touch(state, env, event.call.at, calls=calls, callback_pending_since=pending)


@_apply.register
def _(event: ev.CallbackMade, state: CaseState, env: Envelope) -> CaseState:
    pending = None if event.reached else state.callback_pending_since
    return _touch(state, env, event.at, callbacks=[*state.callbacks, event], callback_pending_since=pending)


@_apply.register
def _(event: ev.ConsultationRecorded, state: CaseState, env: Envelope) -> CaseState:
    return _touch(state, env, event.ended_at, consultations=[*state.consultations, event], callback_pending_since=None)


@_apply.register
def _(event: ev.NeedClarified, state: CaseState, env: Envelope) -> CaseState:
    return _touch(state, env, env.occurred_at, need=event.need)


@_apply.register
def _(event: ev.OutcomeRecorded, state: CaseState, env: Envelope) -> CaseState:
    emergency = event.outcome == ev.Outcome.CARE_NEED
    return _touch(
        state,
        env,
        env.occurred_at,
        outcome=event.outcome,
        referral_to=event.referral_to,
        outcome_note=event.note,
        status="emergency" if emergency else state.status,
        need_at=env.occurred_at if emergency else state.need_at,
    )


@_apply.register
def _(event: ev.EligibilityAssessed, state: CaseState, env: Envelope) -> CaseState:
    return _touch(state, env, env.occurred_at, eligibility=event)


@_apply.register
def _(event: ev.CareRefused, state: CaseState, env: Envelope) -> CaseState:
    return _touch(state, env, event.refused_at, refusals=[*state.refusals, event])


@_apply.register
def _(event: ev.CaseClosed, state: CaseState, env: Envelope) -> CaseState:
    return _touch(
        state,
        env,
        event.closed_at,
        status="closed",
        closed_at=event.closed_at,
        close_reason=event.reason,
        callback_pending_since=None,
    )


def _replace(items: list, key: str, value: str, **changes) -> list:
    return [i.model_copy(update=changes) if getattr(i, key) == value else i for i in items]


@_apply.register
def _(event: care.OfferMade, state: CaseState, env: Envelope) -> CaseState:
    offer = OfferView(
        offer_id=event.offer_id, caregiver_id=event.caregiver_id, made_at=env.occurred_at, expires_at=event.expires_at
    )
    return _touch(state, env, env.occurred_at, offers=[*state.offers, offer])


def _offer_status(status: str):
    def apply(event, state: CaseState, env: Envelope) -> CaseState:
        offers = _replace(
            state.offers,
            "offer_id",
            event.offer_id,
            status=status,
            decided_at=env.occurred_at,
            reason=getattr(event, "reason", None),
        )
        return _touch(state, env, env.occurred_at, offers=offers)

    return apply


_apply.register(care.OfferAccepted, _offer_status("accepted"))
_apply.register(care.OfferDeclined, _offer_status("declined"))
_apply.register(care.OfferTimedOut, _offer_status("timed_out"))
_apply.register(care.OfferWithdrawn, _offer_status("withdrawn"))


@_apply.register
def _(event: care.CaregiverAssigned, state: CaseState, env: Envelope) -> CaseState:
    assignment = AssignmentView(assigned_at=env.occurred_at, **event.model_dump())
    return _touch(state, env, env.occurred_at, assignments=[*state.assignments, assignment])


@_apply.register
def _(event: care.AssignmentCancelled, state: CaseState, env: Envelope) -> CaseState:
    assignments = _replace(
        state.assignments,
        "assignment_id",
        event.assignment_id,
        cancelled_at=env.occurred_at,
        cancelled_by=event.by,
        cancel_reason=event.reason,
        notice_minutes=event.notice_minutes,
    )
    return _touch(state, env, env.occurred_at, assignments=assignments)


@_apply.register
def _(event: care.SessionStarted, state: CaseState, env: Envelope) -> CaseState:
    session = SessionView(
        session_id=event.session_id,
        assignment_id=event.assignment_id,
        caregiver_id=event.caregiver_id,
        start=event.at,
        source="check-in",
        tier=event.tier,
        tier_basis=event.tier_basis,
    )
    return _touch(state, env, event.at, sessions=[*state.sessions, session])


@_apply.register
def _(event: care.SessionEnded, state: CaseState, env: Envelope) -> CaseState:
    sessions = _replace(state.sessions, "session_id", event.session_id, end=event.at, travel_km=event.travel_km)
    return _touch(state, env, event.at, sessions=sessions)


@_apply.register
def _(event: care.SessionRecorded, state: CaseState, env: Envelope) -> CaseState:
    session = SessionView(source="staff", **event.model_dump())
    return _touch(state, env, env.occurred_at, sessions=[*state.sessions, session])


@_apply.register
def _(event: care.SessionCorrected, state: CaseState, env: Envelope) -> CaseState:
    old = next(x for x in state.sessions if x.session_id == event.session_id)
    sessions = _replace(
        state.sessions,
        "session_id",
        event.session_id,
        start=event.start,
        end=event.end,
        travel_km=event.travel_km,
        corrections=old.corrections + 1,
    )
    return _touch(state, env, env.occurred_at, sessions=sessions)


@_apply.register
def _(event: care.SessionVoided, state: CaseState, env: Envelope) -> CaseState:
    sessions = _replace(state.sessions, "session_id", event.session_id, voided=True, void_reason=event.reason)
    return _touch(state, env, env.occurred_at, sessions=sessions)


@_apply.register
def _(event: care.TransportBooked, state: CaseState, env: Envelope) -> CaseState:
    return _touch(state, env, env.occurred_at, transports=[*state.transports, TransportView(**event.model_dump())])


@_apply.register
def _(event: care.TransportDone, state: CaseState, env: Envelope) -> CaseState:
    transports = _replace(
        state.transports, "transport_id", event.transport_id, status="done", done_at=event.at, km=event.km
    )
    return _touch(state, env, env.occurred_at, transports=transports)


@_apply.register
def _(event: care.TransportCancelled, state: CaseState, env: Envelope) -> CaseState:
    transports = _replace(
        state.transports, "transport_id", event.transport_id, status="cancelled", cancel_reason=event.reason
    )
    return _touch(state, env, env.occurred_at, transports=transports)


@_apply.register
def _(event: care.NeedUnfilled, state: CaseState, env: Envelope) -> CaseState:
    return _touch(state, env, env.occurred_at, unfilled=event)


# --- the caller's routing ledger --------------------------------------------------------


@dataclass(frozen=True)
class CallerRouting:
    stream_id: str
    version: int = 0
    last_case_id: str | None = None
    routes: dict[str, str] = field(default_factory=dict)

    def case_for(self, call_id: str) -> str | None:
        """The case this call belongs to: its routed case, else the caller's latest case."""
        return self.routes.get(call_id) or self.last_case_id


def fold_routing(stream_id: str, envelopes: Iterable[Envelope]) -> CallerRouting:
    last, routes, version = None, {}, 0
    for env in sorted(envelopes, key=lambda e: e.version):
        version = env.version
        match env.data:
            case ev.CallerCaseOpened(case_id=case_id):
                last = case_id
            case ev.CallRouted(call_id=call_id, case_id=case_id):
                routes[call_id] = case_id
    return CallerRouting(stream_id, version, last, routes)


# --- decisions --------------------------------------------------------------------------

_CALL_EVENTS = {
    "started": ev.CallStarted,
    "answered": ev.CallAnswered,
    "ended": ev.CallEnded,
}


def _call_event(cmd: CallEventIn) -> ev.Event:
    facts = ev.CallFacts(
        call_id=cmd.call_id, line=cmd.line, caller_number=cmd.caller_number, agent=cmd.agent, at=cmd.at
    )
    if cmd.type == "voicemail":
        return ev.VoicemailLeft(call=facts, recording_ref=cmd.recording_ref)
    return _CALL_EVENTS[cmd.type](call=facts)


def decide_call_event(cmd: CallEventIn, routing: CallerRouting, case: CaseState | None, new_case_id: str) -> Decision:
    """Record a phone-system event on the right case, opening one if the caller has none open.

    `case` is the state of `routing.case_for(cmd.call_id)`, or None if there is no such case.
    A call already routed stays with its case even if staff closed it meanwhile.
    """
    routed = cmd.call_id in routing.routes
    fact = _call_event(cmd)
    if routed or (case is not None and not case.is_closed):
        assert case is not None, "a routed call always has a case"
        appends = [Append(case_stream(case.case_id), case.version, (fact,), cmd.at)]
        if not routed:
            route = ev.CallRouted(call_id=cmd.call_id, case_id=case.case_id)
            appends.insert(0, Append(routing.stream_id, routing.version, (route,), cmd.at))
        return Decision(tuple(appends), {"case_id": case.case_id, "call_id": cmd.call_id, "opened": False})

    opened = ev.CaseOpened(
        case_id=new_case_id,
        family_id=family_for(routing.stream_id),
        channel="voicemail" if cmd.type == "voicemail" else "call",
        caller_number=cmd.caller_number,
        opened_at=cmd.at,
    )
    ledger = (ev.CallerCaseOpened(case_id=new_case_id), ev.CallRouted(call_id=cmd.call_id, case_id=new_case_id))
    return Decision(
        (
            Append(routing.stream_id, routing.version, ledger, cmd.at),
            Append(case_stream(new_case_id), 0, (opened, fact), cmd.at),
        ),
        {"case_id": new_case_id, "call_id": cmd.call_id, "opened": True},
    )


def _open_case(case: CaseState | None, case_id: str) -> CaseState:
    if case is None:
        raise NotFound(f"unknown case {case_id}", field="case_id")
    if case.is_closed:
        raise DomainError(f"case {case_id} is closed", field="case_id")
    return case


def _one(case: CaseState, event: ev.Event, at: datetime, **result) -> Decision:
    result = {"case_id": case.case_id, "version": case.version + 1, **result}
    return Decision((Append(case_stream(case.case_id), case.version, (event,), at),), result)


def decide_consultation(case: CaseState | None, case_id: str, cmd: ConsultationIn) -> Decision:
    case = _open_case(case, case_id)
    if cmd.agent is None:  # the API fills it from the signed-in person
        raise Rejected("a consultation names its agent", field="agent")
    event = ev.ConsultationRecorded(**cmd.model_dump())
    return _one(case, event, cmd.ended_at)


Assess = Callable[[ev.Need, date], Assessment]


def care_day(need: ev.Need) -> date:
    """The Berlin day care starts: eligibility is assessed for it."""
    return need.window.start.astimezone(BERLIN).date()


def _assessed(
    case: CaseState, need: ev.Need, assess: Assess, refused: str, field: str, now: datetime
) -> ev.EligibilityAssessed | Decision:
    """The need's assessment for its care day, or the decision that records its refusal."""
    day = care_day(need)
    verdict = assess(need, day)
    if verdict.tier is None:
        event = ev.CareRefused(refused=refused, day=day, basis=verdict.basis, refused_at=now)
        return refusal(
            (Append(case_stream(case.case_id), case.version, (event,), now),),
            f"not entitled to care: {verdict.basis}; a consultation is always possible",
            field,
        )
    return ev.EligibilityAssessed(entitled=verdict.entitled, tier=verdict.tier.value, basis=verdict.basis, day=day)


def decide_need(
    case: CaseState | None, case_id: str, cmd: NeedIn, now: datetime, assess: Assess | None = None
) -> Decision:
    """A clarification of an emergency's need is assessed again (the latest assessment
    counts); one not entitled is refused and recorded, and the emergency keeps its need."""
    case = _open_case(case, case_id)
    if case.active_assignment is not None:
        # The caregiver was booked for this need's window; a new need needs a new booking.
        raise DomainError("a caregiver is booked for the current need; cancel the assignment first", field="case_id")
    need = ev.Need(**cmd.model_dump())
    events: list[ev.Event] = [ev.NeedClarified(need=need)]
    if case.status == "emergency" and assess is not None:
        assessed = _assessed(case, need, assess, "need", "municipality", now)
        if isinstance(assessed, Decision):
            return assessed
        events.append(assessed)
    append = Append(case_stream(case.case_id), case.version, tuple(events), now)
    return Decision((append,), {"case_id": case.case_id, "version": case.version + len(events)})


def decide_outcome(
    case: CaseState | None, case_id: str, cmd: OutcomeIn, now: datetime, assess: Assess | None = None
) -> Decision:
    """`assess` decides eligibility for a care need; without it none is recorded (tests of
    intake alone). Care for a household not entitled is refused (422) and the refusal
    recorded; the case stays open for advice or a referral."""
    case = _open_case(case, case_id)
    if cmd.outcome == ev.Outcome.CARE_NEED and case.need is None:
        raise DomainError("a concrete care need requires the need to be clarified first", field="outcome")
    if case.status == "emergency":
        raise DomainError("the case is already an emergency; its outcome is settled", field="outcome")
    events: list[ev.Event] = [ev.OutcomeRecorded(**cmd.model_dump())]
    if cmd.outcome == ev.Outcome.CARE_NEED and assess is not None:
        assert case.need is not None
        assessed = _assessed(case, case.need, assess, "care_need", "outcome", now)
        if isinstance(assessed, Decision):
            return assessed
        events.append(assessed)
    if cmd.outcome != ev.Outcome.CARE_NEED:
        events.append(ev.CaseClosed(reason=f"outcome: {cmd.outcome.value}", closed_at=now))
    append = Append(case_stream(case.case_id), case.version, tuple(events), now)
    status = "emergency" if cmd.outcome == ev.Outcome.CARE_NEED else "closed"
    return Decision((append,), {"case_id": case.case_id, "version": case.version + len(events), "status": status})


def decide_callback(case: CaseState | None, case_id: str, cmd: CallbackIn) -> Decision:
    case = _open_case(case, case_id)
    if case.callback_pending_since is None:
        raise DomainError("no callback is pending for this case", field="case_id")
    if cmd.agent is None:  # the API fills it from the signed-in person
        raise Rejected("a callback names its agent", field="agent")
    return _one(case, ev.CallbackMade(**cmd.model_dump()), cmd.at)


def decide_close(case: CaseState | None, case_id: str, cmd: CloseIn) -> Decision:
    case = _open_case(case, case_id)
    booked = case.active_assignment
    if booked is not None and booked.end > cmd.at:
        # Closing would leave the caregiver booked for care that will not happen.
        raise DomainError("the caregiver is booked until the care ends; cancel the assignment first", field="case_id")
    return _one(case, ev.CaseClosed(reason=cmd.reason, closed_at=cmd.at), cmd.at, status="closed")
