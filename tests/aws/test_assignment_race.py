# Proves with real threads on moto that a caregiver is never booked twice, and that losing a race is retriable.
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from race import run_together

from notfall.app.care import Care
from notfall.app.caregivers import Caregivers, RegisterIn
from notfall.app.intake import Intake
from notfall.domain import care as d
from notfall.domain.caregiver import Profile, WeeklyWindow
from notfall.domain.commands import CallEventIn, NeedIn, OutcomeIn
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, VersionConflict
from notfall.wiring import Wiring

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # the day before the care
CARE_START = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)
WHOLE_WEEK = [WeeklyWindow(weekday=day, start="00:00", end="00:00") for day in range(7)]


def meta(command_id: str) -> Metadata:
    return Metadata(command_id=command_id, actor="hotline", correlation_id=f"corr-{command_id}")


class Desk:
    """The use cases on DynamoDB, wired as the handlers wire them."""

    def __init__(self, aws) -> None:
        self.store = Wiring(client=aws.client).store
        self.care = Care(self.store, clock=lambda: NOW)
        self._cases = 0

    def caregiver(self, caregiver_id: str) -> None:
        profile = Profile(
            name="Anna Berger",
            qualification="pedagogical",
            certificate_level=2,
            age_groups=["preschool", "school"],
            home_municipality="Berlin",
            municipalities_served=["Berlin"],
            police_clearance_on="2024-01-15",
            first_aid_on="2025-09-01",
        )
        Caregivers(self.store).register(
            RegisterIn(caregiver_id=caregiver_id, profile=profile, weekly=WHOLE_WEEK), meta(f"register-{caregiver_id}")
        )

    def emergency(self, start: datetime, hours: int = 4) -> str:
        """A call, a clarified need for a 5-year-old from `start`, the outcome a care need."""
        n = self._cases = self._cases + 1
        intake = Intake(self.store)
        call = CallEventIn(
            type="started",
            call_id=f"call-{n}",
            line="hotline-1",
            caller_number=f"+49 30 5550{n:03d}",
            at=NOW - timedelta(hours=1),
        )
        case_id = intake.call_event(call, meta(f"call-{n}"))["case_id"]
        need = NeedIn(
            persons=[{"kind": "child", "age": 5}],
            location={"kind": "home"},
            window={"start": start, "expected_end": start + timedelta(hours=hours)},
            reasons=["childcare_ill"],
            municipality="Berlin",
        )
        intake.need(case_id, need, meta(f"need-{n}"))
        intake.outcome(case_id, OutcomeIn(outcome="care_need"), meta(f"outcome-{n}"))
        return case_id

    def assign(self, case_id: str, caregiver_id: str, command_id: str) -> dict[str, Any]:
        return self.care.assign(case_id, d.CaregiverRef(caregiver_id=caregiver_id), meta(command_id))

    def types(self, stream_id: str) -> list[str]:
        return [e.event_type for e in self.store.load(stream_id)]


def assert_gapless_log(aws) -> None:
    positions = [int(i["position"]["N"]) for i in aws.event_items()]
    assert positions == list(range(1, aws.counter() + 1))


# --- overlapping windows: one booking, whatever happens ------------------------------------------


