# Proves on moto: no price is set back over days an issued invoice priced (a credit note releases them), and an
# invoice priced with a price table that changed before it was written is priced again with the new one.
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from notfall.app.invoicing import Invoicing
from notfall.app.tariffs import TariffRegister
from notfall.domain import care_events as ce
from notfall.domain import events as ev
from notfall.domain.case import case_stream
from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Metadata
from notfall.domain.errors import Rejected
from notfall.domain.families import FamilyBillingSet, family_stream
from notfall.domain.invoice_events import Address
from notfall.domain.invoicing import CancelIn
from notfall.domain.tariffs import TARIFF_STREAM, Rounding, TariffIn, Tier
from notfall.projection.projector import Projector
from notfall.settings import BillingSettings
from notfall.store.base import iter_log

BERLIN = ZoneInfo("Europe/Berlin")
RUN_AT = datetime(2026, 4, 2, 6, 0, tzinfo=UTC)  # the family run for March 2026, on 2 April
FAMILY = "fam-kaya"
_ids = count(1)


def meta() -> Metadata:
    n = next(_ids)
    return Metadata(command_id=f"cmd-{n}", actor="staff", correlation_id=f"corr-{n}")


def march_care(store) -> None:
    """A standard-rate family cared for on 20 March 08:00-12:00 (4 h) and 31 March 18:00-20:00 (2 h), Berlin."""
    first = datetime(2026, 3, 20, 8, 0, tzinfo=BERLIN)
    last = datetime(2026, 3, 31, 18, 0, tzinfo=BERLIN)
    need = ev.Need.model_validate(
        {
            "persons": [{"kind": "child", "age": 4}],
            "location": {"kind": "home"},
            "window": {"start": first.isoformat(), "expected_end": (last + timedelta(hours=2)).isoformat()},
            "reasons": ["childcare_closed"],
            "municipality": "hannover",
        }
    )
    events = [
        ev.CaseOpened(
            case_id="c1",
            family_id=FAMILY,
            channel="call",
            caller_number="+49 511 5550100",
            opened_at=first - timedelta(days=1),
        ),
        ev.NeedClarified(need=need),
        ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED),
        ev.EligibilityAssessed(entitled=True, tier="standard", basis="wohnhaft in Hannover", day=first.date()),
        ce.CaregiverAssigned(
            assignment_id="a1",
            caregiver_id="cg-anke",
            start=first,
            end=last + timedelta(hours=2),
            allowance_cents=1000,
            travel_cents_per_km=30,
        ),
    ]
    for session_id, start in (("s1", first), ("s2", last)):
        hours = 4 if session_id == "s1" else 2
        events.append(
            ce.SessionRecorded(
                session_id=session_id,
                assignment_id="a1",
                caregiver_id="cg-anke",
                start=start,
                end=start + timedelta(hours=hours),
                tier="standard",
                tier_basis="wohnhaft in Hannover",
                travel_km=Decimal(0),
            )
        )
    store.append(Decision((Append(case_stream("c1"), 0, tuple(events), first),), {}), meta())
    address = Address(name="Familie Kaya", street="Lister Meile 12", postcode="30161", city="Hannover")
    store.append(Decision((Append(family_stream(FAMILY), 0, (FamilyBillingSet(address=address),), first),), {}), meta())


def project(store, readmodel) -> None:
    projector = Projector(store, readmodel)
    for env in iter_log(store):
        projector.project(env.stream_id, env.version)


def invoicing(store, readmodel) -> Invoicing:
    settings = BillingSettings()
    return Invoicing(store, readmodel, None, settings.issuer(), settings.vat(), Rounding(15), clock=lambda: RUN_AT)


def standard(cents: int, valid_from: str) -> TariffIn:
    return TariffIn(tier=Tier.STANDARD, cents_per_hour=cents, valid_from=valid_from)


