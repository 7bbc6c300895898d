"""What partners pay for a period under their framework contract, pro-rated by calendar days.

Rule: a fee for a period the contract covers only in part is the full fee times the days
covered over the days of the period, rounded half up to a cent. Periods are calendar months
(monthly contracts) or calendar years (yearly contracts), billed after they end.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from notfall.domain.partners import Contract

CENTS_PER_CHILD = 100  # municipalities: 1 EUR per child up to age 10 per year


@dataclass(frozen=True)
class HeadcountBand:
    """A partner company covering up to `up_to` employees (None: any number above the band
    before) pays `cents` a year. Bands are configuration (PARTNER_HEADCOUNT_BANDS, validated
    in `notfall.settings`): ascending from 1 employee, without gaps, the last one open."""

    up_to: int | None
    cents: int


# The defaults, within the published range of 120 to 2,400 EUR a year (docs/domain-rules.md).
DEFAULT_HEADCOUNT_BANDS: tuple[HeadcountBand, ...] = (
    HeadcountBand(49, 12_000),
    HeadcountBand(249, 48_000),
    HeadcountBand(999, 120_000),
    HeadcountBand(None, 240_000),
)


@dataclass(frozen=True)
class Fee:
    cents: int
    days_covered: int
    days_in_period: int
    full_cents: int  # the fee for the whole period


def band_of(employees: int, bands: tuple[HeadcountBand, ...] = DEFAULT_HEADCOUNT_BANDS) -> HeadcountBand:
    return next(b for b in bands if b.up_to is None or employees <= b.up_to)


def band_fee(employees: int, bands: tuple[HeadcountBand, ...] = DEFAULT_HEADCOUNT_BANDS) -> int:
    return band_of(employees, bands).cents


def covered_days(contract: Contract, start: date, end: date) -> int:
    first = max(start, contract.start)
    last = min(end, contract.end) if contract.end else end
    return max(0, (last - first).days + 1)


def pro_rate(full_cents: int, days: int, period_days: int) -> int:
    return (full_cents * days * 2 + period_days) // (2 * period_days)


def _fee(full: int, contract: Contract, start: date, end: date) -> Fee:
    days, period = covered_days(contract, start, end), (end - start).days + 1
    return Fee(pro_rate(full, days, period), days, period, full)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def monthly_fee(contract: Contract, year: int, month: int) -> Fee:
    assert contract.fee_model == "monthly" and contract.monthly_fee_cents is not None
    return _fee(contract.monthly_fee_cents, contract, *month_bounds(year, month))


def yearly_band_fee(contract: Contract, year: int, bands: tuple[HeadcountBand, ...] = DEFAULT_HEADCOUNT_BANDS) -> Fee:
    assert contract.fee_model == "yearly_band" and contract.employees_covered is not None
    return _fee(band_fee(contract.employees_covered, bands), contract, date(year, 1, 1), date(year, 12, 31))


def municipality_fee(contract: Contract, year: int, children_under_10: int) -> Fee:
    assert contract.fee_model == "per_child"
    return _fee(children_under_10 * CENTS_PER_CHILD, contract, date(year, 1, 1), date(year, 12, 31))