@pytest.mark.parametrize(
    ("n", "all_read_first"),
    [(2, True), (6, True), (6, False)],
    ids=["2-threads-same-version", "6-threads-same-version", "6-threads-free-race"],
)
def test_concurrent_assigns_of_one_caregiver_to_overlapping_cases_book_once(aws, n: int, all_read_first: bool):
    desk = Desk(aws)
    desk.caregiver("anna")
    # case i from 07:00 + 10 i minutes for 4 hours: every pair overlaps
    cases = [desk.emergency(CARE_START + timedelta(minutes=10 * i)) for i in range(n)]

    outcomes = run_together(
        aws, n, lambda i: desk.assign(cases[i], "anna", f"assign-{i}"), all_read_first=all_read_first
    )

    wins = [i for i, o in enumerate(outcomes) if isinstance(o, dict)]
    assert len(wins) == 1, outcomes
    [winner] = wins
    assert outcomes[winner]["caregiver_id"] == "anna"
    for i, o in enumerate(outcomes):
        if i == winner:
            continue
        # a loser either lost the write (it decided on the same calendar) or read the winner's booking
        assert isinstance(o, (VersionConflict, DomainError)), o
        if not isinstance(o, VersionConflict):
            assert o.problem == f"caregiver anna cannot take this need: booked for case {cases[winner]}"
    if all_read_first:
        assert all(isinstance(o, VersionConflict) for i, o in enumerate(outcomes) if i != winner)
        assert {o.stream_id for i, o in enumerate(outcomes) if i != winner} == {"caregiver-anna"}

    calendar = desk.store.load("caregiver-anna")
    bookings = [e.data for e in calendar if e.event_type == "BookingMade"]
    assert [b.case_id for b in bookings] == [cases[winner]]
    assert [e.version for e in calendar] == list(range(1, len(calendar) + 1))
    assigned = [c for c in cases if "CaregiverAssigned" in desk.types(f"case-{c}")]
    assert assigned == [cases[winner]]
    assert_gapless_log(aws)

    # A loser that retries its command (same command id) now gets the domain's answer.
    loser = next(i for i in range(n) if i != winner)
    with pytest.raises(DomainError) as err:
        desk.assign(cases[loser], "anna", f"assign-{loser}")
    assert err.value.field == "caregiver_id"
    assert err.value.problem == f"caregiver anna cannot take this need: booked for case {cases[winner]}"
    assert desk.types("caregiver-anna").count("BookingMade") == 1


# --- non-overlapping windows: every booking lands after retries --------------------------------


def assign_retrying(desk: Desk, case_id: str, command_id: str, attempts: int) -> tuple[dict[str, Any], int]:
    """Assign; after a VersionConflict retry the same command (same command id). Returns the
    answer and the number of conflicts met."""
    conflicts = 0
    while True:
        try:
            return desk.assign(case_id, "anna", command_id), conflicts
        except VersionConflict as conflict:
            assert conflict.stream_id == "caregiver-anna"
            conflicts += 1
            if conflicts >= attempts:
                raise


def test_two_assigns_on_separate_days_both_land_the_loser_after_one_retry(aws):
    desk = Desk(aws)
    desk.caregiver("anna")
    cases = [desk.emergency(CARE_START + timedelta(days=i)) for i in range(2)]

    outcomes = run_together(
        aws, 2, lambda i: assign_retrying(desk, cases[i], f"assign-{i}", attempts=2), all_read_first=True
    )

    assert all(isinstance(o, tuple) for o in outcomes), outcomes
    assert sorted(conflicts for _, conflicts in outcomes) == [0, 1]  # one lost the write, one retry sufficed
    bookings = [e.data for e in desk.store.load("caregiver-anna") if e.event_type == "BookingMade"]
    assert sorted(b.case_id for b in bookings) == sorted(cases)


def test_many_assigns_on_separate_days_all_land_when_losers_retry(aws):
    n = 5
    desk = Desk(aws)
    desk.caregiver("anna")
    cases = [desk.emergency(CARE_START + timedelta(days=i)) for i in range(n)]

    # Each conflict means another thread's booking committed in between; there are n - 1
    # others, so n attempts always suffice.
    outcomes = run_together(
        aws, n, lambda i: assign_retrying(desk, cases[i], f"assign-{i}", attempts=n), all_read_first=True
    )

    assert all(isinstance(o, tuple) for o in outcomes), outcomes
    conflicts = [c for _, c in outcomes]
    assert conflicts.count(0) >= 1 and sum(conflicts) >= n - 1  # all decided on one version: n - 1 lost at first
    assert all(c <= n - 1 for c in conflicts)
    calendar = desk.store.load("caregiver-anna")
    bookings = [e.data for e in calendar if e.event_type == "BookingMade"]
    assert sorted(b.case_id for b in bookings) == sorted(cases)  # none lost, none twice
    assert [e.version for e in calendar] == list(range(1, len(calendar) + 1))
    for i, case_id in enumerate(cases):
        assert desk.types(f"case-{case_id}").count("CaregiverAssigned") == 1
        assert desk.care.case(case_id).active_assignment.assignment_id == outcomes[i][0]["assignment_id"]
    assert_gapless_log(aws)
