"""The history's invoice runs: on the first working day of a month the family and partner-monthly
runs bill the month before, in January the partner-yearly run the year before. The expected
invoices are worked out from the history's own cases, partners and addresses."""

from collections import defaultdict
from datetime import date, datetime

import pytest

from notfall.domain.case import fold_case
from notfall.domain.hours import BERLIN
from notfall.domain.partners import fold_partner
from notfall.history.generate import HistoryClock, first_working_day, log_digest, write_history
from notfall.history.plan import Totals
from notfall.store.base import iter_log
from notfall.store.memory import MemoryEventStore

# November 2019 to January 2020: the runs of 2 December (November) and 2 January (December, and
# the year 2019); January's run would be on 3 February, after the span.
SPAN = Totals(
    consultations=100,
    care_minutes=150 * 60,
    emergencies=40,
    transports=4,
    first_day=date(2019, 11, 1),
    last_day=date(2020, 1, 31),
)


def month_of(moment: datetime) -> str:
    return moment.astimezone(BERLIN).strftime("%Y-%m")


def written(seed: int) -> MemoryEventStore:
    clock = HistoryClock()
    store = MemoryEventStore(clock=clock)
    write_history(store, SPAN, seed=seed, clock=clock)
    return store


@pytest.fixture(scope="module")
def history() -> MemoryEventStore:
    return written(3)


def invoices(store: MemoryEventStore) -> list:
    return [env for env in iter_log(store) if env.event_type == "InvoiceIssued"]


def test_the_first_working_day_passes_over_weekends_and_holidays() -> None:
    assert first_working_day(2020, 1) == date(2020, 1, 2)  # New Year's Day
    assert first_working_day(2019, 12) == date(2019, 12, 2)  # the 1st is a Sunday
    assert first_working_day(2022, 1) == date(2022, 1, 3)  # Saturday the 1st


def test_each_billed_month_bills_every_family_with_care_and_an_address(history: MemoryEventStore) -> None:
    addressed = {
        env.stream_id.removeprefix("family-") for env in iter_log(history) if env.event_type == "FamilyBillingSet"
    }
    cared: dict[str, set[str]] = defaultdict(set)  # month -> families with care or a trip in it
    for stream in {env.stream_id for env in iter_log(history) if env.stream_id.startswith("case-")}:
        case = fold_case(history.load(stream))
        assert case is not None
        for session in case.live_sessions:
            cared[month_of(session.start)].add(case.family_id)
        for trip in case.transports:
            if trip.status != "cancelled":
                cared[month_of(trip.at)].add(case.family_id)
    billed: dict[str, set[str]] = defaultdict(set)
    for env in invoices(history):
        invoice = env.data
        if invoice.debtor.kind == "family":
            month = invoice.period_start.strftime("%Y-%m")
            billed[month].add(invoice.debtor.debtor_id)
            # Monday 2 December; 2 January, after New Year's Day.
            assert invoice.issue_date == {"2019-11": date(2019, 12, 2), "2019-12": date(2020, 1, 2)}[month]
    assert set(billed) == {"2019-11", "2019-12"}  # January is billed after the span
    for month in ("2019-11", "2019-12"):
        expected = cared[month] & addressed
        assert expected and cared[month] - addressed  # some families gave no address: not billed
        assert billed[month] == expected, month


def test_numbers_run_without_gaps_in_each_series(history: MemoryEventStore) -> None:
    numbers: dict[str, list[int]] = defaultdict(list)
    for env in invoices(history):
        numbers[env.data.series].append(int(env.data.number.rsplit("-", 1)[1]))
    assert len(numbers) >= 2  # a series a year
    for series, taken in numbers.items():
        assert taken == list(range(1, len(taken) + 1)), series


def test_partners_under_contract_pay_their_fees(history: MemoryEventStore) -> None:
    partners = [
        fold_partner(history.load(stream))
        for stream in sorted({env.stream_id for env in iter_log(history) if env.event_type == "PartnerRegistered"})
    ]
    monthly = {s.partner.partner_id for s in partners if s and any(c.fee_model == "monthly" for c in s.contracts)}
    # Under contract in 2019 (some join in January 2020) and not paying monthly.
    yearly = {s.partner.partner_id for s in partners if s and s.contracts[0].start.year <= 2019} - monthly
    fees: dict[str, dict[str, int]] = defaultdict(dict)
    for env in invoices(history):
        invoice = env.data
        if invoice.debtor.kind != "family":
            period = invoice.billing_key.rsplit(":", 1)[1]
            fees[period][invoice.debtor.debtor_id] = invoice.total_cents
    # The companies of the early years pay 100 EUR a month (no VAT: the service is exempt).
    assert fees["2019-11"] == fees["2019-12"] == dict.fromkeys(monthly, 10_000)
    # The year 2019: companies by headcount band, municipalities per child.
    assert set(fees["2019"]) == yearly and all(cents > 0 for cents in fees["2019"].values())


def test_the_same_seed_issues_the_same_invoices(history: MemoryEventStore) -> None:
    assert invoices(history)  # the digest covers the invoices, their numbers and ids
    assert log_digest(written(3)) == log_digest(history)


def test_a_span_that_ends_within_a_month_bills_none_of_it() -> None:
    fortnight = Totals(
        consultations=20,
        care_minutes=30 * 60,
        emergencies=8,
        transports=1,
        first_day=date(2019, 3, 4),
        last_day=date(2019, 3, 17),
    )
    clock = HistoryClock()
    store = MemoryEventStore(clock=clock)
    write_history(store, fortnight, seed=3, clock=clock)
    assert invoices(store) == []  # March is billed on 1 April, after the span
