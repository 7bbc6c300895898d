"""Care time split by Europe/Berlin calendar month: the unit of billing and reporting."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def month_of(at: datetime) -> str:
    """The Berlin calendar month (YYYY-MM) an instant falls in."""
    return at.astimezone(BERLIN).strftime("%Y-%m")


def _next_month_start(local: datetime) -> datetime:
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=BERLIN)


def whole_minutes(start: datetime, end: datetime) -> int:
    """The whole minutes from start to end: a session's care time before rounding."""
    # In UTC: two datetimes sharing one tzinfo subtract by wall clock, which is off by the
    # hour on a daylight-saving night.
    return int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() // 60)


def minutes_by_month(start: datetime, end: datetime) -> dict[str, int]:
    """Whole minutes of [start, end) in each Berlin month; a span over midnight of the
    month's end is split there, daylight-saving changes counted as real elapsed time.

    Each month gets the whole minutes elapsed from `start` to its end less those elapsed
    before its start, so the months add up to `whole_minutes(start, end)`: a minute that
    straddles midnight counts in the month it ends in, never in neither."""
    result: dict[str, int] = {}
    # Compare in UTC: Python compares datetimes sharing one tzinfo by wall clock, which is
    # wrong inside the repeated hour of the autumn DST change.
    cursor = start.astimezone(UTC)
    end_utc = end.astimezone(UTC)
    counted = 0
    while cursor < end_utc:
        boundary = min(_next_month_start(cursor.astimezone(BERLIN)).astimezone(UTC), end_utc)
        elapsed = whole_minutes(start, boundary)
        key = month_of(cursor)
        result[key] = result.get(key, 0) + elapsed - counted
        counted, cursor = elapsed, boundary
    return result


def as_hours(minutes: int) -> str:
    """Minutes as hours with two decimals, a string: no float reaches a client."""
    return str((Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
