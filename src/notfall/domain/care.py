"""Decisions of the care itself: offering, assigning and cancelling caregivers, recording care
sessions and transport services, and flagging needs left unfilled.

An assignment writes the case and the caregiver's calendar in one transaction with expected
versions on both streams: a caregiver cannot be booked twice for the same time, even by two
staff members at the same moment. Hard rules are re-checked against the caregiver's stream
itself, never against a possibly stale read model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from notfall.domain import care_events as ce
from notfall.domain.caregiver import BookingMade, BookingReleased, CaregiverState, ClearanceRules, caregiver_stream
from notfall.domain.case import CaseState, case_stream
from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Event
from notfall.domain.errors import DomainError, NotFound, Rejected
from notfall.domain.events import Value
from notfall.domain.inputs import Moment, Text
from notfall.domain.matching import hard_rule_failures

CLOCK_SKEW = timedelta(minutes=5)  # a check-in may be stamped a little ahead of the server clock
# A case's read-model rows are replaced in one transaction (at most 100 items): these bound
# them. An emergency with more trips or caregivers than this is a new case.
MAX_TRANSPORTS_PER_CASE = 10
MAX_ASSIGNMENTS_PER_CASE = 5


@dataclass(frozen=True)
class CareRules:
    """Configuration of care work; defaults documented in docs/domain-rules.md."""

    offer_ttl: timedelta = timedelta(minutes=15)
    target_time: timedelta = timedelta(minutes=90)
    allowance_cents: int = 1000  # per assignment, to the volunteer
    travel_cents_per_km: int = 30
    transport_price_cents: int = 800  # per trip, to the family
    clearance: ClearanceRules = field(default_factory=ClearanceRules)


# --- inputs -----------------------------------------------------------------------------


class CaregiverRef(Value):
    caregiver_id: Text = Field(pattern=r"^[a-z0-9-]{1,40}$")


class ReassignIn(CaregiverRef):
    by: Literal["caregiver", "staff", "family"] | None = Field(
        default=None, description="who asked for the change; left out, the caller's own party (staff)"
    )
    reason: Text = Field(min_length=1, max_length=300)


class CancelIn(Value):
    by: ce.CancelledBy | None = Field(
        default=None, description="who asked for the change; left out, the caller's own party (staff)"
    )
    reason: Text = Field(min_length=1, max_length=300)


class DeclineIn(Value):
    reason: Text | None = Field(default=None, max_length=300)


def _after_start(end: datetime, info: ValidationInfo) -> datetime:
    start = info.data.get("start")
    if start is not None and end <= start:
        raise ValueError("end must be after start")
    return end


class SessionIn(CaregiverRef):
    start: Moment
    end: Moment
    travel_km: Decimal = Field(default=Decimal(0), ge=0, le=500, decimal_places=1)

    @field_validator("end")
    @classmethod
    def end_after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        return _after_start(end, info)


class CheckInIn(Value):
    at: Moment


class CheckOutIn(Value):
    at: Moment
    travel_km: Decimal = Field(default=Decimal(0), ge=0, le=500, decimal_places=1)


class CorrectionIn(Value):
    start: Moment
    end: Moment
    travel_km: Decimal = Field(default=Decimal(0), ge=0, le=500, decimal_places=1)
    reason: Text = Field(min_length=1, max_length=300)

    @field_validator("end")
    @classmethod
    def end_after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        return _after_start(end, info)


class VoidIn(Value):
    reason: Text = Field(min_length=1, max_length=300)


class TransportIn(Value):
    from_place: Text = Field(min_length=1, max_length=200)
    to_place: Text = Field(min_length=1, max_length=200)
    at: Moment
    persons: int = Field(default=1, ge=1, le=6)
    driver_id: Text | None = Field(default=None, pattern=r"^[a-z0-9-]{1,40}$")


class TransportDoneIn(Value):
    at: Moment
    km: Decimal = Field(ge=0, le=500, decimal_places=1)


# --- helpers ----------------------------------------------------------------------------


def _emergency(case: CaseState | None, case_id: str) -> CaseState:
    if case is None:
        raise NotFound(f"unknown case {case_id}", field="case_id")
    if case.status != "emergency" or case.need is None:
        raise DomainError("only an emergency (a concrete care need) gets caregivers and care", field="case_id")
    return case


def _caregiver(state: CaregiverState | None, caregiver_id: str) -> CaregiverState:
    if state is None:
        raise NotFound(f"unknown caregiver {caregiver_id}", field="caregiver_id")
    return state


def _can_take(case: CaseState, caregiver: CaregiverState, rules: CareRules, replacing: str | None = None) -> None:
    assert case.need is not None
    failures = hard_rule_failures(caregiver, case.need, rules.clearance, ignore_assignment=replacing)
    if failures:
        raise DomainError(
            f"caregiver {caregiver.caregiver_id} cannot take this need: " + "; ".join(failures), field="caregiver_id"
        )


def _assignment(
    case: CaseState,
    caregiver: CaregiverState,
    assignment_id: str,
    now: datetime,
    rules: CareRules,
    offer_id: str | None = None,
    replaces: str | None = None,
) -> tuple[list[Event], BookingMade]:
    """The events that book `caregiver` for the case's window; open offers are withdrawn."""
    assert case.need is not None
    if len(case.assignments) >= MAX_ASSIGNMENTS_PER_CASE:
        raise DomainError(
            f"a case has at most {MAX_ASSIGNMENTS_PER_CASE} assignments; open a new case", field="case_id"
        )
    window = case.need.window
    events: list[Event] = [
        ce.OfferWithdrawn(offer_id=o.offer_id, reason="another caregiver takes the care")
        for o in case.offers
        if o.status == "open" and o.offer_id != offer_id
    ]
    events.append(
        ce.CaregiverAssigned(
            assignment_id=assignment_id,
            caregiver_id=caregiver.caregiver_id,
            start=window.start,
            end=window.expected_end,
            offer_id=offer_id,
            replaces=replaces,
            allowance_cents=rules.allowance_cents,
            travel_cents_per_km=rules.travel_cents_per_km,
        )
    )
    booking = BookingMade(
        assignment_id=assignment_id,
        case_id=case.case_id,
        family_id=case.family_id,
        start=window.start,
        end=window.expected_end,
    )
    return events, booking


