# Helpers of the read-side tests of care: case and caregiver states folded from real events, each at its own time.
"""Builders for the care rows and report tests: every state is folded from envelopes, as
the projector folds the log; each event may carry its own occurred_at (need_at, made_at and
assigned_at come from there)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain_builders import BERLIN, berlin, need

from notfall.domain import care_events as ce
from notfall.domain import caregiver as cg
from notfall.domain import events as ev
from notfall.domain.case import CaseState, fold_case
from notfall.domain.envelope import Envelope, Event

Step = Event | tuple[Event, datetime]
DEFAULT_AT = datetime(2026, 10, 30, 9, 0, tzinfo=BERLIN)


def stamped(stream_id: str, steps: list[Step], default_at: datetime = DEFAULT_AT) -> list[Envelope]:
    """Envelopes with versions 1.. and, per step, its own occurred_at (else the previous one)."""
    out, when = [], default_at
    for i, step in enumerate(steps, start=1):
        event, when = step if isinstance(step, tuple) else (step, when)
        out.append(
            Envelope(
                event_id=f"evt-{stream_id}-{i}",
                stream_id=stream_id,
                version=i,
                position=i,
                event_type=event.event_type,
                schema_version=event.schema_version,
                occurred_at=when,
                recorded_at=when,
                actor="staff-test",
                correlation_id="corr",
                causation_id=None,
                command_id=f"cmd-{stream_id}-{i}",
                data=event,
            )
        )
    return out


def case(*steps: Step, case_id: str = "c1") -> CaseState:
    state = fold_case(stamped(f"case-{case_id}", list(steps)))
    assert state is not None
    return state


def emergency(
    case_id: str = "c1", need_at: datetime = DEFAULT_AT, family_id: str = "fam-test", **need_changes: Any
) -> list[Step]:
    """A case opened a few minutes before `need_at`, whose care need is recorded at `need_at`."""
    return [
        (
            ev.CaseOpened(
                case_id=case_id,
                family_id=family_id,
                channel="call",
                caller_number="+49 511 76023145",
                opened_at=need_at,
            ),
            need_at,
        ),
        ev.NeedClarified(need=need(**need_changes)),
        ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED),
    ]


def assigned(
    assignment_id: str,
    caregiver_id: str,
    at: datetime,
    start: datetime,
    end: datetime,
    allowance_cents: int = 1000,
    travel_cents_per_km: int = 30,
    replaces: str | None = None,
) -> Step:
    return (
        ce.CaregiverAssigned(
            assignment_id=assignment_id,
            caregiver_id=caregiver_id,
            start=start,
            end=end,
            replaces=replaces,
            allowance_cents=allowance_cents,
            travel_cents_per_km=travel_cents_per_km,
        ),
        at,
    )


def recorded(
    session_id: str, assignment_id: str, caregiver_id: str, start: datetime, end: datetime, km: str = "0"
) -> Step:
    return (
        ce.SessionRecorded(
            session_id=session_id,
            assignment_id=assignment_id,
            caregiver_id=caregiver_id,
            start=start,
            end=end,
            travel_km=Decimal(km),
        ),
        end,
    )


def window(start: datetime, end: datetime) -> dict[str, str]:
    return {"start": start.isoformat(), "expected_end": end.isoformat()}


# --- caregivers ---------------------------------------------------------------------------


def profile(**changes: Any) -> cg.Profile:
    value: dict[str, Any] = {
        "name": "Helga Brandt",
        "qualification": "pedagogical",
        "certificate_level": 2,
        "age_groups": ["infant", "preschool", "school"],
        "home_municipality": "laatzen",
        "municipalities_served": ["laatzen", "hemmingen"],
        "police_clearance_on": date(2024, 5, 1),
        "first_aid_on": date(2025, 6, 1),
    }
    return cg.Profile.model_validate({**value, **changes})


def caregiver_steps(caregiver_id: str = "helga", **profile_changes: Any) -> list[Step]:
    return [
        (
            cg.CaregiverRegistered(caregiver_id=caregiver_id, profile=profile(**profile_changes)),
            berlin(2026, 9, 1, 10, 0),
        )
    ]


def caregiver(*steps: Step, caregiver_id: str = "helga") -> cg.CaregiverState:
    state = cg.fold_caregiver(stamped(f"caregiver-{caregiver_id}", [*caregiver_steps(caregiver_id), *steps]))
    assert state is not None
    return state
