# Proves care time is split by Europe/Berlin calendar month in real elapsed minutes, across month ends and DST nights.
from __future__ import annotations

from datetime import timedelta

import pytest
from domain_builders import BERLIN, UTC, berlin, utc

from notfall.domain.hours import minutes_by_month, month_of, whole_minutes


def test_window_inside_one_month() -> None:
    # 3 March 06:30 to 11:00 Berlin: 4.5 hours
    assert minutes_by_month(berlin(2026, 3, 3, 6, 30), berlin(2026, 3, 3, 11)) == {"2026-03": 270}


def test_split_at_the_berlin_month_boundary() -> None:
    # 30 November 21:00 to 1 December 03:00 Berlin: 3 hours either side of midnight
    assert minutes_by_month(berlin(2026, 11, 30, 21), berlin(2026, 12, 1, 3)) == {"2026-11": 180, "2026-12": 180}


def test_the_boundary_is_berlin_midnight_not_utc_midnight() -> None:
    # 30 Nov 23:30 UTC is 1 Dec 00:30 in Berlin: all of it is December
    assert minutes_by_month(utc(2026, 11, 30, 23, 30), utc(2026, 12, 1, 2)) == {"2026-12": 150}
    # 31 Mar 21:00 to 22:30 UTC: the Berlin month turns at 22:00 UTC (summer time)
    assert minutes_by_month(utc(2026, 3, 31, 21), utc(2026, 3, 31, 22, 30)) == {"2026-03": 60, "2026-04": 30}


def test_year_end() -> None:
    assert minutes_by_month(berlin(2026, 12, 31, 22), berlin(2027, 1, 1, 1, 15)) == {"2026-12": 120, "2027-01": 75}


def test_spring_forward_night_counts_real_minutes() -> None:
    # last Sunday of March 2026 is the 29th: 02:00 becomes 03:00, the night is one hour shorter
    assert minutes_by_month(berlin(2026, 3, 28, 22), berlin(2026, 3, 29, 6)) == {"2026-03": 7 * 60}


def test_fall_back_night_counts_real_minutes() -> None:
    # last Sunday of October 2026 is the 25th: 03:00 becomes 02:00 again, the night is one hour longer
    assert minutes_by_month(berlin(2026, 10, 24, 20), berlin(2026, 10, 25, 8)) == {"2026-10": 13 * 60}


def test_inside_the_repeated_hour_of_the_fall_back_night() -> None:
    # 02:45 summer time (00:45 UTC) to 02:15 winter time (01:15 UTC): 30 real minutes, though
    # the wall clock runs backwards
    start, end = utc(2026, 10, 25, 0, 45), utc(2026, 10, 25, 1, 15)
    assert start.astimezone(BERLIN).hour == 2 == end.astimezone(BERLIN).hour
    assert minutes_by_month(start, end) == {"2026-10": 30}


def test_month_spanning_window_sums_to_the_elapsed_time() -> None:
    # 20 March 08:00 to 10 April 08:00 Berlin, over the end of March and the spring DST change
    start, end = berlin(2026, 3, 20, 8), berlin(2026, 4, 10, 8)
    split = minutes_by_month(start, end)
    # March: 11 days and 16 hours on the wall clock, one of which never happened
    assert split == {"2026-03": (11 * 24 + 16 - 1) * 60, "2026-04": (9 * 24 + 8) * 60}
    # (Python subtracts two Berlin times by wall clock; the real elapsed time is the UTC difference)
    assert sum(split.values()) == (end.astimezone(UTC) - start.astimezone(UTC)) // timedelta(minutes=1)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (berlin(2026, 3, 3, 11), berlin(2026, 3, 3, 11)),
        (berlin(2026, 3, 3, 11), berlin(2026, 3, 3, 10)),
    ],
)
def test_empty_or_reversed_window_has_no_minutes(start, end) -> None:
    assert minutes_by_month(start, end) == {}


def test_partial_minutes_are_not_counted() -> None:
    assert minutes_by_month(berlin(2026, 3, 3, 6, 30), berlin(2026, 3, 3, 6, 31, 59)) == {"2026-03": 1}


def test_month_of_an_instant_is_its_berlin_month() -> None:
    assert month_of(utc(2026, 4, 30, 22, 30)) == "2026-05"
    assert month_of(utc(2026, 12, 31, 22, 59)) == "2026-12"
    assert month_of(utc(2026, 12, 31, 23)) == "2027-01"


def test_a_minute_that_straddles_the_month_end_is_not_lost() -> None:
    # 31 December 23:59:30 to 1 January 00:30:30 Berlin: 31 whole minutes elapsed. Each month gets the
    # whole minutes up to its end less those before its start: December 0 (30 s), January 31.
    start, end = berlin(2026, 12, 31, 23, 59, 30), berlin(2027, 1, 1, 0, 30, 30)
    parts = minutes_by_month(start, end)
    assert sum(parts.values()) == 31
    assert parts["2027-01"] == 31


def test_whole_minutes_are_real_elapsed_time_in_any_zone() -> None:
    # 25 October 2026 01:00 to 04:00 Berlin: 03:00 becomes 02:00 again in between, so 4 hours elapse
    assert whole_minutes(berlin(2026, 10, 25, 1), berlin(2026, 10, 25, 4)) == 240
    assert whole_minutes(berlin(2026, 3, 29, 1), berlin(2026, 3, 29, 4)) == 120  # spring: one hour fewer