def _result(case: CaseState, events: Sequence[Event], **more) -> dict:
    return {"case_id": case.case_id, "version": case.version + len(events), **more}


def _book(
    case: CaseState,
    caregiver: CaregiverState,
    assignment_id: str,
    now: datetime,
    rules: CareRules,
    offer_id: str | None,
) -> Decision:
    """Assign the caregiver (accepting their offer, if any): the case and the calendar at once."""
    _can_take(case, caregiver, rules)
    events, booking = _assignment(case, caregiver, assignment_id, now, rules, offer_id=offer_id)
    if offer_id is not None:
        events.insert(0, ce.OfferAccepted(offer_id=offer_id))
    return Decision(
        (
            Append(case_stream(case.case_id), case.version, tuple(events), now),
            Append(caregiver_stream(caregiver.caregiver_id), caregiver.version, (booking,), now),
        ),
        _result(case, events, assignment_id=assignment_id, caregiver_id=caregiver.caregiver_id),
    )


# --- offers and assignments -------------------------------------------------------------


def decide_offer(
    case: CaseState | None,
    case_id: str,
    caregiver: CaregiverState | None,
    caregiver_id: str,
    offer_id: str,
    now: datetime,
    rules: CareRules,
) -> Decision:
    case = _emergency(case, case_id)
    caregiver = _caregiver(caregiver, caregiver_id)
    if case.active_assignment is not None:
        raise DomainError("the case has a caregiver; reassign instead", field="case_id")
    if any(o.caregiver_id == caregiver_id and o.status == "open" for o in case.offers):
        raise DomainError(f"caregiver {caregiver_id} has an open offer for this case", field="caregiver_id")
    _can_take(case, caregiver, rules)
    event = ce.OfferMade(offer_id=offer_id, caregiver_id=caregiver_id, expires_at=now + rules.offer_ttl)
    return Decision(
        (Append(case_stream(case.case_id), case.version, (event,), now),),
        _result(case, [event], offer_id=offer_id, expires_at=event.expires_at.isoformat()),
    )


