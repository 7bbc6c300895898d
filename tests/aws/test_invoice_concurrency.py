# Proves on moto with real threads: concurrent or re-run invoice runs bill each key once, F numbers 1..n, no gaps.
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from race import run_together

from notfall.app.execute import execute
from notfall.domain import invoice_events as ie
from notfall.domain import invoicing as inv
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, VersionConflict
from notfall.store.dynamodb import DynamoEventStore

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
ISSUE_DAY = date(2026, 12, 1)
SERIES = "F-2026"
FAMILIES = [f"fam-{n}" for n in range(1, 7)]
KEYS = [inv.family_key(f, "2026-11") for f in FAMILIES]
NUMBERS = [f"F-2026-{n:05d}" for n in range(1, 7)]
MAX_ATTEMPTS = 30
ADDRESS = ie.Address(name="Familie Kaya", street="Lister Meile 12", postcode="30161", city="Hannover")
ISSUER = ie.Issuer(
    address=ie.Address(
        name="Notfallbetreuung Region Hannover", street="Hildesheimer Str. 20", postcode="30169", city="Hannover"
    ),
    tax_number="25/123/45678",
    iban="DE02120300000000202051",
    bic="BYLADEM1001",
    bank="DKB",
    contact="Team Abrechnung",
    phone="+49 511 1234567",
)


def draft(family_id: str) -> inv.Draft:
    """November for one family, by hand: one session of 4 h at 5.00 EUR."""
    line = ie.Line(
        line_id="c1:s1",
        kind="care",
        description="Betreuung am 10.11.2026, 08:00–12:00 Uhr",
        service_date=date(2026, 11, 10),
        quantity=Decimal("4.00"),
        unit="HUR",
        unit_price_cents=500,
        amount_cents=2000,
        tier="standard",
        case_id="c1",
        ref="s1",
        cared_minutes=240,
        billed_minutes=240,
    )
    return inv.Draft(
        billing_key=inv.family_key(family_id, "2026-11"),
        series="F",
        debtor_id=family_id,
        debtor_kind="family",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        lines=[line],
    )


class Run:
    """One invoice run: issues each draft, retrying on a version conflict (reloading series
    and billing key); a key billed already is skipped."""

    def __init__(self, store: DynamoEventStore, name: str) -> None:
        self.store = store
        self.name = name
        self.conflicts = 0
        self.outcomes: dict[str, tuple[str, str]] = {}  # key -> ("issued", number) | ("skipped", why)

    def decide(self, d: inv.Draft):
        series = inv.fold_series(SERIES, self.store.load(inv.series_stream(SERIES)))
        billing = inv.fold_billing(d.billing_key, self.store.load(inv.billing_stream(d.billing_key)))
        debtor = ie.Debtor(debtor_id=d.debtor_id, kind=d.debtor_kind, address=ADDRESS)
        return inv.decide_issue(d, debtor, series, billing, ISSUER, ie.Vat(), ISSUE_DAY, NOW)

    def issue(self, d: inv.Draft) -> None:
        meta = Metadata(
            command_id=f"{self.name}:{d.billing_key}",
            actor=f"invoice-run-{self.name}",
            correlation_id=f"run-{self.name}",
        )
        for _ in range(MAX_ATTEMPTS):
            try:
                result = execute(self.store, meta, lambda: self.decide(d))
            except VersionConflict:
                self.conflicts += 1
                continue
            except DomainError as err:
                assert "is billed already by" in err.problem, err.problem
                self.outcomes[d.billing_key] = ("skipped", err.problem)
                return
            self.outcomes[d.billing_key] = ("issued", result["number"])
            return
        raise AssertionError(f"run {self.name} gave up on {d.billing_key}")

    def over(self, families: list[str]) -> Run:
        for family_id in families:
            self.issue(draft(family_id))
        return self

    @property
    def issued(self) -> dict[str, str]:
        return {key: number for key, (what, number) in self.outcomes.items() if what == "issued"}


