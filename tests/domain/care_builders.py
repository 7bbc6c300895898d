# Helpers of the caregiver, matching and care tests: profiles, weekly windows, caregiver states from events.
"""Small builders so each caregiver or matching test states only what matters to it."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from domain_builders import envelopes

from notfall.domain import caregiver as cg
from notfall.domain.envelope import Event


def profile(**changes: Any) -> cg.Profile:
    """A pedagogical volunteer from Laatzen with valid certificates for 2026."""
    value: dict[str, Any] = {
        "name": "Helga Brandt",
        "qualification": "pedagogical",
        "certificate_level": 2,
        "age_groups": ["infant", "preschool", "school"],
        "languages": ["de"],
        "home_municipality": "laatzen",
        "municipalities_served": ["laatzen"],
        "police_clearance_on": date(2024, 5, 1),  # valid until 2029-04-30
        "first_aid_on": date(2025, 6, 1),  # valid until 2027-05-31
    }
    return cg.Profile.model_validate({**value, **changes})


def weekly(weekday: int, start: str, end: str) -> cg.WeeklyWindow:
    return cg.WeeklyWindow(weekday=weekday, start=time.fromisoformat(start), end=time.fromisoformat(end))


ALL_WEEK = [weekly(day, "00:00", "00:00") for day in range(7)]  # every day, midnight to midnight


def one_off(window_id: str, start: datetime, end: datetime) -> cg.OneOffWindow:
    return cg.OneOffWindow(window_id=window_id, start=start, end=end)


def booking(
    assignment_id: str, start: datetime, end: datetime, case_id: str = "c-other", family_id: str = "fam-other"
) -> cg.BookingMade:
    return cg.BookingMade(assignment_id=assignment_id, case_id=case_id, family_id=family_id, start=start, end=end)


def caregiver(
    caregiver_id: str = "helga", *events: Event, windows: list[cg.WeeklyWindow] | None = None, **profile_changes: Any
) -> cg.CaregiverState:
    """The folded state of a caregiver registered with `profile(**profile_changes)` and
    `windows` (default: the whole week), followed by `events`."""
    registered = [
        cg.CaregiverRegistered(caregiver_id=caregiver_id, profile=profile(**profile_changes)),
        cg.WeeklyAvailabilitySet(windows=ALL_WEEK if windows is None else windows),
    ]
    state = cg.fold_caregiver(envelopes(cg.caregiver_stream(caregiver_id), [*registered, *events]))
    assert state is not None
    return state
