# Proves the read models as of a log position or a Berlin day, and that compare names every
# differing row and field and repair makes the live rows equal the rebuild (in memory).
"""Three days at the hotline, with the store's clock set by hand (Berlin time):

- Mon 2026-03-02 07:12  case A opens (a call)
- Tue 2026-03-03 09:00  case B opens
- Tue 2026-03-03 23:30  case A is closed (22:30 UTC: still Tuesday in Berlin)
- Wed 2026-03-04 00:30  case C opens (23:30 UTC on Tuesday: Wednesday in Berlin)

So the open queue was [A] at the end of Monday, [B] at the end of Tuesday and [B, C] at the end
of Wednesday; between B's opening and A's closing it was [A, B].
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import count

import pytest
from domain_builders import BERLIN, call_in, close_in

from notfall.app.intake import Intake
from notfall.domain.envelope import Metadata
from notfall.domain.errors import Rejected
from notfall.projection.point_in_time import as_of, end_of_berlin_day
from notfall.projection.projector import rebuild
from notfall.projection.readmodel import MemoryReadModel
from notfall.projection.repair import repair
from notfall.projection.replay_check import CHANGED, EXTRA, MISSING, comparison
from notfall.store.base import iter_log
from notfall.store.memory import MemoryEventStore

_commands = count(1)
WEDNESDAY = date(2026, 3, 4)


def meta() -> Metadata:
    n = next(_commands)
    return Metadata(command_id=f"pit-{n}", actor="hotline-schulz", correlation_id=f"pit-{n}")


class Hotline:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 7, 12, tzinfo=BERLIN)
        self.store = MemoryEventStore(lambda: self.now)
        ids = iter(["a", "b", "c"])
        self.intake = Intake(self.store, new_id=lambda: next(ids), clock=lambda: self.now)

    def at(self, *when: int) -> None:
        self.now = datetime(*when, tzinfo=BERLIN)

    def minutes(self) -> int:  # the call builders count minutes from Mon 07:12 Berlin
        return int((self.now - datetime(2026, 3, 2, 7, 12, tzinfo=BERLIN)).total_seconds() // 60)


@pytest.fixture
def hotline() -> Hotline:
    h = Hotline()
    a = h.intake.call_event(call_in("started", "pbx-a", h.minutes()), meta())["case_id"]
    h.at(2026, 3, 3, 9, 0)
    b = h.intake.call_event(call_in("started", "pbx-b", h.minutes(), number="+49 5131 448210"), meta())["case_id"]
    h.at(2026, 3, 3, 23, 30)
    h.intake.close(a, close_in(h.minutes()), meta())
    h.at(2026, 3, 4, 0, 30)
    c = h.intake.call_event(call_in("started", "pbx-c", h.minutes(), number="+49 511 2340078"), meta())["case_id"]
    assert (a, b, c) == ("a", "b", "c")
    return h


def open_queue(store: MemoryEventStore, **cut) -> list[str]:
    return [r["case_id"] for r in as_of(store, WEDNESDAY, **cut).readmodel.queue("open")]


def first_position(store: MemoryEventStore, event_type: str, stream: str) -> int:
    return next(e.position for e in iter_log(store) if e.event_type == event_type and e.stream_id == stream)


def test_the_end_of_a_berlin_day_in_utc() -> None:
    assert end_of_berlin_day(date(2026, 3, 3)).isoformat() == "2026-03-03T23:00:00+00:00"  # CET
    assert end_of_berlin_day(date(2026, 7, 1)).isoformat() == "2026-07-01T22:00:00+00:00"  # CEST


def test_as_of_a_berlin_day_shows_the_open_cases_of_that_day(hotline: Hotline) -> None:
    assert open_queue(hotline.store, day=date(2026, 3, 2)) == ["a"]
    assert open_queue(hotline.store, day=date(2026, 3, 3)) == ["b"]  # A closed 23:30, C not yet (00:30 Wed)
    assert open_queue(hotline.store, day=WEDNESDAY) == ["b", "c"]


def test_as_of_a_day_stops_before_the_first_event_of_the_next_berlin_day(hotline: Hotline) -> None:
    tuesday = as_of(hotline.store, WEDNESDAY, day=date(2026, 3, 3))
    wednesday = datetime(2026, 3, 4, 0, 30, tzinfo=BERLIN)  # C's call: its events come first on Wednesday
    first_of_wednesday = min(e.position for e in iter_log(hotline.store) if e.recorded_at == wednesday)
    assert tuesday.position == first_of_wednesday - 1
    assert tuesday.until is not None and tuesday.until.isoformat() == "2026-03-03T23:00:00+00:00"
    assert tuesday.recorded_at is not None and tuesday.recorded_at.isoformat() == "2026-03-03T22:30:00+00:00"


def test_as_of_a_position_is_the_log_up_to_that_event(hotline: Hotline) -> None:
    b_opened = first_position(hotline.store, "CaseOpened", "case-b")
    a_closed = first_position(hotline.store, "CaseClosed", "case-a")
    assert open_queue(hotline.store, position=b_opened - 1) == ["a"]
    assert open_queue(hotline.store, position=b_opened) == ["a", "b"]
    assert open_queue(hotline.store, position=a_closed - 1) == ["a", "b"]
    assert open_queue(hotline.store, position=a_closed) == ["b"]
    last = max(e.position for e in iter_log(hotline.store))
    whole = as_of(hotline.store, WEDNESDAY, position=last)
    live = MemoryReadModel()
    rebuild(hotline.store, live)
    assert whole.readmodel.dump() == live.dump() and whole.events == last


@pytest.mark.parametrize(
    ("cut", "field", "words"),
    [
        ({"day": date(2026, 3, 1)}, "query.date", "before the first event (recorded 2026-03-02)"),
        ({"day": date(2026, 3, 5)}, "query.date", "after today (2026-03-04)"),
        ({"position": 0}, "query.position", "1 or more"),
        ({"position": 99}, "query.position", "beyond the last event"),
        ({}, "query.date", "either a date or a position"),
        ({"day": WEDNESDAY, "position": 1}, "query.date", "either a date or a position"),
    ],
)
def test_a_cut_outside_the_log_is_refused_naming_the_field(hotline: Hotline, cut, field, words) -> None:
    with pytest.raises(Rejected) as refused:
        as_of(hotline.store, WEDNESDAY, **cut)
    assert refused.value.field == field and words in refused.value.problem


def test_an_empty_log_has_no_past() -> None:
    with pytest.raises(Rejected) as refused:
        as_of(MemoryEventStore(), WEDNESDAY, day=WEDNESDAY)
    assert refused.value.field == "query.date"


# --- compare and repair, in memory --------------------------------------------------------------


def damaged(hotline: Hotline) -> MemoryReadModel:
    """The live read model with B's state row changed, C's open queue row lost and a row nobody owns."""
    live = MemoryReadModel()
    rebuild(hotline.store, live)
    rows = {(r["pk"], r["sk"]): r for r in live.dump()}
    b_state = rows[("case#b", "state")]
    assert b_state["case"]["status"] == "open"
    live._rows[("case#b", "state")] = {**b_state, "case": {**b_state["case"], "status": "closed"}}
    del live._rows[("case#c", "queue#open")]
    live._rows[("case#ghost", "queue#open")] = {"pk": "case#ghost", "sk": "queue#open", "queue": "open"}
    return live


def test_compare_names_each_difference_and_repair_removes_them(hotline: Hotline) -> None:
    live = damaged(hotline)
    compared = comparison(hotline.store, live)
    got = [(d.key, d.kind, d.field, d.live, d.rebuilt is not None) for d in compared.differences]
    assert got == [
        (("case#b", "state"), CHANGED, "case.status", "closed", True),
        (("case#c", "queue#open"), MISSING, None, None, True),
        (("case#ghost", "queue#open"), EXTRA, None, live.get("case#ghost", "queue#open"), False),
    ]
    assert compared.differences[0].rebuilt == "open"
    assert compared.report()["differing"] == ["case#b/state", "case#c/queue#open", "case#ghost/queue#open"]

    done = repair(compared, live)

    assert done.put == [("case#b", "state"), ("case#c", "queue#open")]
    assert done.deleted == [("case#ghost", "queue#open")] and done.skipped == []
    assert comparison(hotline.store, live).differences == []
    again = repair(comparison(hotline.store, live), live)  # idempotent: nothing left to write
    assert (again.put, again.deleted, again.skipped) == ([], [], [])


def test_repair_leaves_a_stream_the_projector_moved_on_since_the_compare(hotline: Hotline) -> None:
    live = damaged(hotline)
    compared = comparison(hotline.store, live)
    # the projector writes B at a newer version between the compare and the repair
    b_state = live.get("case#b", "state")
    assert b_state is not None
    live._rows[("case#b", "state")] = {**b_state, "version": b_state["version"] + 1}

    done = repair(compared, live)

    assert done.skipped == [("case#b", "state")]
    assert live.get("case#b", "state")["version"] == b_state["version"] + 1  # not overwritten
    assert done.put == [("case#c", "queue#open")] and done.deleted == [("case#ghost", "queue#open")]
