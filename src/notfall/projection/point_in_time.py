"""The read models as they were: the same fold as the stream projector over a prefix of the log.

"As of position P" is the log up to and including P. "As of Berlin day D" is everything
recorded before the end of D in Berlin (an auditor's "as of 2021-03-05" includes 23:59:59
that evening): the longest prefix of the log whose events were all recorded by then, so the
result is a state the read model really went through, even if two appends' clocks disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from notfall.domain.envelope import Envelope
from notfall.domain.errors import Rejected
from notfall.domain.hours import BERLIN
from notfall.projection.projector import rebuild_from
from notfall.projection.readmodel import MemoryReadModel
from notfall.store.base import EventStore, iter_log

POSITION_FIELD, DATE_FIELD = "query.position", "query.date"


def end_of_berlin_day(day: date) -> datetime:
    """The instant the Berlin day ends (midnight after it), in UTC: DST days have 23 or 25 hours."""
    return datetime.combine(day + timedelta(days=1), time(), BERLIN).astimezone(UTC)


def parse_day(text: str, field: str = DATE_FIELD) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Rejected(f"{text!r} is not a calendar day YYYY-MM-DD", field=field) from None


@dataclass(frozen=True)
class AsOf:
    readmodel: MemoryReadModel
    position: int  # the last event folded in (0: none)
    recorded_at: datetime | None  # when that event was recorded
    events: int
    until: datetime | None = None  # the end of the Berlin day asked for

    def describe(self) -> dict[str, object]:
        return {
            "position": self.position,
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
            "until": self.until.isoformat() if self.until else None,
            "events": self.events,
        }


class _Cut:
    """The log up to a position or an instant, remembering the last event it let through."""

    def __init__(self, position: int | None, before: datetime | None) -> None:
        self.position, self.before = position, before
        self.last: Envelope | None = None
        self.first: Envelope | None = None

    def events(self, log: Iterator[Envelope]) -> Iterator[Envelope]:
        for env in log:
            self.first = self.first or env
            if self.position is not None and env.position > self.position:
                return
            if self.before is not None and env.recorded_at >= self.before:
                return
            self.last = env
            yield env


def as_of(store: EventStore, today: date, position: int | None = None, day: date | None = None) -> AsOf:
    """Rebuild every read model as of a log position or the end of a Berlin day (exactly one of
    them); `today` is the Berlin day of the caller's clock. 422 naming the field for a position
    beyond the log, a day after today or before the first event."""
    if (position is None) == (day is None):
        raise Rejected("give either a date or a position", field=DATE_FIELD)
    if position is not None and position < 1:
        raise Rejected("position must be 1 or more", field=POSITION_FIELD)
    if day is not None and day > today:
        raise Rejected(f"{day} is after today ({today})", field=DATE_FIELD)
    until = end_of_berlin_day(day) if day is not None else None
    cut = _Cut(position, until)
    readmodel = MemoryReadModel()
    stats = rebuild_from(cut.events(iter_log(store)), readmodel)
    if cut.first is None:
        raise Rejected("the log holds no events yet", field=DATE_FIELD if day else POSITION_FIELD)
    if position is not None and (cut.last is None or cut.last.position < position):
        last = cut.last.position if cut.last else 0
        raise Rejected(f"position {position} is beyond the last event ({last})", field=POSITION_FIELD)
    if day is not None and cut.last is None:
        first = cut.first.recorded_at.astimezone(BERLIN).date()
        raise Rejected(f"{day} is before the first event (recorded {first})", field=DATE_FIELD)
    assert cut.last is not None
    return AsOf(readmodel, cut.last.position, cut.last.recorded_at, stats["events"], until)