def decide_accept(
    case: CaseState | None,
    case_id: str,
    caregiver: CaregiverState | None,
    caregiver_id: str,
    offer_id: str,
    assignment_id: str,
    now: datetime,
    rules: CareRules,
) -> Decision:
    case = _emergency(case, case_id)
    caregiver = _caregiver(caregiver, caregiver_id)
    offer = next((o for o in case.offers if o.offer_id == offer_id and o.caregiver_id == caregiver_id), None)
    if offer is None:
        raise NotFound(f"no offer {offer_id} to caregiver {caregiver_id}", field="offer_id")
    if offer.status != "open":
        raise DomainError(f"the offer is {offer.status.replace('_', ' ')}", field="offer_id")
    if now >= offer.expires_at:
        raise DomainError("the offer timed out", field="offer_id")
    if case.active_assignment is not None:
        raise DomainError("another caregiver took the care meanwhile", field="offer_id")
    return _book(case, caregiver, assignment_id, now, rules, offer_id)


def decide_decline(
    case: CaseState | None, case_id: str, caregiver_id: str, offer_id: str, cmd: DeclineIn, now: datetime
) -> Decision:
    case = _emergency(case, case_id)
    offer = next((o for o in case.offers if o.offer_id == offer_id and o.caregiver_id == caregiver_id), None)
    if offer is None:
        raise NotFound(f"no offer {offer_id} to caregiver {caregiver_id}", field="offer_id")
    if offer.status != "open":
        raise DomainError(f"the offer is {offer.status.replace('_', ' ')}", field="offer_id")
    event = ce.OfferDeclined(offer_id=offer_id, reason=cmd.reason)
    return Decision((Append(case_stream(case.case_id), case.version, (event,), now),), _result(case, [event]))


def decide_assign(
    case: CaseState | None,
    case_id: str,
    caregiver: CaregiverState | None,
    caregiver_id: str,
    assignment_id: str,
    now: datetime,
    rules: CareRules,
) -> Decision:
    """Staff assign directly, e.g. after agreeing with the caregiver on the phone."""
    case = _emergency(case, case_id)
    caregiver = _caregiver(caregiver, caregiver_id)
    if case.active_assignment is not None:
        raise DomainError("the case has a caregiver; reassign instead", field="caregiver_id")
    own_offer = next((o for o in case.offers if o.caregiver_id == caregiver_id and o.status == "open"), None)
    return _book(case, caregiver, assignment_id, now, rules, own_offer.offer_id if own_offer else None)


