# Proves prices by validity day (boundaries, ends, gaps), forward-only changes, started-unit rounding, half-up cents.
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from domain_builders import envelopes
from pydantic import ValidationError

from notfall.domain.errors import DomainError
from notfall.domain.tariffs import (
    PUBLISHED,
    TARIFF_STREAM,
    PricedDay,
    Rounding,
    TariffIn,
    Tariffs,
    TariffSet,
    Tier,
    amount_cents,
    decide_tariff,
    fold_tariffs,
)

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def tariffs(*changes: TariffIn) -> Tariffs:
    """The published prices, then `changes`, each decided on the state before it and folded."""
    log = []
    state = fold_tariffs(log)
    for cmd in (*PUBLISHED, *changes):
        [append] = decide_tariff(state, cmd, NOW).appends
        assert (append.stream_id, append.expected_version) == (TARIFF_STREAM, state.version)
        log += envelopes(TARIFF_STREAM, append.events, first_version=append.expected_version + 1)
        state = fold_tariffs(log)
    return state


def cents(state: Tariffs, tier: Tier, day: date) -> int | None:
    price = state.price_on(tier, day)
    return price.cents_per_hour if price else None


# --- validity -----------------------------------------------------------------------------------


def test_the_published_prices_apply_from_2015_and_not_before() -> None:
    state = tariffs()
    assert state.version == 3
    assert cents(state, Tier.STANDARD, date(2026, 11, 15)) == 500
    assert cents(state, Tier.PARTNER, date(2026, 11, 15)) == 300
    assert cents(state, Tier.STUDENT, date(2026, 11, 15)) == 200
    assert cents(state, Tier.STANDARD, date(2015, 1, 1)) == 500
    assert cents(state, Tier.STANDARD, date(2014, 12, 31)) is None


def test_a_price_change_ends_the_old_price_the_day_before_and_leaves_other_tiers_alone() -> None:
    state = tariffs(TariffIn(tier=Tier.STANDARD, cents_per_hour=600, valid_from=date(2026, 11, 16)))

    assert cents(state, Tier.STANDARD, date(2026, 11, 15)) == 500  # the day before
    assert cents(state, Tier.STANDARD, date(2026, 11, 16)) == 600  # the day of the change
    assert cents(state, Tier.STANDARD, date(2026, 11, 17)) == 600  # the day after
    assert cents(state, Tier.STANDARD, date(2040, 1, 1)) == 600  # open-ended
    assert cents(state, Tier.PARTNER, date(2026, 11, 16)) == 300
    old, new = [p for p in state.prices if p.tier == Tier.STANDARD]
    assert (old.valid_from, old.valid_to) == (date(2015, 1, 1), date(2026, 11, 15))
    assert (new.valid_from, new.valid_to) == (date(2026, 11, 16), None)


def test_a_price_with_a_last_day_ends_there_and_a_gap_until_the_next_price_has_no_tariff() -> None:
    state = tariffs(
        TariffIn(tier=Tier.PARTNER, cents_per_hour=350, valid_from=date(2026, 1, 1), valid_to=date(2026, 6, 30)),
        TariffIn(tier=Tier.PARTNER, cents_per_hour=320, valid_from=date(2026, 8, 1)),
    )

    assert cents(state, Tier.PARTNER, date(2025, 12, 31)) == 300
    assert cents(state, Tier.PARTNER, date(2026, 1, 1)) == 350
    assert cents(state, Tier.PARTNER, date(2026, 6, 30)) == 350  # valid_to is the last day
    assert cents(state, Tier.PARTNER, date(2026, 7, 1)) is None  # the gap
    assert cents(state, Tier.PARTNER, date(2026, 7, 31)) is None
    assert cents(state, Tier.PARTNER, date(2026, 8, 1)) == 320
    assert [(p.cents_per_hour, p.valid_from, p.valid_to) for p in state.prices if p.tier == Tier.PARTNER] == [
        (300, date(2015, 1, 1), date(2025, 12, 31)),
        (350, date(2026, 1, 1), date(2026, 6, 30)),
        (320, date(2026, 8, 1), None),
    ]


def test_no_tariffs_at_all_price_nothing() -> None:
    assert Tariffs().price_on(Tier.STANDARD, date(2026, 11, 2)) is None


# --- deciding a price ---------------------------------------------------------------------------


def test_a_new_price_is_one_tariff_set_event_on_the_tariff_stream() -> None:
    state = tariffs()
    cmd = TariffIn(tier=Tier.STUDENT, cents_per_hour=250, valid_from=date(2027, 1, 1))

    decision = decide_tariff(state, cmd, NOW)

    [append] = decision.appends
    assert append.events == (TariffSet(tier=Tier.STUDENT, cents_per_hour=250, valid_from=date(2027, 1, 1)),)
    assert (append.stream_id, append.expected_version, append.occurred_at) == ("tariffs", 3, NOW)
    assert decision.result == {"tier": "student", "valid_from": "2027-01-01", "version": 4}