def assert_billed_once_with_gapless_numbers(store: DynamoEventStore, aws) -> None:
    """Every key billed by exactly one invoice; F numbers exactly 1..6; the series stream at 1..6."""
    series = store.load(inv.series_stream(SERIES))
    assert [e.version for e in series] == [1, 2, 3, 4, 5, 6]
    assert [e.data.number for e in series] == NUMBERS
    billed: dict[str, str] = {}
    for key in KEYS:
        [assigned] = store.load(inv.billing_stream(key))
        assert (assigned.version, assigned.event_type) == (1, "BillingAssigned")
        billed[key] = assigned.data.number
    assert sorted(billed.values()) == NUMBERS  # no number twice, none missing
    invoices = sorted({i["stream_id"]["S"] for i in aws.event_items() if i["stream_id"]["S"].startswith("invoice-")})
    assert invoices == [f"invoice-{n}" for n in NUMBERS]
    for key, number in billed.items():
        [issued] = store.load(inv.invoice_stream(number))
        assert (issued.version, issued.data.number, issued.data.billing_key) == (1, number, key)
        assert issued.data.debtor.debtor_id == key.split(":")[1]
    positions = [int(i["position"]["N"]) for i in aws.event_items()]
    assert positions == list(range(1, aws.counter() + 1))  # the global log has no gap either


# --- two runs at once ---------------------------------------------------------------------------


@pytest.mark.parametrize("same_version", [True, False], ids=["both-decide-on-the-same-series", "free-race"])
def test_two_concurrent_runs_bill_every_key_once_with_numbers_1_to_6(aws, same_version: bool) -> None:
    store = aws.store()
    # run a goes through the families in order, run b backwards: they meet in the middle
    runs = [Run(store, "a"), Run(store, "b")]
    orders = [FAMILIES, FAMILIES[::-1]]
    # with same_version, each run's first write waits for the other's: both decide on series version 0
    outcomes = run_together(aws, 2, lambda i: runs[i].over(orders[i]), all_read_first=same_version)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == []

    a, b = runs
    # each run saw every key: it issued it, or found it billed by the other run
    assert set(a.outcomes) == set(b.outcomes) == set(KEYS)
    assert set(a.issued).isdisjoint(b.issued)
    assert set(a.issued) | set(b.issued) == set(KEYS)
    for run, other in ((a, b), (b, a)):
        for key, (what, why) in run.outcomes.items():
            if what == "skipped":
                assert why == f"{key} is billed already by {other.issued[key]}"
    assert sorted([*a.issued.values(), *b.issued.values()]) == NUMBERS
    if same_version:
        assert a.conflicts + b.conflicts >= 1  # the race really happened
    assert_billed_once_with_gapless_numbers(store, aws)


# --- a run that crashes, run again --------------------------------------------------------------


class Crash(Exception):
    pass


@pytest.mark.parametrize("same_command_ids", [False, True], ids=["new-run", "retried-run"])
def test_a_run_that_crashed_after_3_of_6_is_run_again_and_bills_each_key_once(aws, same_command_ids: bool) -> None:
    store = aws.store()
    writes = 0

    def lose_the_third_answer(**_: Any) -> None:
        # the third invoice's write lands, then the run dies before it hears so
        nonlocal writes
        writes += 1
        if writes == 3:
            raise Crash("the run died")

    first = Run(store, "nightly")
    aws.client.meta.events.register("after-call.dynamodb.TransactWriteItems", lose_the_third_answer)
    try:
        with pytest.raises(Crash):
            first.over(FAMILIES)
    finally:
        aws.client.meta.events.unregister("after-call.dynamodb.TransactWriteItems", lose_the_third_answer)
    assert first.issued == {KEYS[0]: NUMBERS[0], KEYS[1]: NUMBERS[1]}  # what the run knew before it died
    assert [e.version for e in store.load(inv.series_stream(SERIES))] == [1, 2, 3]  # what it really wrote

    rerun = Run(store, "nightly" if same_command_ids else "nightly-rerun").over(FAMILIES)

    if same_command_ids:
        # the same commands: the first three answer as the first time, with their numbers
        assert rerun.issued == dict(zip(KEYS, NUMBERS, strict=True))
    else:
        assert rerun.outcomes == {
            **{
                key: ("skipped", f"{key} is billed already by {n}")
                for key, n in zip(KEYS[:3], NUMBERS[:3], strict=True)
            },
            **{key: ("issued", n) for key, n in zip(KEYS[3:], NUMBERS[3:], strict=True)},
        }
    assert rerun.conflicts == 0
    assert_billed_once_with_gapless_numbers(store, aws)

    # a third run finds everything billed and writes nothing
    positions = aws.counter()
    third = Run(store, "third").over(FAMILIES)
    assert third.issued == {}
    assert aws.counter() == positions
