"""The history's plan: how many consultations, emergencies, care minutes and transport services
fall in each Berlin month of the span, worked out before any command is written, so that the
generated history hits the given totals exactly (`docs/history.md` says what each total counts).

The plan is a function of the totals and the span alone (no randomness): months are weighted by
their days (weekday, public and school holidays), the season and the year's level of demand, and
each total is split over the months by the largest-remainder method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.easter import easter  # type: ignore[import-untyped]

# The span and figures the service published for its first 7.5 years.
SPAN_START = date(2014, 9, 1)
SPAN_END = date(2022, 2, 28)  # the last day, included
RECENT_FROM = date(2021, 1, 1)  # "more than half of the requests in 2021-2022 became a care need"


@dataclass(frozen=True)
class Totals:
    consultations: int
    care_minutes: int
    emergencies: int
    transports: int
    first_day: date
    last_day: date  # included
    recent_share: float = 0.53  # emergencies per request from RECENT_FROM on (when the span has earlier months)

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("the span ends before it starts")
        if not 0 <= self.emergencies <= self.consultations:
            raise ValueError("emergencies must be between 0 and the consultations")
        if min(self.care_minutes, self.transports) < 0:
            raise ValueError("care minutes and transports cannot be negative")


PUBLISHED = Totals(
    consultations=9_832,
    care_minutes=16_033 * 60,
    emergencies=3_900,
    transports=297,
    first_day=SPAN_START,
    last_day=SPAN_END,
)


@dataclass(frozen=True)
class MonthPlan:
    month: str  # YYYY-MM, Berlin
    first: date  # the month's first day within the span
    last: date  # its last day within the span
    consultations: int  # requests: cases opened with their one consultation
    emergencies: int  # of them, care needs recorded (outcome care_need)
    unfilled: int  # of the emergencies, those that never get a caregiver
    refused: int  # requests whose care need is refused (not entitled); never emergencies
    care_minutes: int  # minutes of care sessions starting in the month
    transports: int  # transport services done in the month

    @property
    def filled(self) -> int:
        return self.emergencies - self.unfilled


# --- the calendar ----------------------------------------------------------------------------

# Summer, autumn and Christmas school holidays in Lower Saxony (approximate; first and last day).
SCHOOL_HOLIDAYS: tuple[tuple[date, date], ...] = (
    (date(2014, 7, 31), date(2014, 9, 10)),
    (date(2014, 10, 27), date(2014, 11, 8)),
    (date(2014, 12, 22), date(2015, 1, 5)),
    (date(2015, 7, 23), date(2015, 9, 2)),
    (date(2015, 10, 19), date(2015, 10, 31)),
    (date(2015, 12, 23), date(2016, 1, 6)),
    (date(2016, 6, 23), date(2016, 8, 3)),
    (date(2016, 10, 4), date(2016, 10, 15)),
    (date(2016, 12, 21), date(2017, 1, 6)),
    (date(2017, 6, 22), date(2017, 8, 2)),
    (date(2017, 10, 2), date(2017, 10, 13)),
    (date(2017, 12, 22), date(2018, 1, 5)),
    (date(2018, 6, 28), date(2018, 8, 8)),
    (date(2018, 10, 1), date(2018, 10, 12)),
    (date(2018, 12, 24), date(2019, 1, 4)),
    (date(2019, 7, 4), date(2019, 8, 14)),
    (date(2019, 10, 4), date(2019, 10, 18)),
    (date(2019, 12, 23), date(2020, 1, 6)),
    (date(2020, 7, 16), date(2020, 8, 26)),
    (date(2020, 10, 12), date(2020, 10, 23)),
    (date(2020, 12, 23), date(2021, 1, 8)),
    (date(2021, 7, 22), date(2021, 9, 1)),
    (date(2021, 10, 18), date(2021, 10, 29)),
    (date(2021, 12, 23), date(2022, 1, 7)),
)

WEEKDAY_WEIGHT = (1.25, 1.1, 1.0, 1.0, 0.95, 0.35, 0.3)  # Monday ... Sunday: the week starts with the gaps
HOLIDAY_WEIGHT = 0.3  # a public holiday is like a Sunday
SCHOOL_HOLIDAY_WEIGHT = 0.7  # Kitas close planned, not at short notice
SEASON = (1.15, 1.2, 1.1, 0.95, 0.95, 0.9, 0.75, 0.75, 1.0, 1.05, 1.15, 1.0)  # January ... December: colds in winter
# The level of demand: the service grows known, the pandemic's first year closed Kitas.
YEAR_LEVEL = {2014: 0.6, 2015: 0.8, 2016: 0.95, 2017: 1.0, 2018: 1.05, 2019: 1.1, 2020: 0.9, 2021: 1.1, 2022: 1.15}
LOCKDOWN = (date(2020, 3, 16), date(2020, 5, 31), 0.5)
# Emergencies per request before RECENT_FROM, growing as the service becomes known.
EMERGENCY_SHARE = {2014: 0.30, 2015: 0.33, 2016: 0.36, 2017: 0.38, 2018: 0.39, 2019: 0.40, 2020: 0.42}
# Emergencies that never get a caregiver: many in the first years, fewer as volunteers join.
UNFILLED_SHARE = {2014: 0.15, 2015: 0.12, 2016: 0.09, 2017: 0.07, 2018: 0.06, 2019: 0.05, 2020: 0.06}
UNFILLED_SHARE_LATER = 0.05
REFUSED_SHARE = 0.02  # requests from outside the entitled area asking for care


def public_holidays(year: int) -> set[date]:
    """Lower Saxony's public holidays."""
    e = easter(year)
    fixed = {date(year, 1, 1), date(year, 5, 1), date(year, 10, 3), date(year, 12, 25), date(year, 12, 26)}
    if year >= 2018:
        fixed.add(date(year, 10, 31))  # Reformation Day
    moving = {e - timedelta(days=2), e + timedelta(days=1), e + timedelta(days=39), e + timedelta(days=50)}
    return fixed | moving


