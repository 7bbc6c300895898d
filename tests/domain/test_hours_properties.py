# Properties of the Berlin month split of care time: the parts of any window add up to its real elapsed
# minutes (daylight-saving nights included), and each part lies in the Berlin month it is filed under.
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from notfall.domain.hours import BERLIN, minutes_by_month, whole_minutes

# Instants near the edges that matter: Berlin month ends and the two DST changes of a year.
EDGES = [
    *(datetime(y, m, 1, tzinfo=BERLIN).astimezone(UTC) for y in (2026, 2027, 2030) for m in range(1, 13)),
    *(datetime(y, 3, d, 1, tzinfo=UTC) for y, d in ((2026, 29), (2027, 28), (2030, 31))),  # 02:00 -> 03:00
    *(datetime(y, 10, d, 1, tzinfo=UTC) for y, d in ((2026, 25), (2027, 31), (2030, 27))),  # 03:00 -> 02:00
]
near_edges = st.builds(
    lambda edge, seconds: edge + timedelta(seconds=seconds),
    st.sampled_from(EDGES),
    st.integers(min_value=-3 * 86_400, max_value=3 * 86_400),
)
# hypothesis takes naive bounds and attaches the zone itself
anywhere = st.datetimes(datetime(2025, 1, 1), datetime(2031, 1, 1), timezones=st.just(UTC))  # noqa: DTZ001
starts = st.one_of(near_edges, anywhere)
# A session up to several months long, to the second: call times carry seconds.
lengths = st.one_of(st.integers(min_value=0, max_value=86_400), st.integers(min_value=0, max_value=100 * 86_400))
zones = st.sampled_from([UTC, BERLIN])  # the same instant, however it arrives


def month_bounds_utc(key: str) -> tuple[datetime, datetime]:
    year, month = map(int, key.split("-"))
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    return (
        datetime(year, month, 1, tzinfo=BERLIN).astimezone(UTC),
        datetime(*after, 1, tzinfo=BERLIN).astimezone(UTC),
    )


@given(starts, lengths, zones)
def test_the_months_add_up_to_the_windows_real_elapsed_minutes(start: datetime, seconds: int, zone) -> None:
    end = start + timedelta(seconds=seconds)
    parts = minutes_by_month(start.astimezone(zone), end.astimezone(zone))
    assert sum(parts.values()) == whole_minutes(start.astimezone(zone), end.astimezone(zone)) == seconds // 60


@given(starts, lengths, zones)
def test_each_part_lies_in_the_berlin_month_it_is_filed_under(start: datetime, seconds: int, zone) -> None:
    end = start + timedelta(seconds=seconds)
    for key, minutes in minutes_by_month(start.astimezone(zone), end.astimezone(zone)).items():
        first, after = month_bounds_utc(key)
        overlap = (min(end, after) - max(start, first)).total_seconds()
        # never more than the window spends in that month, but for the minute that ends in it
        assert 0 <= minutes * 60 < overlap + 60
        assert overlap > 0
