# Helpers of the domain tests: Berlin times, envelopes around events, commands with Hannover-region data.
"""Small builders so each domain test states only what matters to it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notfall.domain import events as ev
from notfall.domain.commands import CallbackIn, CallEventIn, CloseIn, ConsultationIn, NeedIn, OutcomeIn
from notfall.domain.envelope import Envelope, Event

BERLIN = ZoneInfo("Europe/Berlin")
UTC = UTC
T0 = datetime(2026, 3, 2, 7, 12, tzinfo=BERLIN)  # a Monday morning at the hotline
LAATZEN = "+49 511 76023145"


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def envelopes(
    stream_id: str, events: Iterable[Event], first_version: int = 1, when: datetime = T0, first_position: int = 1
) -> list[Envelope]:
    """Envelopes as a store would hand them out: versions and positions from the given start."""
    out = []
    for i, event in enumerate(events):
        out.append(
            Envelope(
                event_id=f"evt-{stream_id}-{first_version + i}",
                stream_id=stream_id,
                version=first_version + i,
                position=first_position + i,
                event_type=event.event_type,
                schema_version=event.schema_version,
                occurred_at=when,
                recorded_at=when,
                actor="hotline-schulz",
                correlation_id="corr-1",
                causation_id=None,
                command_id=f"cmd-{first_version + i}",
                data=event,
            )
        )
    return out


def opened(case_id: str = "c1", minutes: int = 0, number: str | None = LAATZEN, channel: str = "call") -> ev.CaseOpened:
    return ev.CaseOpened(
        case_id=case_id, family_id="fam-test", channel=channel, caller_number=number, opened_at=at(minutes)
    )


def facts(call_id: str, minutes: int, agent: str | None = None, number: str | None = LAATZEN) -> ev.CallFacts:
    return ev.CallFacts(call_id=call_id, line="hotline-1", caller_number=number, agent=agent, at=at(minutes))


def need_value(**changes: Any) -> dict[str, Any]:
    value = {
        "persons": [{"kind": "child", "age": 3}, {"kind": "child", "age": 6}],
        "location": {"kind": "home"},
        "window": {"start": "2026-03-03T06:30:00+01:00", "expected_end": "2026-03-03T11:00:00+01:00"},
        "reasons": ["childcare_closed"],
        "municipality": "laatzen",
    }
    return {**value, **changes}


def need(**changes: Any) -> ev.Need:
    return ev.Need.model_validate(need_value(**changes))


def need_in(**changes: Any) -> NeedIn:
    return NeedIn.model_validate(need_value(**changes))


def call_in(
    type_: str,
    call_id: str = "pbx-1",
    minutes: int = 0,
    number: str | None = LAATZEN,
    agent: str | None = None,
    **extra: Any,
) -> CallEventIn:
    if type_ == "answered" and agent is None:
        agent = "hotline-schulz"
    return CallEventIn(
        type=type_, call_id=call_id, line="hotline-1", caller_number=number, agent=agent, at=at(minutes), **extra
    )


def consultation_in(start: int = 1, end: int = 20) -> ConsultationIn:
    return ConsultationIn(agent="hotline-schulz", started_at=at(start), ended_at=at(end))


def outcome_in(outcome: str, referral_to: str | None = None) -> OutcomeIn:
    return OutcomeIn(outcome=outcome, referral_to=referral_to)


def callback_in(reached: bool, minutes: int = 30) -> CallbackIn:
    return CallbackIn(agent="hotline-yilmaz", at=at(minutes), reached=reached)


def close_in(minutes: int = 60) -> CloseIn:
    return CloseIn(reason="Familie hat selbst Betreuung gefunden", at=at(minutes))