def test_a_price_over_invoiced_days_is_refused_until_a_credit_note_releases_them(aws) -> None:
    store, readmodel = aws.store(), aws.readmodel()
    tariffs = TariffRegister(store, readmodel, clock=lambda: RUN_AT)
    tariffs.publish_defaults()
    march_care(store)
    project(store, readmodel)
    run = invoicing(store, readmodel)

    # By hand: 4 h + 2 h = 6 h at 5.00 EUR = 30.00 EUR.
    assert run.run("family", "2026-03")["issued"] == [
        {"number": "F-2026-00001", "debtor_id": FAMILY, "total_cents": 3000}
    ]
    project(store, readmodel)

    # 20 March (the example) and 31 March (the last day the invoice priced) are refused, naming both.
    for day in ("2026-03-20", "2026-03-31"):
        with pytest.raises(Rejected) as refused:
            tariffs.set_tariff(standard(600, day), meta())
        assert refused.value.field == "valid_from"
        assert "invoice F-2026-00001 priced standard care on 2026-03-31" in refused.value.problem
    assert len(store.load(TARIFF_STREAM)) == 3  # nothing appended
    # Another tier has no invoiced days: its price may start in March.
    tariffs.set_tariff(TariffIn(tier=Tier.PARTNER, cents_per_hour=320, valid_from="2026-03-20"), meta())

    # A credit note releases March: the price from 20 March is accepted, and the next run bills it.
    assert run.cancel("F-2026-00001", CancelIn(reason="price change"), meta())["credit_note"] == "S-2026-00001"
    project(store, readmodel)
    assert tariffs.set_tariff(standard(600, "2026-03-20"), meta())["version"] == 5
    # By hand: 6 h at 6.00 EUR = 36.00 EUR.
    assert run.run("family", "2026-03")["issued"] == [
        {"number": "F-2026-00002", "debtor_id": FAMILY, "total_cents": 3600}
    ]
    project(store, readmodel)

    # The new invoice holds March in turn: a price from 25 March (after the tier's latest, 20 March) is refused.
    with pytest.raises(Rejected) as refused:
        tariffs.set_tariff(standard(650, "2026-03-25"), meta())
    assert "invoice F-2026-00002 priced standard care on 2026-03-31" in refused.value.problem
    assert tariffs.set_tariff(standard(650, "2026-04-01"), meta())["version"] == 6


def test_a_price_command_costs_four_requests(aws, count_requests) -> None:
    store = aws.store()
    tariffs = TariffRegister(store, aws.readmodel(), clock=lambda: RUN_AT)
    tariffs.publish_defaults()
    with count_requests(aws.client) as calls:
        tariffs.set_tariff(standard(600, "2027-01-01"), meta())
    # load the tariffs stream; the tier's last invoiced day (one row); read the counter; one transaction
    assert dict(calls) == {"Query": 2, "GetItem": 1, "TransactWriteItems": 1}


class PriceChangeFirst:
    """The event store, but a price change lands just before the first invoice is written: the
    run drafted with the table before it."""

    def __init__(self, store, tariffs: TariffRegister) -> None:
        self.store, self.tariffs, self.changed = store, tariffs, False

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    def append(self, decision: Decision, meta: Metadata):
        if not self.changed and any(a.stream_id.startswith("invoice-") for a in decision.appends):
            self.changed = True
            self.tariffs.set_tariff(
                standard(600, "2026-03-25"),
                Metadata(command_id="price-change", actor="staff", correlation_id="price-change"),
            )
        return self.store.append(decision, meta)


def test_an_invoice_priced_with_a_superseded_price_table_is_priced_again(aws) -> None:
    store, readmodel = aws.store(), aws.readmodel()
    tariffs = TariffRegister(store, readmodel, clock=lambda: RUN_AT)
    tariffs.publish_defaults()
    march_care(store)
    project(store, readmodel)

    report = invoicing(PriceChangeFirst(store, tariffs), readmodel).run("family", "2026-03")

    # By hand: 20 March 4 h at 5.00 = 20.00 EUR; 31 March 2 h at the new 6.00 = 12.00 EUR; 32.00 EUR.
    assert report["issued"] == [{"number": "F-2026-00001", "debtor_id": FAMILY, "total_cents": 3200}]
    assert [e.data.number for e in store.load("series-F-2026")] == ["F-2026-00001"]  # no number lost