@pytest.mark.parametrize(
    "valid_from",
    [date(2026, 11, 16), date(2026, 11, 15), date(2020, 1, 1)],
    ids=["same-day", "day-before", "years-before"],
)
def test_a_price_that_does_not_start_after_the_tiers_latest_is_refused(valid_from: date) -> None:
    state = tariffs(TariffIn(tier=Tier.STANDARD, cents_per_hour=600, valid_from=date(2026, 11, 16)))

    with pytest.raises(DomainError) as err:
        decide_tariff(state, TariffIn(tier=Tier.STANDARD, cents_per_hour=550, valid_from=valid_from), NOW)

    assert err.value.status == 409
    assert err.value.field == "valid_from"
    assert err.value.problem == ("the standard price already changes on 2026-11-16; a new price must start after it")


def test_the_latest_start_is_per_tier() -> None:
    state = tariffs(TariffIn(tier=Tier.STANDARD, cents_per_hour=600, valid_from=date(2026, 11, 16)))
    # the partner tier's latest start is still 2015-01-01
    decision = decide_tariff(state, TariffIn(tier=Tier.PARTNER, cents_per_hour=320, valid_from=date(2026, 11, 1)), NOW)
    assert decision.result["version"] == 5


# --- days an issued invoice priced are never repriced -----------------------------------------


@pytest.mark.parametrize(
    "valid_from",
    [date(2026, 3, 20), date(2026, 3, 31), date(2016, 1, 1)],
    ids=["within-the-invoiced-month", "the-invoiced-day-itself", "years-before"],
)
def test_a_price_from_a_day_an_issued_invoice_priced_is_refused_naming_the_invoice_and_the_day(
    valid_from: date,
) -> None:
    # March 2026 was invoiced at the old standard price; its last standard session was on the 31st.
    invoiced = PricedDay(day=date(2026, 3, 31), number="F-2026-00004")
    cmd = TariffIn(tier=Tier.STANDARD, cents_per_hour=600, valid_from=valid_from)

    with pytest.raises(DomainError) as err:
        decide_tariff(tariffs(), cmd, NOW, invoiced)

    assert (err.value.status, err.value.field) == (422, "valid_from")
    assert err.value.problem == (
        "invoice F-2026-00004 priced standard care on 2026-03-31 at the prices then valid; "
        "a new standard price must start after 2026-03-31 (or cancel the invoice first)"
    )


def test_a_price_from_the_day_after_the_last_invoiced_day_is_accepted() -> None:
    invoiced = PricedDay(day=date(2026, 3, 31), number="F-2026-00004")
    cmd = TariffIn(tier=Tier.STANDARD, cents_per_hour=600, valid_from=date(2026, 4, 1))

    decision = decide_tariff(tariffs(), cmd, NOW, invoiced)

    assert decision.result == {"tier": "standard", "valid_from": "2026-04-01", "version": 4}


def test_without_invoiced_days_only_the_latest_price_bounds_a_new_one() -> None:
    cmd = TariffIn(tier=Tier.STANDARD, cents_per_hour=600, valid_from=date(2026, 3, 20))
    assert decide_tariff(tariffs(), cmd, NOW, None).result["version"] == 4


def test_a_price_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValidationError):
        TariffIn(tier=Tier.STANDARD, cents_per_hour=500, valid_from=date(2026, 2, 1), valid_to=date(2026, 1, 31))
    one_day = TariffIn(tier=Tier.STANDARD, cents_per_hour=500, valid_from=date(2026, 2, 1), valid_to=date(2026, 2, 1))
    assert one_day.valid_to == date(2026, 2, 1)


# --- rounding and amounts -----------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "billed"), [(0, 0), (1, 15), (15, 15), (16, 30), (61, 75), (241, 255)])
def test_care_time_is_billed_in_started_quarter_hours(minutes: int, billed: int) -> None:
    assert Rounding().billed(minutes) == billed


@pytest.mark.parametrize(("minutes", "billed"), [(0, 0), (1, 30), (30, 30), (31, 60), (61, 90)])
def test_the_unit_is_configurable(minutes: int, billed: int) -> None:
    assert Rounding(unit_minutes=30).billed(minutes) == billed


def test_sessions_are_rounded_each_on_its_own() -> None:
    # 50 min -> 60 and 10 min -> 15: 75 billed, where the 60 minutes together would bill 60
    assert Rounding().total([50, 10]) == 75
    assert Rounding().total([]) == 0


def test_a_unit_of_one_minute_bills_the_minutes() -> None:
    assert Rounding(unit_minutes=1).billed(61) == 61


@pytest.mark.parametrize(
    ("minutes", "cents_per_hour", "cents"),
    [
        (75, 300, 375),  # 1.25 h x 3.00 = 3.75
        (20, 500, 167),  # 1/3 h x 5.00 = 1.6667
        (10, 200, 33),  # 1/6 h x 2.00 = 0.3333
        (45, 350, 263),  # 0.75 h x 3.50 = 2.625, half up
        (255, 500, 2125),  # 4.25 h x 5.00 = 21.25
        (0, 500, 0),
        (60, 0, 0),
    ],
)
def test_amounts_are_minutes_times_the_hourly_price_rounded_half_up_to_a_cent(
    minutes: int, cents_per_hour: int, cents: int
) -> None:
    assert amount_cents(minutes, cents_per_hour) == cents
