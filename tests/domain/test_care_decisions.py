# Proves the care lifecycle through the use cases: offers, assignment, cancel, sessions, transport, sweep, retries.
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from care_builders import ALL_WEEK, profile
from domain_builders import berlin, call_in, need_in, outcome_in, utc
from pydantic import ValidationError

from notfall.app.care import Care
from notfall.app.caregivers import Caregivers, RegisterIn, StatusIn
from notfall.app.intake import Intake
from notfall.domain import care as d
from notfall.domain import care_events as ce
from notfall.domain.caregiver import BookingMade, BookingReleased
from notfall.domain.commands import CloseIn
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, NotFound
from notfall.domain.matching import rank
from notfall.store.memory import MemoryEventStore

NOW = berlin(2026, 3, 2, 9, 0)  # Monday morning: the hotline records the care need
# need_in(): children of 3 and 6 at home in Laatzen, Tuesday 2026-03-03 06:30-11:00 Berlin
START, END = berlin(2026, 3, 3, 6, 30), berlin(2026, 3, 3, 11)
AFTER_CARE = berlin(2026, 3, 3, 12)
WEDNESDAY = {"start": "2026-03-04T06:30:00+01:00", "expected_end": "2026-03-04T11:00:00+01:00"}
TUESDAY_LATER = {"start": "2026-03-03T10:00:00+01:00", "expected_end": "2026-03-03T14:00:00+01:00"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Hotline:
    """The use cases on one in-memory store, with one clock and deterministic ids."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, rules: d.CareRules | None = None) -> None:
        self.store = MemoryEventStore()
        self.clock = Clock(NOW)
        ids = itertools.count(1)
        self.care = Care(self.store, rules=rules, ids=lambda: f"id{next(ids)}", clock=self.clock)
        self.caregivers = Caregivers(self.store, self.clock)
        cases = itertools.count(1)
        self.intake = Intake(self.store, new_id=lambda: f"case{next(cases)}", clock=self.clock)
        self._commands = itertools.count(1)
        self._callers = itertools.count(1)

    def meta(self) -> Metadata:
        n = next(self._commands)
        return Metadata(command_id=f"cmd-{n}", actor="hotline-schulz", correlation_id=f"corr-{n}")

    def emergency(self, **need_changes) -> str:
        """A call from a new number, its need clarified, the outcome a care need - at the clock's time."""
        n = next(self._callers)
        case_id = self.intake.call_event(
            call_in("started", call_id=f"pbx-{n}", number=f"+49 511 76023{n:03d}"), self.meta()
        )["case_id"]
        self.intake.need(case_id, need_in(**need_changes), self.meta())
        self.intake.outcome(case_id, outcome_in("care_need"), self.meta())
        return case_id

    def register(self, caregiver_id: str, windows=ALL_WEEK, **profile_changes) -> None:
        cmd = RegisterIn(
            caregiver_id=caregiver_id, profile=profile(name=caregiver_id.title(), **profile_changes), weekly=windows
        )
        self.caregivers.register(cmd, self.meta())

    # commands, each with a fresh command id
    def offer(self, case_id: str, caregiver_id: str) -> dict:
        return self.care.offer(case_id, d.CaregiverRef(caregiver_id=caregiver_id), self.meta())

    def assign(self, case_id: str, caregiver_id: str) -> dict:
        return self.care.assign(case_id, d.CaregiverRef(caregiver_id=caregiver_id), self.meta())

    def cancel(self, case_id: str, by: str, reason: str = "Oma springt ein") -> dict:
        return self.care.cancel(case_id, d.CancelIn(by=by, reason=reason), self.meta())

    def record(self, case_id: str, caregiver_id: str, start: datetime, end: datetime, km: str = "0") -> dict:
        cmd = d.SessionIn(caregiver_id=caregiver_id, start=start, end=end, travel_km=Decimal(km))
        return self.care.record_session(case_id, cmd, self.meta())

    # what the store holds
    def case(self, case_id: str):
        return self.care.case(case_id)

    def events(self, stream_id: str) -> list:
        return [e.data for e in self.store.load(stream_id)]

    def types(self, stream_id: str) -> list[str]:
        return [e.event_type for e in self.store.load(stream_id)]


@pytest.fixture
def hotline(monkeypatch) -> Hotline:
    h = Hotline(monkeypatch)
    h.register("anna")
    h.register("bert")
    return h


def refused(call, status: int = 409):
    """Run `call`, expecting a domain error with that status; return the error."""
    with pytest.raises(DomainError) as err:
        call()
    assert err.value.status == status, err.value.problem
    return err.value


# --- offers ------------------------------------------------------------------------------------


def test_an_accepted_offer_assigns_the_caregiver_books_them_and_withdraws_the_other_offers(hotline) -> None:
    case_id = hotline.emergency()
    to_anna = hotline.offer(case_id, "anna")
    to_bert = hotline.offer(case_id, "bert")
    assert datetime.fromisoformat(to_anna["expires_at"]) == NOW + timedelta(minutes=15)
    before = len(hotline.store.load(f"case-{case_id}"))

    hotline.clock.advance(minutes=5)
    answer = hotline.care.accept(case_id, "anna", to_anna["offer_id"], hotline.meta())

    new = hotline.events(f"case-{case_id}")[before:]
    assert [e.event_type for e in new] == ["OfferAccepted", "OfferWithdrawn", "CaregiverAssigned"]
    accepted, withdrawn, assigned = new
    assert accepted.offer_id == to_anna["offer_id"]
    assert (withdrawn.offer_id, withdrawn.reason) == (to_bert["offer_id"], "another caregiver takes the care")
    assert assigned == ce.CaregiverAssigned(
        assignment_id=answer["assignment_id"],
        caregiver_id="anna",
        start=START,
        end=END,
        offer_id=to_anna["offer_id"],
        replaces=None,
        allowance_cents=1000,
        travel_cents_per_km=30,
    )
    assert answer == {
        "case_id": case_id,
        "version": before + 3,
        "assignment_id": assigned.assignment_id,
        "caregiver_id": "anna",
    }

    case = hotline.case(case_id)
    assert [(o.caregiver_id, o.status) for o in case.offers] == [("anna", "accepted"), ("bert", "withdrawn")]
    assert case.active_assignment.caregiver_id == "anna"
    assert case.active_assignment.assigned_at == NOW + timedelta(minutes=5)
    assert hotline.events("caregiver-anna")[-1] == BookingMade(
        assignment_id=assigned.assignment_id, case_id=case_id, family_id=case.family_id, start=START, end=END
    )
    assert hotline.types("caregiver-bert") == ["CaregiverRegistered", "WeeklyAvailabilitySet"]

    late = refused(lambda: hotline.care.accept(case_id, "bert", to_bert["offer_id"], hotline.meta()))
    assert (late.problem, late.field) == ("the offer is withdrawn", "offer_id")


def test_an_offer_goes_only_to_a_caregiver_who_can_take_the_need(hotline) -> None:
    hotline.register("carla", age_groups=["school"])  # the need has a 3-year-old
    case_id = hotline.emergency()
    err = refused(lambda: hotline.offer(case_id, "carla"))
    assert err.field == "caregiver_id" and "does not care for preschool" in err.problem
    hotline.offer(case_id, "anna")
    twice = refused(lambda: hotline.offer(case_id, "anna"))
    assert twice.problem == "caregiver anna has an open offer for this case"


def test_a_declined_offer_stays_declined(hotline) -> None:
    case_id = hotline.emergency()
    offer = hotline.offer(case_id, "anna")
    hotline.care.decline(case_id, "anna", offer["offer_id"], d.DeclineIn(reason="Arzttermin"), hotline.meta())
    assert hotline.events(f"case-{case_id}")[-1] == ce.OfferDeclined(offer_id=offer["offer_id"], reason="Arzttermin")
    [view] = hotline.case(case_id).offers
    assert (view.status, view.reason, view.decided_at) == ("declined", "Arzttermin", NOW)
    assert refused(lambda: hotline.care.accept(case_id, "anna", offer["offer_id"], hotline.meta())).problem == (
        "the offer is declined"
    )
    decline_again = lambda: hotline.care.decline(  # noqa: E731
        case_id, "anna", offer["offer_id"], d.DeclineIn(), hotline.meta()
    )
    assert refused(decline_again).problem == "the offer is declined"
    assert (
        refused(
            lambda: hotline.care.decline(case_id, "bert", offer["offer_id"], d.DeclineIn(), hotline.meta()), 404
        ).field
        == "offer_id"
    )


def test_an_offer_can_be_accepted_until_just_before_it_expires(hotline) -> None:
    case_id = hotline.emergency()
    offer = hotline.offer(case_id, "anna")
    hotline.clock.advance(minutes=14, seconds=59)
    assert hotline.care.accept(case_id, "anna", offer["offer_id"], hotline.meta())["caregiver_id"] == "anna"


def test_an_expired_offer_cannot_be_accepted_and_the_sweep_times_it_out_once(hotline) -> None:
    case_id = hotline.emergency()
    offer = hotline.offer(case_id, "anna")
    hotline.clock.advance(minutes=15)
    err = refused(lambda: hotline.care.accept(case_id, "anna", offer["offer_id"], hotline.meta()))
    assert (err.problem, err.field) == ("the offer timed out", "offer_id")

    assert hotline.care.sweep_case(case_id, lambda case: "nobody") == ["offers timed out"]
    assert hotline.care.sweep_case(case_id, lambda case: "nobody") == []  # a rerun records nothing
    assert hotline.types(f"case-{case_id}").count("OfferTimedOut") == 1
    assert hotline.case(case_id).offers[0].status == "timed_out"
    assert refused(lambda: hotline.care.accept(case_id, "anna", offer["offer_id"], hotline.meta())).problem == (
        "the offer is timed out"
    )
    hotline.offer(case_id, "anna")  # a new offer may go to the same caregiver


def test_the_sweep_leaves_offers_that_have_not_expired(hotline) -> None:
    case_id = hotline.emergency()
    hotline.offer(case_id, "anna")
    hotline.clock.advance(minutes=14)
    assert hotline.care.sweep_case(case_id, lambda case: "nobody") == []
    assert hotline.case(case_id).offers[0].status == "open"


# --- direct assignment ---------------------------------------------------------------------------


def test_staff_assign_directly_and_the_caregiver_is_booked(hotline) -> None:
    case_id = hotline.emergency()
    to_bert = hotline.offer(case_id, "bert")
    answer = hotline.assign(case_id, "anna")
    *_, withdrawn, assigned = hotline.events(f"case-{case_id}")
    assert (withdrawn.offer_id, assigned.caregiver_id, assigned.offer_id) == (to_bert["offer_id"], "anna", None)
    assert assigned.assignment_id == answer["assignment_id"]
    assert hotline.types("caregiver-anna")[-1] == "BookingMade"


def test_assigning_a_caregiver_with_an_open_offer_accepts_that_offer(hotline) -> None:
    case_id = hotline.emergency()
    to_anna = hotline.offer(case_id, "anna")
    hotline.assign(case_id, "anna")
    *_, accepted, assigned = hotline.events(f"case-{case_id}")
    assert accepted == ce.OfferAccepted(offer_id=to_anna["offer_id"])
    assert assigned.offer_id == to_anna["offer_id"]


def test_a_second_caregiver_while_one_is_active_is_refused(hotline) -> None:
    case_id = hotline.emergency()
    hotline.assign(case_id, "anna")
    err = refused(lambda: hotline.assign(case_id, "bert"))
    assert (err.problem, err.field) == ("the case has a caregiver; reassign instead", "caregiver_id")
    assert hotline.types("caregiver-bert")[-1] == "WeeklyAvailabilitySet"


def test_one_caregiver_cannot_be_booked_for_overlapping_windows_of_two_cases(hotline) -> None:
    first = hotline.emergency()
    second = hotline.emergency(window=TUESDAY_LATER)  # 10:00-14:00 overlaps 06:30-11:00
    hotline.assign(first, "anna")
    err = refused(lambda: hotline.assign(second, "anna"))
    assert err.field == "caregiver_id"
    assert err.problem == f"caregiver anna cannot take this need: booked for case {first}"
    assert hotline.types("caregiver-anna").count("BookingMade") == 1
    third = hotline.emergency(window=WEDNESDAY)
    assert hotline.assign(third, "anna")["caregiver_id"] == "anna"  # another day is fine


def test_a_caregiver_with_an_expired_clearance_cannot_be_assigned(hotline) -> None:
    hotline.register("carla", police_clearance_on=date(2021, 3, 1))  # expired on 2026-03-01
    case_id = hotline.emergency()
    err = refused(lambda: hotline.assign(case_id, "carla"))
    assert err.problem == "caregiver carla cannot take this need: police clearance expired on 2026-03-01"


def test_only_an_emergency_gets_a_caregiver_and_only_a_registered_one(hotline) -> None:
    case_id = hotline.intake.call_event(call_in("started", call_id="pbx-x", number="+49 511 999999"), hotline.meta())[
        "case_id"
    ]
    err = refused(lambda: hotline.assign(case_id, "anna"))
    assert err.field == "case_id" and "only an emergency" in err.problem
    emergency = hotline.emergency()
    assert refused(lambda: hotline.assign(emergency, "zora"), 404).field == "caregiver_id"
    assert refused(lambda: hotline.assign("nope", "anna"), 404).field == "case_id"


# --- cancellation --------------------------------------------------------------------------------


def test_a_family_cancels_the_booking_is_released_and_the_caregiver_is_free_again(hotline) -> None:
    first = hotline.emergency()
    second = hotline.emergency(window=TUESDAY_LATER)
    assigned = hotline.assign(first, "anna")
    hotline.clock.now = berlin(2026, 3, 2, 20, 0)  # 10 h 30 min before the care starts
    answer = hotline.cancel(first, "family", "Kita hat doch offen")

    assert hotline.events(f"case-{first}")[-1] == ce.AssignmentCancelled(
        assignment_id=assigned["assignment_id"], by="family", reason="Kita hat doch offen", notice_minutes=630
    )
    assert answer["cancelled"] == assigned["assignment_id"]
    assert hotline.events("caregiver-anna")[-1] == BookingReleased(
        assignment_id=assigned["assignment_id"], reason="cancelled by family: Kita hat doch offen"
    )
    case = hotline.case(first)
    assert case.active_assignment is None
    [view] = case.assignments
    assert (view.cancelled_by, view.notice_minutes, view.cancelled_at) == ("family", 630, hotline.clock.now)

    assert hotline.assign(second, "anna")["caregiver_id"] == "anna"  # free again for the overlapping case


@pytest.mark.parametrize(
    ("now", "notice"),
    [
        (berlin(2026, 3, 3, 6, 0), 30),  # half an hour before the start
        (berlin(2026, 3, 3, 6, 29, 30), 0),  # whole minutes, rounded down
        (berlin(2026, 3, 3, 7, 0), -30),  # after the care started
    ],
)
def test_a_caregiver_cancels_and_the_notice_counts_to_the_window_start(hotline, now: datetime, notice: int) -> None:
    case_id = hotline.emergency()
    hotline.assign(case_id, "anna")
    hotline.clock.now = now
    hotline.cancel(case_id, "caregiver", "krank")
    cancelled = hotline.events(f"case-{case_id}")[-1]
    assert (cancelled.by, cancelled.notice_minutes) == ("caregiver", notice)
    assert hotline.case(case_id).assignments[0].notice_minutes == notice


def test_a_cancelled_case_can_get_a_caregiver_again_and_nothing_to_cancel_is_refused(hotline) -> None:
    case_id = hotline.emergency()
    err = refused(lambda: hotline.cancel(case_id, "staff"))
    assert (err.problem, err.field) == ("the case has no caregiver to cancel", "case_id")
    hotline.assign(case_id, "anna")
    hotline.cancel(case_id, "caregiver", "krank")
    assert hotline.assign(case_id, "bert")["caregiver_id"] == "bert"
    assert [(a.caregiver_id, a.active) for a in hotline.case(case_id).assignments] == [("anna", False), ("bert", True)]


# --- reassignment --------------------------------------------------------------------------------


def test_reassign_releases_the_old_booking_and_books_the_new_caregiver(hotline) -> None:
    case_id = hotline.emergency()
    old = hotline.assign(case_id, "anna")
    hotline.clock.now = berlin(2026, 3, 3, 5, 0)  # 90 minutes before the start
    before = len(hotline.store.load(f"case-{case_id}"))
    answer = hotline.care.reassign(
        case_id, d.ReassignIn(caregiver_id="bert", by="caregiver", reason="Fieber"), hotline.meta()
    )

    cancelled, assigned = hotline.events(f"case-{case_id}")[before:]
    assert cancelled == ce.AssignmentCancelled(
        assignment_id=old["assignment_id"], by="caregiver", reason="reassigned: Fieber", notice_minutes=90
    )
    assert (assigned.caregiver_id, assigned.replaces) == ("bert", old["assignment_id"])
    assert answer == {
        "case_id": case_id,
        "version": before + 2,
        "assignment_id": assigned.assignment_id,
        "caregiver_id": "bert",
    }
    assert hotline.events("caregiver-anna")[-1] == BookingReleased(
        assignment_id=old["assignment_id"], reason="reassigned: Fieber"
    )
    assert hotline.events("caregiver-bert")[-1].assignment_id == assigned.assignment_id
    assert hotline.case(case_id).active_assignment.caregiver_id == "bert"


def test_reassign_to_the_assigned_caregiver_or_without_one_is_refused(hotline) -> None:
    case_id = hotline.emergency()
    to = lambda cid: d.ReassignIn(caregiver_id=cid, by="staff", reason="Wunsch der Familie")  # noqa: E731
    assert refused(lambda: hotline.care.reassign(case_id, to("bert"), hotline.meta())).problem == (
        "the case has no caregiver yet; assign instead"
    )
    hotline.assign(case_id, "anna")
    err = refused(lambda: hotline.care.reassign(case_id, to("anna"), hotline.meta()))
    assert (err.problem, err.field) == ("that caregiver is already assigned", "caregiver_id")


def test_a_care_change_that_names_nobody_who_asked_is_refused_the_api_fills_it(hotline) -> None:
    case_id = hotline.emergency()
    hotline.assign(case_id, "anna")
    before = hotline.types(f"case-{case_id}")
    moved = refused(
        lambda: hotline.care.reassign(case_id, d.ReassignIn(caregiver_id="bert", reason="x"), hotline.meta()), 422
    )
    cancelled = refused(lambda: hotline.care.cancel(case_id, d.CancelIn(reason="x"), hotline.meta()), 422)
    assert (moved.status, moved.field, cancelled.status, cancelled.field) == (422, "by", 422, "by")
    assert hotline.types(f"case-{case_id}") == before


def test_reassign_to_a_caregiver_booked_elsewhere_changes_nothing(hotline) -> None:
    first, second = hotline.emergency(), hotline.emergency(window=TUESDAY_LATER)
    hotline.assign(first, "anna")
    hotline.assign(second, "bert")
    before = {s: hotline.types(s) for s in (f"case-{first}", "caregiver-anna", "caregiver-bert")}
    err = refused(
        lambda: hotline.care.reassign(first, d.ReassignIn(caregiver_id="bert", by="staff", reason="x"), hotline.meta())
    )
    assert err.problem == f"caregiver bert cannot take this need: booked for case {second}"
    assert {s: hotline.types(s) for s in before} == before


# --- sessions ------------------------------------------------------------------------------------


@pytest.fixture
def cared(hotline) -> str:
    """An emergency with anna assigned; the clock after the care."""
    case_id = hotline.emergency()
    hotline.assign(case_id, "anna")
    hotline.clock.now = AFTER_CARE
    return case_id


def test_staff_record_a_whole_session(hotline, cared) -> None:
    answer = hotline.record(cared, "anna", START, END, km="12.5")
    assignment = hotline.case(cared).active_assignment
    assert hotline.events(f"case-{cared}")[-1] == ce.SessionRecorded(
        session_id=answer["session_id"],
        assignment_id=assignment.assignment_id,
        caregiver_id="anna",
        start=START,
        end=END,
        travel_km=Decimal("12.5"),
    )
    [session] = hotline.case(cared).sessions
    assert (session.source, session.start, session.end, session.travel_km) == ("staff", START, END, Decimal("12.5"))
    assert session.end - session.start == timedelta(hours=4, minutes=30)


def test_an_overlapping_session_is_refused_and_an_adjacent_one_is_not(hotline, cared) -> None:
    first = hotline.record(cared, "anna", START, berlin(2026, 3, 3, 9))
    err = refused(lambda: hotline.record(cared, "anna", berlin(2026, 3, 3, 8, 59), END))
    assert err.field == "start" and err.problem.startswith(f"overlaps session {first['session_id']}")
    hotline.record(cared, "anna", berlin(2026, 3, 3, 9), END)
    assert len(hotline.case(cared).sessions) == 2


def test_a_session_ending_before_it_starts_is_refused_by_the_model() -> None:
    with pytest.raises(ValidationError) as err:
        d.SessionIn(caregiver_id="anna", start=END, end=START)
    [error] = err.value.errors()
    assert error["loc"] == ("end",) and "end must be after start" in error["msg"]
    with pytest.raises(ValidationError, match="end"):
        d.SessionIn(caregiver_id="anna", start=START, end=START)


def test_a_session_needs_an_assigned_caregiver(hotline) -> None:
    case_id = hotline.emergency()
    hotline.clock.now = AFTER_CARE
    err = refused(lambda: hotline.record(case_id, "anna", START, END))
    assert (err.problem, err.field) == ("the case has no assigned caregiver", "case_id")
    hotline.assign(case_id, "anna")
    err = refused(lambda: hotline.record(case_id, "bert", START, END))
    assert (err.problem, err.field) == ("caregiver bert is not assigned to this case", "caregiver_id")


def test_a_replaced_caregiver_records_care_given_before_the_replacement_only(hotline, cared) -> None:
    hotline.care.reassign(cared, d.ReassignIn(caregiver_id="bert", by="staff", reason="Umplanung"), hotline.meta())
    replaced_at = hotline.clock.now  # AFTER_CARE: anna's care of the morning happened before
    hotline.record(cared, "anna", START, END)  # care given before the reassignment is still paid
    hotline.clock.advance(hours=3)
    err = refused(
        lambda: hotline.record(cared, "anna", replaced_at + timedelta(minutes=30), replaced_at + timedelta(hours=1))
    )
    assert (err.problem, err.field) == ("that assignment was cancelled before this session", "caregiver_id")
    hotline.record(cared, "bert", replaced_at + timedelta(minutes=30), replaced_at + timedelta(hours=1))


def test_a_session_ending_in_the_future_is_refused(hotline, cared) -> None:
    hotline.clock.now = berlin(2026, 3, 3, 10)
    err = refused(lambda: hotline.record(cared, "anna", START, berlin(2026, 3, 3, 10, 6)))
    assert (err.problem, err.field) == ("a session is recorded once it has ended", "end")
    hotline.record(cared, "anna", START, berlin(2026, 3, 3, 10, 5))  # five minutes of clock skew are allowed


def test_check_in_and_check_out_make_one_session(hotline, cared) -> None:
    hotline.clock.now = START
    started = hotline.care.check_in(cared, "anna", d.CheckInIn(at=START), hotline.meta())
    err = refused(
        lambda: hotline.care.check_in(cared, "anna", d.CheckInIn(at=START + timedelta(minutes=1)), hotline.meta())
    )
    assert (err.problem, err.field) == ("already checked in; check out first", "at")
    [open_session] = hotline.case(cared).sessions
    assert (open_session.session_id, open_session.source, open_session.end) == (started["session_id"], "check-in", None)
    hotline.clock.now = END
    early = refused(
        lambda: hotline.care.check_out(cared, "anna", d.CheckOutIn(at=START - timedelta(minutes=1)), hotline.meta())
    )
    assert (early.problem, early.field) == ("check-out must be after the check-in", "at")
    assert refused(lambda: hotline.care.check_out(cared, "anna", d.CheckOutIn(at=START), hotline.meta())).problem == (
        "check-out must be after the check-in"
    )
    ended = hotline.care.check_out(cared, "anna", d.CheckOutIn(at=END, travel_km=Decimal("8")), hotline.meta())
    assert ended["session_id"] == started["session_id"]
    [session] = hotline.case(cared).sessions
    assert (session.start, session.end, session.travel_km) == (START, END, Decimal("8"))
    assert hotline.types(f"case-{cared}")[-2:] == ["SessionStarted", "SessionEnded"]


def test_check_out_without_check_in_is_refused(hotline, cared) -> None:
    err = refused(lambda: hotline.care.check_out(cared, "anna", d.CheckOutIn(at=END), hotline.meta()))
    assert (err.problem, err.field) == ("not checked in", "at")


def test_a_check_in_cannot_lie_in_the_future(hotline, cared) -> None:
    hotline.clock.now = START
    err = refused(
        lambda: hotline.care.check_in(cared, "anna", d.CheckInIn(at=START + timedelta(minutes=6)), hotline.meta())
    )
    assert (err.problem, err.field) == ("a check-in cannot lie in the future", "at")


def test_a_correction_supersedes_the_times_and_the_original_stays_in_the_log(hotline, cared) -> None:
    recorded = hotline.record(cared, "anna", START, END, km="10")
    fix = d.CorrectionIn(
        start=berlin(2026, 3, 3, 6, 45),
        end=berlin(2026, 3, 3, 11, 15),
        travel_km=Decimal("12"),
        reason="Zeiten laut Stundenzettel",
    )
    hotline.care.correct_session(cared, recorded["session_id"], fix, hotline.meta())

    [session] = hotline.case(cared).sessions
    assert (session.start, session.end, session.travel_km, session.corrections) == (
        berlin(2026, 3, 3, 6, 45),
        berlin(2026, 3, 3, 11, 15),
        Decimal("12"),
        1,
    )
    [original] = [e for e in hotline.events(f"case-{cared}") if e.event_type == "SessionRecorded"]
    assert (original.start, original.end, original.travel_km) == (START, END, Decimal("10"))
    assert hotline.types(f"case-{cared}")[-2:] == ["SessionRecorded", "SessionCorrected"]


def test_a_correction_may_not_overlap_another_session(hotline, cared) -> None:
    early = hotline.record(cared, "anna", START, berlin(2026, 3, 3, 9))
    late = hotline.record(cared, "anna", berlin(2026, 3, 3, 9, 30), END)
    overlap = d.CorrectionIn(start=berlin(2026, 3, 3, 8, 30), end=END, reason="früher begonnen")
    err = refused(lambda: hotline.care.correct_session(cared, late["session_id"], overlap, hotline.meta()))
    assert err.field == "start" and err.problem.startswith(f"overlaps session {early['session_id']}")
    # its own old times do not count against a session
    own = d.CorrectionIn(start=berlin(2026, 3, 3, 9, 15), end=END, reason="früher begonnen")
    hotline.care.correct_session(cared, late["session_id"], own, hotline.meta())
    assert hotline.case(cared).sessions[1].start == berlin(2026, 3, 3, 9, 15)


def test_a_voided_session_no_longer_counts(hotline, cared) -> None:
    recorded = hotline.record(cared, "anna", START, END)
    hotline.care.void_session(cared, recorded["session_id"], d.VoidIn(reason="doppelt erfasst"), hotline.meta())
    [session] = hotline.case(cared).sessions
    assert (session.voided, session.void_reason) == (True, "doppelt erfasst")
    assert hotline.case(cared).live_sessions == []
    hotline.record(cared, "anna", START, END)  # its time is free again
    fix = d.CorrectionIn(start=START, end=END, reason="x")
    assert (
        refused(lambda: hotline.care.correct_session(cared, recorded["session_id"], fix, hotline.meta())).problem
        == "the session was voided"
    )
    assert (
        refused(lambda: hotline.care.void_session(cared, "nope", d.VoidIn(reason="x"), hotline.meta()), 404).field
        == "session_id"
    )


# --- transport -----------------------------------------------------------------------------------


def test_a_transport_is_stamped_with_the_configured_price(monkeypatch) -> None:
    hotline = Hotline(monkeypatch, rules=d.CareRules(transport_price_cents=950))
    hotline.register("dieter", drives=True, offers_transport=True)
    case_id = hotline.emergency()
    trip = d.TransportIn(
        from_place="Kita Sonnenschein, Laatzen",
        to_place="home",
        at=berlin(2026, 3, 3, 12),
        persons=2,
        driver_id="dieter",
    )
    answer = hotline.care.book_transport(case_id, trip, hotline.meta())
    assert answer["price_cents"] == 950
    assert hotline.events(f"case-{case_id}")[-1] == ce.TransportBooked(
        transport_id=answer["transport_id"], price_cents=950, **trip.model_dump()
    )
    # a later price change does not touch the booked trip
    cheaper = Care(hotline.store, rules=d.CareRules(transport_price_cents=700), clock=hotline.clock)
    assert cheaper.case(case_id).transports[0].price_cents == 950


def test_a_transport_driver_must_offer_transport(hotline) -> None:
    hotline.register("dieter", drives=True)  # drives, but offers no transport
    case_id = hotline.emergency()

    def trip(driver):
        return d.TransportIn(
            from_place="Kita",
            to_place="home",
            at=berlin(2026, 3, 3, 12),
            driver_id=driver,
        )

    err = refused(lambda: hotline.care.book_transport(case_id, trip("dieter"), hotline.meta()))
    assert (err.problem, err.field) == ("caregiver dieter does not offer transport", "driver_id")
    assert refused(lambda: hotline.care.book_transport(case_id, trip("zora"), hotline.meta()), 404).field == (
        "caregiver_id"
    )
    assert hotline.care.book_transport(case_id, trip(None), hotline.meta())["price_cents"] == 800  # no driver yet


# --- the sweep: unmet demand ---------------------------------------------------------------------


def why_nobody(hotline: Hotline):
    """The sweep's reason: the ranking's summary over the register."""

    def reason(case) -> str:
        pool = [hotline.care.caregiver(cid) for cid in ("anna", "bert")]
        return rank(case.need, case.family_id, pool, hotline.care.rules.clearance).why_none or "offers unanswered"

    return reason


def test_the_sweep_flags_a_need_unfilled_after_the_target_time_once(hotline) -> None:
    for cid in ("anna", "bert"):
        hotline.caregivers.status(cid, StatusIn(status="paused"), hotline.meta())
    case_id = hotline.emergency()  # need recorded at NOW
    hotline.clock.now = NOW + timedelta(minutes=89)
    assert hotline.care.sweep_case(case_id, why_nobody(hotline)) == []
    hotline.clock.now = NOW + timedelta(minutes=90)
    assert hotline.care.sweep_case(case_id, why_nobody(hotline)) == ["need unfilled"]
    assert hotline.events(f"case-{case_id}")[-1] == ce.NeedUnfilled(
        need_at=NOW,
        detected_at=NOW + timedelta(minutes=90),
        reason="none of 2 caregivers can take this need: 2 not active",
    )
    hotline.clock.now = NOW + timedelta(minutes=90)
    assert hotline.care.sweep_case(case_id, why_nobody(hotline)) == []  # same moment again
    hotline.clock.now = NOW + timedelta(hours=3)
    assert hotline.care.sweep_case(case_id, why_nobody(hotline)) == []  # later again
    assert hotline.types(f"case-{case_id}").count("NeedUnfilled") == 1
    assert hotline.case(case_id).unfilled.detected_at == NOW + timedelta(minutes=90)


def test_the_sweep_times_out_offers_and_flags_the_need_in_one_run(hotline) -> None:
    case_id = hotline.emergency()
    hotline.clock.now = NOW + timedelta(minutes=10)
    hotline.offer(case_id, "anna")
    hotline.clock.now = NOW + timedelta(minutes=95)
    assert hotline.care.sweep_case(case_id, why_nobody(hotline)) == ["offers timed out", "need unfilled"]
    assert hotline.case(case_id).unfilled.reason == "offers unanswered"  # both could take it; nobody said yes
    assert hotline.care.sweep_case(case_id, why_nobody(hotline)) == []


def test_the_sweep_leaves_an_assigned_need_alone(hotline) -> None:
    case_id = hotline.emergency()
    hotline.clock.now = NOW + timedelta(minutes=100)
    hotline.assign(case_id, "anna")
    assert hotline.care.sweep_case(case_id, why_nobody(hotline)) == []
    assert "NeedUnfilled" not in hotline.types(f"case-{case_id}")


def test_time_to_assignment_runs_from_the_care_need_to_the_first_assignment(hotline) -> None:
    case_id = hotline.emergency()
    hotline.clock.now = NOW + timedelta(minutes=42)
    hotline.assign(case_id, "anna")
    hotline.clock.now = NOW + timedelta(hours=5)
    hotline.care.reassign(case_id, d.ReassignIn(caregiver_id="bert", by="family", reason="Wunsch"), hotline.meta())
    case = hotline.case(case_id)
    assert case.need_at == NOW
    assert case.first_assigned_at - case.need_at == timedelta(minutes=42)  # the reassignment does not move it


# --- retried commands ----------------------------------------------------------------------------


def test_an_assign_retried_with_its_command_id_appends_nothing_and_answers_as_the_first_time(hotline) -> None:
    case_id = hotline.emergency()
    meta = hotline.meta()
    first = hotline.care.assign(case_id, d.CaregiverRef(caregiver_id="anna"), meta)
    streams = {s: hotline.types(s) for s in (f"case-{case_id}", "caregiver-anna")}
    log = hotline.store.read_all().events

    assert hotline.care.assign(case_id, d.CaregiverRef(caregiver_id="anna"), meta) == first
    # even after the state moved on (the assignment was cancelled, so a fresh assign would pass)
    hotline.cancel(case_id, "family")
    assert hotline.care.assign(case_id, d.CaregiverRef(caregiver_id="anna"), meta) == first
    assert hotline.types(f"case-{case_id}") == [*streams[f"case-{case_id}"], "AssignmentCancelled"]
    assert hotline.types("caregiver-anna") == [*streams["caregiver-anna"], "BookingReleased"]
    assert len(hotline.store.read_all().events) == len(log) + 2


def test_other_care_commands_retried_with_their_command_id_are_recorded_once(hotline, cared) -> None:
    meta = hotline.meta()
    cmd = d.SessionIn(caregiver_id="anna", start=START, end=END)
    first = hotline.care.record_session(cared, cmd, meta)
    assert hotline.care.record_session(cared, cmd, meta) == first
    trip = d.TransportIn(from_place="Kita", to_place="home", at=utc(2026, 3, 3, 11))
    trip_meta = hotline.meta()
    booked = hotline.care.book_transport(cared, trip, trip_meta)
    assert hotline.care.book_transport(cared, trip, trip_meta) == booked
    case = hotline.case(cared)
    assert (len(case.sessions), len(case.transports)) == (1, 1)


def test_unknown_case_for_a_session_is_not_found(hotline) -> None:
    with pytest.raises(NotFound):
        hotline.record("nope", "anna", START, END)


def test_a_case_with_a_booked_caregiver_is_not_closed_before_the_care_ends(hotline) -> None:
    case_id = hotline.emergency()
    hotline.assign(case_id, "anna")
    close = CloseIn(reason="Familie hat selbst Betreuung gefunden", at=NOW)
    err = refused(lambda: hotline.intake.close(case_id, close, hotline.meta()))
    assert err.field == "case_id" and "cancel the assignment first" in err.problem
    hotline.cancel(case_id, by="family")
    hotline.intake.close(case_id, close, hotline.meta())  # released: the case closes
    assert hotline.case(case_id).status == "closed"


def test_after_the_care_a_case_with_its_caregiver_closes(hotline) -> None:
    case_id = hotline.emergency()
    hotline.assign(case_id, "anna")
    hotline.intake.close(case_id, CloseIn(reason="Betreuung beendet", at=END), hotline.meta())
    assert hotline.case(case_id).status == "closed"


def test_the_need_is_not_changed_under_a_booked_caregiver(hotline) -> None:
    case_id = hotline.emergency()
    hotline.assign(case_id, "anna")
    err = refused(lambda: hotline.intake.need(case_id, need_in(municipality="garbsen"), hotline.meta()))
    assert err.field == "case_id" and "cancel the assignment first" in err.problem
    hotline.cancel(case_id, by="staff")
    hotline.intake.need(case_id, need_in(municipality="garbsen"), hotline.meta())
    assert hotline.case(case_id).need.municipality == "garbsen"


def test_a_caregiver_dropping_out_starts_a_new_wait_that_is_flagged_once(hotline) -> None:
    case_id = hotline.emergency()
    hotline.assign(case_id, "anna")
    hotline.clock.advance(hours=3)
    assert hotline.care.sweep_case(case_id, lambda case: "nobody") == []  # assigned: nothing to flag
    hotline.cancel(case_id, by="caregiver", reason="krank")
    dropped_at = hotline.clock.now
    hotline.clock.advance(minutes=89)
    assert hotline.care.sweep_case(case_id, lambda case: "nobody") == []
    hotline.clock.advance(minutes=1)
    assert hotline.care.sweep_case(case_id, lambda case: "nobody left") == ["need unfilled"]
    assert hotline.care.sweep_case(case_id, lambda case: "nobody left") == []
    flagged = hotline.case(case_id).unfilled
    assert (flagged.need_at, flagged.reason) == (dropped_at, "nobody left")


def test_transport_services_per_case_are_bounded(hotline, monkeypatch) -> None:
    # The case's read-model rows go into one transaction of at most 100 items.
    monkeypatch.setattr(d, "MAX_TRANSPORTS_PER_CASE", 2)
    case_id = hotline.emergency()
    trip = d.TransportIn(from_place="Kita Sonnenschein", to_place="zu Hause", at=START)
    hotline.care.book_transport(case_id, trip, hotline.meta())
    hotline.care.book_transport(case_id, trip, hotline.meta())
    err = refused(lambda: hotline.care.book_transport(case_id, trip, hotline.meta()))
    assert err.field == "case_id" and "at most 2 transport services" in err.problem