def in_school_holidays(day: date) -> bool:
    return any(first <= day <= last for first, last in SCHOOL_HOLIDAYS)


def day_weight(day: date) -> float:
    """How much demand a day draws, relative to an ordinary Wednesday of the same month."""
    weight = HOLIDAY_WEIGHT if day in public_holidays(day.year) else WEEKDAY_WEIGHT[day.weekday()]
    if in_school_holidays(day):
        weight *= SCHOOL_HOLIDAY_WEIGHT
    if LOCKDOWN[0] <= day <= LOCKDOWN[1]:
        weight *= LOCKDOWN[2]
    return weight


def year_level(year: int) -> float:
    return YEAR_LEVEL.get(year, YEAR_LEVEL[max(YEAR_LEVEL)] if year > max(YEAR_LEVEL) else YEAR_LEVEL[min(YEAR_LEVEL)])


# --- splitting totals -------------------------------------------------------------------------


def allocate(total: int, weights: Sequence[float], caps: Sequence[int] | None = None) -> list[int]:
    """`total` split in proportion to `weights` by the largest-remainder method (ties: the earlier
    index), each part at most its cap. The parts add up to `total` exactly."""
    n = len(weights)
    limit = list(caps) if caps is not None else [total] * n
    if total < 0 or sum(limit) < total:
        raise ValueError(f"cannot place {total} in {n} parts capped at {sum(limit)}")
    parts = [0] * n
    while (left := total - sum(parts)) > 0:
        # Again while caps cut parts short: the rest goes to the parts still below their cap.
        open_ = [i for i in range(n) if parts[i] < limit[i]]
        weight = [max(weights[i], 0.0) for i in open_]
        if sum(weight) <= 0:
            weight = [1.0] * len(open_)
        shares = [left * w / sum(weight) for w in weight]
        add = [min(math.floor(s), limit[i] - parts[i]) for s, i in zip(shares, open_, strict=True)]
        extra = left - sum(add)
        for k in sorted(range(len(open_)), key=lambda k: (-(shares[k] - math.floor(shares[k])), k)):
            if extra and parts[open_[k]] + add[k] < limit[open_[k]]:
                add[k] += 1
                extra -= 1
        for k, i in enumerate(open_):
            parts[i] += add[k]
    return parts


def months_of(first: date, last: date) -> list[tuple[str, date, date]]:
    """The Berlin months of the span, each with its first and last day within the span."""
    out = []
    day = first
    while day <= last:
        next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        out.append((day.strftime("%Y-%m"), day, min(last, next_month - timedelta(days=1))))
        day = next_month
    return out


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def plan(totals: Totals) -> list[MonthPlan]:
    """Each month's figures; every total of `totals` is the sum over the months."""
    months = months_of(totals.first_day, totals.last_day)
    demand = [
        sum(day_weight(d) for d in _days(first, last)) * SEASON[first.month - 1] * year_level(first.year)
        for _, first, last in months
    ]
    consultations = allocate(totals.consultations, demand)
    refused = [round(REFUSED_SHARE * c) for c in consultations]
    room = [c - r for c, r in zip(consultations, refused, strict=True)]
    recent = [first >= RECENT_FROM for _, first, _ in months]
    emergencies = [0] * len(months)
    if any(recent) and not all(recent):
        # The recent months get their share of their own requests, the earlier ones the rest.
        recent_count = min(
            totals.emergencies,
            sum(math.ceil(totals.recent_share * c) for c, r in zip(consultations, recent, strict=True) if r),
        )
        idx_recent = [i for i, r in enumerate(recent) if r]
        idx_early = [i for i, r in enumerate(recent) if not r]
        for idx, count, weight_of in (
            (idx_recent, recent_count, lambda i: consultations[i]),
            (idx_early, totals.emergencies - recent_count, lambda i: consultations[i] * _share(months[i][1].year)),
        ):
            for i, n in zip(idx, allocate(count, [weight_of(i) for i in idx], [room[i] for i in idx]), strict=True):
                emergencies[i] = n
    else:
        weights = [c * (1.0 if r else _share(m[1].year)) for c, r, m in zip(consultations, recent, months, strict=True)]
        emergencies = allocate(totals.emergencies, weights, room)
    unfilled = [round(_unfilled(first.year) * e) for e, (_, first, _) in zip(emergencies, months, strict=True)]
    filled = [e - u for e, u in zip(emergencies, unfilled, strict=True)]
    if totals.care_minutes and not sum(filled):
        raise ValueError("care minutes need emergencies that get a caregiver")
    # Care of up to MAX_CARE_MINUTES per emergency; transports at most one per filled emergency.
    minutes = allocate(totals.care_minutes, filled, [f * MAX_CARE_MINUTES for f in filled])
    transports = allocate(totals.transports, filled, filled)
    return [
        MonthPlan(month, first, last, *figures)
        for (month, first, last), *figures in zip(
            months, consultations, emergencies, unfilled, refused, minutes, transports, strict=True
        )
    ]


MAX_CARE_MINUTES = 1_200  # one emergency: at most three days of care


def _share(year: int) -> float:
    return EMERGENCY_SHARE.get(year, EMERGENCY_SHARE[max(EMERGENCY_SHARE)])


def _unfilled(year: int) -> float:
    return UNFILLED_SHARE.get(year, UNFILLED_SHARE_LATER)