def _notice(case: CaseState, now: datetime) -> int:
    assert case.need is not None
    return int((case.need.window.start - now).total_seconds() // 60)


def decide_cancel(
    case: CaseState | None, case_id: str, caregiver: CaregiverState | None, cmd: CancelIn, now: datetime
) -> Decision:
    case = _emergency(case, case_id)
    current = case.active_assignment
    if current is None:
        raise DomainError("the case has no caregiver to cancel", field="case_id")
    if cmd.by is None:  # the API fills it from the caller
        raise Rejected("a cancellation names who asked for it", field="by")
    caregiver = _caregiver(caregiver, current.caregiver_id)
    cancel = ce.AssignmentCancelled(
        assignment_id=current.assignment_id, by=cmd.by, reason=cmd.reason, notice_minutes=_notice(case, now)
    )
    release = BookingReleased(assignment_id=current.assignment_id, reason=f"cancelled by {cmd.by}: {cmd.reason}")
    return Decision(
        (
            Append(case_stream(case.case_id), case.version, (cancel,), now),
            Append(caregiver_stream(caregiver.caregiver_id), caregiver.version, (release,), now),
        ),
        _result(case, [cancel], cancelled=current.assignment_id),
    )


def decide_reassign(
    case: CaseState | None,
    case_id: str,
    old: CaregiverState | None,
    new: CaregiverState | None,
    cmd: ReassignIn,
    assignment_id: str,
    now: datetime,
    rules: CareRules,
) -> Decision:
    case = _emergency(case, case_id)
    current = case.active_assignment
    if current is None:
        raise DomainError("the case has no caregiver yet; assign instead", field="case_id")
    if current.caregiver_id == cmd.caregiver_id:
        raise DomainError("that caregiver is already assigned", field="caregiver_id")
    if cmd.by is None:  # the API fills it from the caller
        raise Rejected("a reassignment names who asked for it", field="by")
    old = _caregiver(old, current.caregiver_id)
    new = _caregiver(new, cmd.caregiver_id)
    _can_take(case, new, rules)
    cancel = ce.AssignmentCancelled(
        assignment_id=current.assignment_id,
        by=cmd.by,
        reason=f"reassigned: {cmd.reason}",
        notice_minutes=_notice(case, now),
    )
    events, booking = _assignment(case, new, assignment_id, now, rules, replaces=current.assignment_id)
    release = BookingReleased(assignment_id=current.assignment_id, reason=f"reassigned: {cmd.reason}")
    return Decision(
        (
            Append(case_stream(case.case_id), case.version, (cancel, *events), now),
            Append(caregiver_stream(old.caregiver_id), old.version, (release,), now),
            Append(caregiver_stream(new.caregiver_id), new.version, (booking,), now),
        ),
        _result(case, [cancel, *events], assignment_id=assignment_id, caregiver_id=new.caregiver_id),
    )


def decide_offer_timeouts(case: CaseState, now: datetime) -> Decision | None:
    """Offers past their time, recorded as timed out; None when there are none."""
    events = [ce.OfferTimedOut(offer_id=o.offer_id) for o in case.offers if o.status == "open" and now >= o.expires_at]
    if not events:
        return None
    return Decision(
        (Append(case_stream(case.case_id), case.version, tuple(events), now),),
        _result(case, events, timed_out=[e.offer_id for e in events]),
    )


def unfilled_since(case: CaseState) -> datetime | None:
    """Since when the emergency has waited for a caregiver: the care need, or the latest
    cancellation if the caregiver dropped out; None while a caregiver is assigned."""
    if case.status != "emergency" or case.need_at is None or case.active_assignment is not None:
        return None
    cancelled = [a.cancelled_at for a in case.assignments if a.cancelled_at is not None]
    return max([case.need_at, *cancelled])


def decide_unfilled(case: CaseState, now: datetime, rules: CareRules, reason: str) -> Decision | None:
    """Flag an emergency still without a caregiver after the target time; once per wait."""
    since = unfilled_since(case)
    if since is None or now < since + rules.target_time:
        return None
    if case.unfilled is not None and case.unfilled.need_at == since:
        return None  # this wait is flagged already
    event = ce.NeedUnfilled(need_at=since, detected_at=now, reason=reason)
    return Decision((Append(case_stream(case.case_id), case.version, (event,), now),), _result(case, [event]))


# --- care sessions ----------------------------------------------------------------------


def _assignment_of(case: CaseState, caregiver_id: str):
    """The caregiver's assignment on the case: the active one, else their latest."""
    mine = [a for a in case.assignments if a.caregiver_id == caregiver_id]
    if not mine:
        raise DomainError(f"caregiver {caregiver_id} is not assigned to this case", field="caregiver_id")
    return next((a for a in reversed(mine) if a.active), mine[-1])


def _no_overlap(case: CaseState, start: datetime, end: datetime | None, skip: str | None = None) -> None:
    for other in case.live_sessions:
        if other.session_id == skip:
            continue
        other_end = other.end or datetime.max.replace(tzinfo=start.tzinfo)
        if other.start < (end or datetime.max.replace(tzinfo=start.tzinfo)) and start < other_end:
            raise DomainError(
                f"overlaps session {other.session_id} ({other.start.isoformat()} to "
                f"{other.end.isoformat() if other.end else 'now'})",
                field="start",
            )


def _cared(case: CaseState | None, case_id: str) -> CaseState:
    """Sessions belong to emergencies; they may be recorded after the case was closed."""
    if case is None:
        raise NotFound(f"unknown case {case_id}", field="case_id")
    if not case.assignments:
        raise DomainError("the case has no assigned caregiver", field="case_id")
    return case


def decide_record_session(
    case: CaseState | None, case_id: str, cmd: SessionIn, session_id: str, now: datetime
) -> Decision:
    case = _cared(case, case_id)
    assignment = _assignment_of(case, cmd.caregiver_id)
    if not assignment.active and cmd.start >= assignment.cancelled_at:
        # Care given before a cancellation or reassignment is still recorded (and paid).
        raise DomainError("that assignment was cancelled before this session", field="caregiver_id")
    if cmd.end > now + CLOCK_SKEW:
        raise DomainError("a session is recorded once it has ended", field="end")
    _no_overlap(case, cmd.start, cmd.end)
    event = ce.SessionRecorded(
        session_id=session_id,
        assignment_id=assignment.assignment_id,
        caregiver_id=cmd.caregiver_id,
        start=cmd.start,
        end=cmd.end,
        travel_km=cmd.travel_km,
    )
    return Decision(
        (Append(case_stream(case.case_id), case.version, (event,), now),), _result(case, [event], session_id=session_id)
    )


def decide_check_in(
    case: CaseState | None, case_id: str, caregiver_id: str, cmd: CheckInIn, session_id: str, now: datetime
) -> Decision:
    case = _cared(case, case_id)
    assignment = _assignment_of(case, caregiver_id)
    if not assignment.active:
        raise DomainError("that assignment was cancelled", field="caregiver_id")
    if cmd.at > now + CLOCK_SKEW:
        raise DomainError("a check-in cannot lie in the future", field="at")
    if any(x.end is None and x.caregiver_id == caregiver_id for x in case.live_sessions):
        raise DomainError("already checked in; check out first", field="at")
    _no_overlap(case, cmd.at, None)
    event = ce.SessionStarted(
        session_id=session_id, assignment_id=assignment.assignment_id, caregiver_id=caregiver_id, at=cmd.at
    )
    return Decision(
        (Append(case_stream(case.case_id), case.version, (event,), now),), _result(case, [event], session_id=session_id)
    )


def decide_check_out(
    case: CaseState | None, case_id: str, caregiver_id: str, cmd: CheckOutIn, now: datetime
) -> Decision:
    case = _cared(case, case_id)
    open_session = next((x for x in case.live_sessions if x.end is None and x.caregiver_id == caregiver_id), None)
    if open_session is None:
        raise DomainError("not checked in", field="at")
    if cmd.at <= open_session.start:
        raise DomainError("check-out must be after the check-in", field="at")
    if cmd.at > now + CLOCK_SKEW:
        raise DomainError("a check-out cannot lie in the future", field="at")
    event = ce.SessionEnded(session_id=open_session.session_id, at=cmd.at, travel_km=cmd.travel_km)
    return Decision(
        (Append(case_stream(case.case_id), case.version, (event,), now),),
        _result(case, [event], session_id=open_session.session_id),
    )


def _session(case: CaseState, session_id: str):
    session = next((x for x in case.sessions if x.session_id == session_id), None)
    if session is None:
        raise NotFound(f"no session {session_id}", field="session_id")
    if session.voided:
        raise DomainError("the session was voided", field="session_id")
    return session


def decide_correct_session(
    case: CaseState | None, case_id: str, session_id: str, cmd: CorrectionIn, now: datetime
) -> Decision:
    case = _cared(case, case_id)
    _session(case, session_id)
    if cmd.end > now + CLOCK_SKEW:
        raise DomainError("a corrected session must have ended", field="end")
    _no_overlap(case, cmd.start, cmd.end, skip=session_id)
    event = ce.SessionCorrected(
        session_id=session_id, start=cmd.start, end=cmd.end, travel_km=cmd.travel_km, reason=cmd.reason
    )
    return Decision(
        (Append(case_stream(case.case_id), case.version, (event,), now),), _result(case, [event], session_id=session_id)
    )


def decide_void_session(case: CaseState | None, case_id: str, session_id: str, cmd: VoidIn, now: datetime) -> Decision:
    case = _cared(case, case_id)
    _session(case, session_id)
    event = ce.SessionVoided(session_id=session_id, reason=cmd.reason)
    return Decision(
        (Append(case_stream(case.case_id), case.version, (event,), now),), _result(case, [event], session_id=session_id)
    )


# --- transport services -----------------------------------------------------------------


def decide_book_transport(
    case: CaseState | None,
    case_id: str,
    cmd: TransportIn,
    transport_id: str,
    now: datetime,
    rules: CareRules,
    driver: CaregiverState | None = None,
) -> Decision:
    case = _emergency(case, case_id)
    if len(case.transports) >= MAX_TRANSPORTS_PER_CASE:
        raise DomainError(
            f"a case has at most {MAX_TRANSPORTS_PER_CASE} transport services; open a new case", field="case_id"
        )
    if cmd.driver_id is not None:
        driver = _caregiver(driver, cmd.driver_id)
        if not driver.profile.offers_transport:
            raise DomainError(f"caregiver {cmd.driver_id} does not offer transport", field="driver_id")
    event = ce.TransportBooked(transport_id=transport_id, price_cents=rules.transport_price_cents, **cmd.model_dump())
    return Decision(
        (Append(case_stream(case.case_id), case.version, (event,), now),),
        _result(case, [event], transport_id=transport_id, price_cents=rules.transport_price_cents),
    )


def _transport(case: CaseState, transport_id: str):
    transport = next((t for t in case.transports if t.transport_id == transport_id), None)
    if transport is None:
        raise NotFound(f"no transport {transport_id}", field="transport_id")
    if transport.status != "booked":
        raise DomainError(f"the transport is {transport.status}", field="transport_id")
    return transport


def decide_transport_done(
    case: CaseState | None, case_id: str, transport_id: str, cmd: TransportDoneIn, now: datetime
) -> Decision:
    if case is None:
        raise NotFound(f"unknown case {case_id}", field="case_id")
    _transport(case, transport_id)  # booked on an emergency; may be done after the case was closed
    if cmd.at > now + CLOCK_SKEW:
        raise DomainError("a transport is recorded once done", field="at")
    event = ce.TransportDone(transport_id=transport_id, at=cmd.at, km=cmd.km)
    return Decision((Append(case_stream(case.case_id), case.version, (event,), now),), _result(case, [event]))


def decide_transport_cancel(
    case: CaseState | None, case_id: str, transport_id: str, cmd: VoidIn, now: datetime
) -> Decision:
    case = _emergency(case, case_id)
    _transport(case, transport_id)
    event = ce.TransportCancelled(transport_id=transport_id, reason=cmd.reason)
    return Decision((Append(case_stream(case.case_id), case.version, (event,), now),), _result(case, [event]))
