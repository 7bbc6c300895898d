# Proves partner fees: monthly and yearly fees pro-rated by covered days, half up; headcount bands; 1 EUR per child.
from __future__ import annotations

from datetime import date

import pytest

from notfall.domain import fees as f
from notfall.domain.partners import Contract


def monthly(start: date, end: date | None = None, cents: int = 10_000) -> Contract:
    return Contract(contract_id="acme-1", fee_model="monthly", start=start, end=end, monthly_fee_cents=cents)


def yearly(start: date, employees: int, end: date | None = None) -> Contract:
    return Contract(contract_id="acme-2", fee_model="yearly_band", start=start, end=end, employees_covered=employees)


def per_child(start: date, end: date | None = None) -> Contract:
    return Contract(contract_id="laatzen-1", fee_model="per_child", start=start, end=end)


# --- monthly flat fee ---------------------------------------------------------------------------


def test_a_whole_month_costs_the_whole_fee() -> None:
    assert f.monthly_fee(monthly(date(2026, 1, 1)), 2026, 11) == f.Fee(10_000, 30, 30, 10_000)


def test_a_contract_starting_on_10_november_pays_21_of_30_days() -> None:
    # 100.00 EUR x 21 / 30 = 70.00 EUR
    assert f.monthly_fee(monthly(date(2026, 11, 10)), 2026, 11) == f.Fee(7_000, 21, 30, 10_000)


def test_a_contract_ending_mid_month_pays_up_to_its_last_day() -> None:
    # 1 to 14 November: 100.00 x 14 / 30 = 46.666... -> 46.67
    assert f.monthly_fee(monthly(date(2026, 1, 1), date(2026, 11, 14)), 2026, 11) == f.Fee(4_667, 14, 30, 10_000)
    # 10 to 14 November: 100.00 x 5 / 30 = 16.666... -> 16.67
    assert f.monthly_fee(monthly(date(2026, 11, 10), date(2026, 11, 14)), 2026, 11).cents == 1_667


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2026, 12, 1), None), (date(2026, 1, 1), date(2026, 10, 31))],
    ids=["starts-after", "ended-before"],
)
def test_a_month_the_contract_does_not_cover_costs_nothing(start: date, end: date | None) -> None:
    assert f.monthly_fee(monthly(start, end), 2026, 11) == f.Fee(0, 0, 30, 10_000)


def test_february_of_a_leap_year_has_29_days() -> None:
    # from 15 February 2024: 15 of 29 days, 100.00 x 15 / 29 = 51.724... -> 51.72
    assert f.monthly_fee(monthly(date(2024, 2, 15)), 2024, 2) == f.Fee(5_172, 15, 29, 10_000)
    # the same start in 2026: 14 of 28 days = 50.00
    assert f.monthly_fee(monthly(date(2026, 2, 15)), 2026, 2) == f.Fee(5_000, 14, 28, 10_000)
    # the leap day alone: 100.00 / 29 = 3.448... -> 3.45
    assert f.monthly_fee(monthly(date(2024, 2, 29), date(2024, 2, 29)), 2024, 2).cents == 345


def test_a_one_day_contract_in_a_31_day_month() -> None:
    # 100.00 / 31 = 3.2258 -> 3.23
    assert f.monthly_fee(monthly(date(2026, 12, 31)), 2026, 12) == f.Fee(323, 1, 31, 10_000)


def test_a_half_cent_rounds_up() -> None:
    # 1.05 EUR x 1 / 30 = 0.035 EUR -> 0.04 (half up, not to even)
    assert f.monthly_fee(monthly(date(2026, 11, 30), cents=105), 2026, 11).cents == 4
    # 1.05 EUR x 2 / 30 = 0.07 exactly
    assert f.monthly_fee(monthly(date(2026, 11, 29), cents=105), 2026, 11).cents == 7
    # 0.45 EUR x 1 / 30 = 0.015 -> 0.02 (to even would be 0.02 too); 0.75 / 30 = 0.025 -> 0.03 (to even: 0.02)
    assert f.monthly_fee(monthly(date(2026, 11, 30), cents=45), 2026, 11).cents == 2
    assert f.monthly_fee(monthly(date(2026, 11, 30), cents=75), 2026, 11).cents == 3


@pytest.mark.parametrize(
    ("full", "days", "period", "cents"),
    [(1, 1, 2, 1), (3, 1, 2, 2), (5, 1, 2, 3), (100, 1, 3, 33), (200, 1, 3, 67), (0, 5, 30, 0)],
)
def test_pro_rate_is_half_up(full: int, days: int, period: int, cents: int) -> None:
    assert f.pro_rate(full, days, period) == cents


