"""What a scheduled invoice run receives, and which period it bills.

EventBridge Scheduler sends the schedule's fixed `Input`, e.g.
`{"kind": "family", "period": "previous"}`. "previous" is the Berlin calendar month before
the current one (family, partner-monthly) or the calendar year before (partner-yearly),
taken when the schedule fires; an explicit YYYY-MM or YYYY bills that period (a manual
re-invocation after an outage).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from notfall.domain.events import Value
from notfall.domain.hours import BERLIN

PREVIOUS = "previous"


class ScheduledRun(Value):
    kind: Literal["family", "partner-monthly", "partner-yearly"]
    period: str = Field(default=PREVIOUS, pattern=r"^(previous|\d{4}(-(0[1-9]|1[0-2]))?)$")

    def resolve(self, now: datetime) -> str:
        """The period to bill, with "previous" taken from `now` (an aware datetime) in Berlin."""
        return previous_period(self.kind, now) if self.period == PREVIOUS else self.period


def previous_period(kind: str, now: datetime) -> str:
    """The last period of `kind` that ended before the Berlin day of `now`."""
    today = now.astimezone(BERLIN).date()
    if kind == "partner-yearly":
        return str(today.year - 1)
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"
