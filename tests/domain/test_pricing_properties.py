# Properties of billing arithmetic, worked out from the rules: care time rounded up per session in started
# units, amounts half up to a cent, partner fees pro rata by calendar days, tariffs valid from a day on.
from __future__ import annotations

import math
from datetime import date, timedelta
from fractions import Fraction

from domain_builders import envelopes
from hypothesis import assume, given
from hypothesis import strategies as st

from notfall.domain import fees as f
from notfall.domain.partners import Contract
from notfall.domain.tariffs import TARIFF_STREAM, Rounding, Tariffs, TariffSet, Tier, amount_cents, fold_tariffs

units = st.integers(min_value=1, max_value=120)
minutes = st.integers(min_value=1, max_value=100_000)
prices = st.integers(min_value=0, max_value=10_000)  # TariffIn's bounds


def half_up(exact: Fraction) -> int:
    return math.floor(exact + Fraction(1, 2))


# --- rounding of care time ----------------------------------------------------------------------


@given(units, minutes)
def test_billed_time_is_the_care_time_rounded_up_to_a_started_unit(unit: int, cared: int) -> None:
    billed = Rounding(unit).billed(cared)
    assert billed >= cared
    assert billed - cared < unit
    assert billed % unit == 0


@given(units, minutes, minutes)
def test_more_care_time_never_bills_less(unit: int, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert Rounding(unit).billed(low) <= Rounding(unit).billed(high)


@given(units)
def test_no_care_time_bills_nothing(unit: int) -> None:
    assert Rounding(unit).billed(0) == 0


@given(units, st.lists(st.integers(min_value=0, max_value=2_000), max_size=20))
def test_each_session_is_rounded_on_its_own(unit: int, sessions: list[int]) -> None:
    rounding = Rounding(unit)
    total = rounding.total(sessions)
    assert total == sum(rounding.billed(m) for m in sessions)
    # rounding each session costs at least what rounding their sum would, and less than a unit per session more
    assert rounding.billed(sum(sessions)) <= total < sum(sessions) + unit * max(1, len(sessions))


@given(minutes, prices)
def test_an_amount_is_billed_minutes_times_the_hourly_price_half_up_to_a_cent(billed: int, price: int) -> None:
    assert amount_cents(billed, price) == half_up(Fraction(billed * price, 60))


@given(minutes, prices, prices)
def test_a_higher_price_never_costs_less(billed: int, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert amount_cents(billed, low) <= amount_cents(billed, high)


@given(minutes, minutes, prices)
def test_more_billed_time_never_costs_less(a: int, b: int, price: int) -> None:
    low, high = sorted((a, b))
    assert amount_cents(low, price) <= amount_cents(high, price)


# --- pro rata partner fees ----------------------------------------------------------------------

fees = st.integers(min_value=0, max_value=10_000_000)
days = st.dates(min_value=date(2015, 1, 1), max_value=date(2040, 12, 31))
months = st.tuples(st.integers(min_value=2015, max_value=2040), st.integers(min_value=1, max_value=12))


def monthly(start: date, end: date | None, cents: int) -> Contract:
    return Contract(contract_id="acme-1", fee_model="monthly", start=start, end=end, monthly_fee_cents=cents)


def days_of(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


@given(fees, st.integers(min_value=1, max_value=366), st.data())
def test_a_pro_rata_fee_is_the_fee_times_the_share_of_days_half_up(full: int, period: int, data: st.DataObject) -> None:
    covered = data.draw(st.integers(min_value=0, max_value=period))
    cents = f.pro_rate(full, covered, period)
    assert cents == half_up(Fraction(full * covered, period))
    assert 0 <= cents <= full
    assert f.pro_rate(full, period, period) == full
    assert f.pro_rate(full, 0, period) == 0
    if covered < period:
        assert f.pro_rate(full, covered + 1, period) >= cents


@given(fees, months, days, st.one_of(st.none(), days))
def test_a_monthly_fee_charges_the_days_the_contract_covers(
    full: int, month: tuple[int, int], start: date, end: date | None
) -> None:
    assume(end is None or start <= end)
    contract = monthly(start, end, full)
    first, last = f.month_bounds(*month)
    covered = sum(1 for day in days_of(first, last) if contract.covers(day))
    fee = f.monthly_fee(contract, *month)
    assert (fee.days_covered, fee.days_in_period, fee.full_cents) == (covered, (last - first).days + 1, full)
    assert fee.cents == half_up(Fraction(full * covered, fee.days_in_period))
    if covered == fee.days_in_period:
        assert fee.cents == full


@given(fees, months, st.data())
def test_a_month_split_between_two_contracts_costs_the_whole_fee_or_one_cent_more(
    full: int, month: tuple[int, int], data: st.DataObject
) -> None:
    # each part is rounded half up on its own: the two errors lie in (-0.5, 0.5] each, the whole fee is exact
    first, last = f.month_bounds(*month)
    split = data.draw(st.sampled_from(days_of(first, last)))
    before = f.monthly_fee(monthly(date(2015, 1, 1), split - timedelta(1), full), *month).cents
    after = f.monthly_fee(monthly(split, None, full), *month).cents
    assert before + after - full in (0, 1)


@given(fees, months, days, days)
def test_a_contract_covering_more_days_of_a_month_never_pays_less(
    full: int, month: tuple[int, int], start: date, a: date
) -> None:
    b = a + timedelta(days=40)
    assume(start <= a)
    assert f.monthly_fee(monthly(start, a, full), *month).cents <= f.monthly_fee(monthly(start, b, full), *month).cents


@given(st.integers(min_value=1, max_value=100_000), st.integers(min_value=2015, max_value=2040), days, days)
def test_a_yearly_band_fee_charges_the_days_of_the_year_covered(
    employees: int, year: int, start: date, end: date
) -> None:
    assume(start <= end)
    contract = Contract(
        contract_id="acme-2", fee_model="yearly_band", start=start, end=end, employees_covered=employees
    )
    first, last = date(year, 1, 1), date(year, 12, 31)
    covered = max(0, (min(end, last) - max(start, first)).days + 1)
    fee = f.yearly_band_fee(contract, year)
    band = f.band_fee(employees)
    assert fee == f.Fee(
        half_up(Fraction(band * covered, (last - first).days + 1)), covered, (last - first).days + 1, band
    )
    assert 12_000 <= band <= 240_000  # the published range: 120 to 2,400 EUR a year


# --- tariffs ------------------------------------------------------------------------------------


@st.composite
def price_changes(draw: st.DrawFn) -> list[TariffSet]:
    """Price changes as decide_tariff lets them through: per tier, each starts after the tier's latest."""
    changes: list[TariffSet] = []
    latest: dict[Tier, date] = {}
    for tier in draw(st.lists(st.sampled_from(list(Tier)), max_size=12)):
        start = latest.get(tier, date(2014, 12, 31)) + timedelta(draw(st.integers(min_value=1, max_value=800)))
        length = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=900)))  # days after its first
        end = None if length is None else start + timedelta(length)
        latest[tier] = start
        changes.append(TariffSet(tier=tier, cents_per_hour=draw(prices), valid_from=start, valid_to=end))
    return changes


@given(price_changes(), st.sampled_from(list(Tier)), st.dates(min_value=date(2014, 1, 1), max_value=date(2035, 12, 31)))
def test_the_price_on_a_day_is_the_tiers_latest_started_price_unless_it_has_ended(
    changes: list[TariffSet], tier: Tier, day: date
) -> None:
    started = [c for c in changes if c.tier == tier and c.valid_from <= day]
    expected = None
    if started:
        latest = max(started, key=lambda c: c.valid_from)
        if latest.valid_to is None or day <= latest.valid_to:
            expected = latest.cents_per_hour
    price = fold_tariffs(envelopes(TARIFF_STREAM, changes)).price_on(tier, day)
    assert (price.cents_per_hour if price else None) == expected
    assert price is None or price.valid_from <= day


@given(price_changes(), st.randoms(use_true_random=False))
def test_the_tariff_fold_reads_the_stream_in_version_order(changes: list[TariffSet], rng) -> None:
    log = envelopes(TARIFF_STREAM, changes)
    shuffled = list(log)
    rng.shuffle(shuffled)
    state = fold_tariffs(shuffled)
    assert state == fold_tariffs(log) and isinstance(state, Tariffs) and state.version == len(changes)