# --- yearly fee by headcount band ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("employees", "cents"),
    [
        (1, 12_000),
        (49, 12_000),  # 120 EUR
        (50, 48_000),
        (249, 48_000),  # 480 EUR
        (250, 120_000),
        (999, 120_000),  # 1,200 EUR
        (1_000, 240_000),
        (86_546, 240_000),  # 2,400 EUR
    ],
)
def test_headcount_bands(employees: int, cents: int) -> None:
    assert f.band_fee(employees) == cents


def test_the_default_bands_are_the_published_range_of_120_to_2400_eur() -> None:
    assert (
        f.HeadcountBand(49, 12_000),
        f.HeadcountBand(249, 48_000),
        f.HeadcountBand(999, 120_000),
        f.HeadcountBand(None, 240_000),
    ) == f.DEFAULT_HEADCOUNT_BANDS


# Configured otherwise: up to 9 employees 60 EUR, up to 99 300 EUR, more 900 EUR.
SMALL_FIRMS = (f.HeadcountBand(9, 6_000), f.HeadcountBand(99, 30_000), f.HeadcountBand(None, 90_000))


@pytest.mark.parametrize(
    ("employees", "cents"), [(1, 6_000), (9, 6_000), (10, 30_000), (99, 30_000), (100, 90_000), (86_546, 90_000)]
)
def test_configured_bands_set_the_fee(employees: int, cents: int) -> None:
    assert f.band_fee(employees, SMALL_FIRMS) == cents


def test_a_yearly_fee_by_configured_bands() -> None:
    # 250 employees: the open band, 900.00 EUR for the whole of 2026
    assert f.yearly_band_fee(yearly(date(2025, 1, 1), 250), 2026, SMALL_FIRMS) == f.Fee(90_000, 365, 365, 90_000)


def test_a_yearly_fee_for_a_whole_year() -> None:
    assert f.yearly_band_fee(yearly(date(2025, 1, 1), 49), 2026) == f.Fee(12_000, 365, 365, 12_000)


def test_a_yearly_fee_starting_on_1_july_is_pro_rated_by_days() -> None:
    # 1 July to 31 December 2026: 184 of 365 days; 1,200.00 x 184 / 365 = 604.931... -> 604.93
    assert f.yearly_band_fee(yearly(date(2026, 7, 1), 250), 2026) == f.Fee(60_493, 184, 365, 120_000)


def test_a_yearly_fee_ending_in_a_leap_year() -> None:
    # 1 January to 31 March 2024: 31 + 29 + 31 = 91 of 366 days; 2,400.00 x 91 / 366 = 596.721... -> 596.72
    assert f.yearly_band_fee(yearly(date(2020, 1, 1), 1_000, date(2024, 3, 31)), 2024) == f.Fee(
        59_672, 91, 366, 240_000
    )


# --- municipalities: 1 EUR per child up to 10 ---------------------------------------------------


def test_a_whole_year_of_a_municipality_is_one_euro_per_child() -> None:
    assert f.municipality_fee(per_child(date(2016, 10, 1)), 2017, 3_320) == f.Fee(332_000, 365, 365, 332_000)


def test_a_municipality_joining_on_1_october_2016_pays_92_of_366_days() -> None:
    # 3,320 children: 3,320.00 EUR x 92 / 366 = 834.535... -> 834.54 EUR
    assert f.municipality_fee(per_child(date(2016, 10, 1)), 2016, 3_320) == f.Fee(83_454, 92, 366, 332_000)


def test_a_municipality_without_children_pays_nothing() -> None:
    assert f.municipality_fee(per_child(date(2016, 1, 1)), 2026, 0).cents == 0


def test_a_contract_of_another_fee_model_is_not_priced_as_this_one() -> None:
    with pytest.raises(AssertionError):
        f.monthly_fee(yearly(date(2026, 1, 1), 10), 2026, 11)
    with pytest.raises(AssertionError):
        f.yearly_band_fee(monthly(date(2026, 1, 1)), 2026)


# --- days covered -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 11, 1), None, 30),
        (date(2026, 11, 30), None, 1),
        (date(2026, 10, 1), date(2026, 11, 1), 1),
        (date(2026, 11, 10), date(2026, 11, 20), 11),
        (date(2026, 12, 1), None, 0),
        (date(2026, 1, 1), date(2026, 10, 31), 0),
    ],
)
def test_covered_days_count_both_ends(start: date, end: date | None, days: int) -> None:
    assert f.covered_days(monthly(start, end), date(2026, 11, 1), date(2026, 11, 30)) == days


def test_month_bounds() -> None:
    assert f.month_bounds(2024, 2) == (date(2024, 2, 1), date(2024, 2, 29))
    assert f.month_bounds(2026, 2) == (date(2026, 2, 1), date(2026, 2, 28))
    assert f.month_bounds(2026, 12) == (date(2026, 12, 1), date(2026, 12, 31))
