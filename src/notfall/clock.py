"""The clock: what time it is, as a dependency. Domain and app code take one; handlers wire
`system_clock`, tests pass a fixed one, so no decision depends on when the code happens to run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from notfall.domain.hours import BERLIN

Clock = Callable[[], datetime]  # returns an aware datetime in UTC


def system_clock() -> datetime:
    return datetime.now(UTC)


def berlin_today(clock: Clock) -> date:
    """The Berlin calendar day of the clock's now: what billing and reports call "today"."""
    return clock().astimezone(BERLIN).date()
