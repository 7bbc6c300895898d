# The invoice use cases on the in-memory store and read model: runs, reruns, crashes, races,
# refusals, credit notes, payments, documents, eligibility.
"""App-layer tests of invoicing (`notfall.app.invoicing` and friends).

Cases are written to the store as events (what intake and care work would have appended),
then projected as the stream Lambda would; the runs read the read model only to find whom
to bill and decide from the streams. Documents go to an in-memory stand-in of the write-once
S3 store; they are rendered by the real PDF and CII renderers.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from domain_builders import berlin, need

from notfall.app.eligibility import assessor, load_partners
from notfall.app.families import Families
from notfall.app.intake import Intake
from notfall.app.invoicing import Invoicing, document_keys
from notfall.app.partners import Partners
from notfall.app.tariffs import TariffRegister
from notfall.documents.amounts import rate_basis
from notfall.documents.storage import Stored
from notfall.domain import care_events as ce
from notfall.domain import events as ev
from notfall.domain.case import case_stream, fold_case
from notfall.domain.commands import OutcomeIn
from notfall.domain.decision import Append, Decision
from notfall.domain.eligibility import EligibilityRules
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, NotFound, Rejected, VersionConflict
from notfall.domain.fees import DEFAULT_HEADCOUNT_BANDS, HeadcountBand
from notfall.domain.invoice_events import Address, Issuer, Vat
from notfall.domain.invoicing import CancelIn, PaymentIn, fold_invoice, invoice_stream
from notfall.domain.partners import BillingIn, ContractIn, ContractSigned, PartnerIn, partner_stream
from notfall.domain.tariffs import PricedDay, Rounding, TariffIn, Tier
from notfall.projection.projector import Projector
from notfall.projection.readmodel import MemoryReadModel
from notfall.projection.replay_check import compare
from notfall.settings import BillingSettings, EligibilitySettings
from notfall.store.base import iter_log
from notfall.store.memory import MemoryEventStore

NOW = berlin(2026, 12, 2, 8, 0)  # the run for November, on the 2nd of December
_ids = count(1)


def meta(actor: str = "staff-test") -> Metadata:
    n = next(_ids)
    return Metadata(command_id=f"cmd-{n}", actor=actor, correlation_id=f"corr-{n}")


def address(name: str, city: str = "Hannover") -> Address:
    return Address(name=name, street="Lister Meile 12", postcode="30161", city=city, email=None)


class Docs:
    """The write-once document store, in memory: a key is written once, later puts keep it."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str, date]] = {}
        self.puts = 0

    def put_once(self, key: str, body: bytes, content_type: str, *, issue_date: date) -> Stored:
        self.puts += 1
        created = key not in self.objects
        self.objects.setdefault(key, (body, content_type, issue_date))
        return Stored("v1", created)

    def url(self, key: str, expires: int = 300) -> str:
        return f"https://documents.example/{key}?expires={expires}"


class World:
    """A store, a read model kept in sync by the projector, and the use cases on them."""

    def __init__(self, vat: Vat | None = None) -> None:
        self.store = MemoryEventStore()
        self.readmodel = MemoryReadModel()
        self.docs = Docs()
        self.clock = lambda: NOW
        settings = BillingSettings()
        self.issuer: Issuer = settings.issuer()
        self.vat = vat or settings.vat()
        self.partners = Partners(self.store)
        self.families = Families(self.store)
        self.tariffs = TariffRegister(self.store, self.readmodel)
        self.invoicing = self.make_invoicing(self.store)

    def make_invoicing(self, store: Any) -> Invoicing:
        return Invoicing(store, self.readmodel, self.docs, self.issuer, self.vat, Rounding(15), self.clock)

    def sync(self) -> None:
        projector = Projector(self.store, self.readmodel)
        for env in iter_log(self.store):
            projector.project(env.stream_id, env.version)

    def run(self, kind: str = "family", period: str = "2026-11", invoicing: Invoicing | None = None) -> dict:
        self.sync()
        report = (invoicing or self.invoicing).run(kind, period)
        self.sync()
        return report

    def row(self, pk: str, sk: str = "state") -> dict[str, Any]:
        row = self.readmodel.get(pk, sk)
        assert row is not None, (pk, sk)
        return row

    # --- setting the scene --------------------------------------------------------------

    def append(self, stream_id: str, version: int, *events: ev.Event, at: datetime = NOW) -> None:
        self.store.append(Decision((Append(stream_id, version, events, at),), {}), meta("setup"))

    def emergency(
        self,
        case_id: str,
        family_id: str,
        sessions: list[tuple[datetime, datetime | None]] = (),
        transports: list[datetime] = (),
        tier: str | None = "standard",
        basis: str = "wohnhaft in Hannover",
        **need_changes: Any,
    ) -> None:
        """A case as intake and care work leave it: the need, the tier, a caregiver, the care
        (sessions stamped with the case's tier, as care work did before invoices assessed
        each session's day)."""
        first = sessions[0][0] if sessions else (transports[0] if transports else berlin(2026, 11, 10, 8, 0))
        events: list[ev.Event] = [
            ev.CaseOpened(
                case_id=case_id,
                family_id=family_id,
                channel="call",
                caller_number="+49 511 5550100",
                opened_at=first - timedelta(days=1),
            ),
            ev.NeedClarified(
                need=need(
                    window={"start": first.isoformat(), "expected_end": (first + timedelta(hours=6)).isoformat()},
                    **{"municipality": "hannover", **need_changes},
                )
            ),
            ev.OutcomeRecorded(outcome=ev.Outcome.CARE_NEED),
        ]
        if tier is not None:
            events.append(ev.EligibilityAssessed(entitled=True, tier=tier, basis=basis, day=first.date()))
        events.append(
            ce.CaregiverAssigned(
                assignment_id=f"{case_id}-a1",
                caregiver_id="cg-anke",
                start=first,
                end=first + timedelta(days=20),
                allowance_cents=1000,
                travel_cents_per_km=30,
            )
        )
        for i, (start, end) in enumerate(sessions, start=1):
            if end is None:
                events.append(
                    ce.SessionStarted(
                        session_id=f"{case_id}-s{i}",
                        assignment_id=f"{case_id}-a1",
                        caregiver_id="cg-anke",
                        at=start,
                        tier=tier,
                        tier_basis=basis,
                    )
                )
            else:
                events.append(
                    ce.SessionRecorded(
                        session_id=f"{case_id}-s{i}",
                        assignment_id=f"{case_id}-a1",
                        caregiver_id="cg-anke",
                        start=start,
                        end=end,
                        tier=tier,
                        tier_basis=basis if tier else None,
                        travel_km=Decimal(0),
                    )
                )
        for i, at in enumerate(transports, start=1):
            events += [
                ce.TransportBooked(
                    transport_id=f"{case_id}-t{i}",
                    from_place="Kita Sonnenschein",
                    to_place="home",
                    at=at,
                    persons=1,
                    price_cents=800,
                ),
                ce.TransportDone(transport_id=f"{case_id}-t{i}", at=at + timedelta(minutes=30), km=Decimal(4)),
            ]
        self.append(case_stream(case_id), 0, *events, at=first)

    def company(self, partner_id: str, *contracts: ContractIn, billing: bool = True, employees: int = 120) -> None:
        self.partners.register(
            PartnerIn(
                partner_id=partner_id,
                kind="company",
                name=partner_id.title(),
                municipality="hannover",
                joined_on=date(2025, 1, 1),
                employees=employees,
            ),
            meta(),
        )
        for contract in contracts:
            self.partners.contract(partner_id, contract, meta())
        if billing:
            self.partners.billing(
                partner_id,
                BillingIn(address=address(f"{partner_id.title()} GmbH"), buyer_reference=f"PO-{partner_id}"),
                meta(),
            )

    def municipality(
        self, partner_id: str, *contracts: ContractIn, counts: dict[int, int] | None = None, billing: bool = True
    ) -> None:
        self.partners.register(
            PartnerIn(
                partner_id=partner_id,
                kind="municipality",
                name=partner_id.title(),
                municipality=partner_id,
                joined_on=date(2025, 1, 1),
                inhabitants=30_000,
                children_under_10=2_400,
            ),
            meta(),
        )
        for contract in contracts:
            self.partners.contract(partner_id, contract, meta())
        for year, n in (counts or {}).items():
            self.partners.child_count(partner_id, year, n, meta())
        if billing:
            self.partners.billing(
                partner_id,
                BillingIn(address=address(f"Stadt {partner_id.title()}"), buyer_reference="03241-12345-67"),
                meta(),
            )


def monthly(
    contract_id: str = "rv-1", start: date = date(2026, 1, 1), end: date | None = None, fee: int = 15_000
) -> ContractIn:
    return ContractIn(contract_id=contract_id, fee_model="monthly", start=start, end=end, monthly_fee_cents=fee)


def per_child(contract_id: str = "rv-1", start: date = date(2025, 1, 1)) -> ContractIn:
    return ContractIn(contract_id=contract_id, fee_model="per_child", start=start)


def band(contract_id: str = "rv-y", start: date = date(2025, 1, 1), employees: int = 120) -> ContractIn:
    return ContractIn(contract_id=contract_id, fee_model="yearly_band", start=start, employees_covered=employees)


@pytest.fixture
def world() -> World:
    """November 2026: the Brenners (two cases, care and a trip home from the Kita), the
    Yilmaz family (a partner-tier evening: a parent works at Acme, a partner company), the
    Kowalskis (only December care) and the Petersens (a trip, no address yet)."""
    w = World()
    w.tariffs.publish_defaults(meta("system"))
    w.company("acme", monthly())
    w.emergency(
        "c-brenner-1",
        "fam-brenner",
        sessions=[
            (berlin(2026, 11, 3, 7, 0), berlin(2026, 11, 3, 9, 10)),
            (berlin(2026, 11, 4, 7, 0), berlin(2026, 11, 4, 8, 0)),
        ],
        transports=[berlin(2026, 11, 3, 15, 0)],
    )
    w.emergency("c-brenner-2", "fam-brenner", sessions=[(berlin(2026, 11, 20, 17, 0), berlin(2026, 11, 20, 18, 1))])
    w.emergency(
        "c-yilmaz",
        "fam-yilmaz",
        sessions=[(berlin(2026, 11, 30, 22, 0), berlin(2026, 12, 1, 1, 0))],
        tier="partner",
        basis="beschäftigt bei Partner Acme (Rahmenvertrag rv-1)",
        employer="acme",
    )
    w.emergency("c-kowalski", "fam-kowalski", sessions=[(berlin(2026, 12, 1, 9, 0), berlin(2026, 12, 1, 11, 0))])
    w.emergency("c-petersen", "fam-petersen", transports=[berlin(2026, 11, 12, 16, 0)])
    for family in ("fam-brenner", "fam-yilmaz", "fam-kowalski"):
        w.families.billing(family, address(f"Familie {family[4:].title()}"), meta())
    return w


def numbers(report: dict) -> list[str]:
    return [i["number"] for i in report["issued"]]


def all_invoices(w: World) -> list[str]:
    return sorted(
        e.stream_id.removeprefix("invoice-")
        for e in iter_log(w.store)
        if e.stream_id.startswith("invoice-") and e.version == 1
    )


# --- the days invoices priced, which no new price may start on or before -----------------


def test_the_invoice_rows_keep_the_last_day_each_live_invoice_priced_per_tier(world: World) -> None:
    world.run()
    # the Brenners' standard care up to 20 November, the Yilmaz evening (partner) on 30 November
    assert world.readmodel.query("priced#standard") == [
        {
            "pk": "priced#standard",
            "sk": "2026-11-20#F-2026-00001",
            "tier": "standard",
            "day": "2026-11-20",
            "number": "F-2026-00001",
        }
    ]
    assert world.tariffs.invoiced(Tier.PARTNER) == PricedDay(date(2026, 11, 30), "F-2026-00002")

    world.invoicing.cancel("F-2026-00001", CancelIn(reason="wrong tier"), meta())
    world.sync()
    # the credit note releases the days and prices nothing itself
    assert world.readmodel.query("priced#standard") == [] and world.tariffs.invoiced(Tier.STANDARD) is None
    assert world.tariffs.invoiced(Tier.PARTNER) == PricedDay(date(2026, 11, 30), "F-2026-00002")


# --- the family run ---------------------------------------------------------------------


def test_family_run_bills_each_family_once_for_the_month(world: World) -> None:
    report = world.run()
    assert report["issue_date"] == "2026-12-02"
    assert report["issued"] == [
        # 130 min -> 135 billed = 11.25; 60 min = 5.00; trip 8.00; 61 min -> 75 billed = 6.25
        {"number": "F-2026-00001", "debtor_id": "fam-brenner", "total_cents": 1125 + 500 + 800 + 625},
        # 22:00-01:00 over the month's end bills in November, the day it started: 3 h at 3.00
        {"number": "F-2026-00002", "debtor_id": "fam-yilmaz", "total_cents": 900},
    ]
    assert report["refused"] == [
        {
            "billing_key": "family:fam-petersen:2026-11",
            "debtor_id": "fam-petersen",
            "reason": "no billing address for family fam-petersen",
        }
    ]
    assert report["already_billed"] == [] and report["nothing_to_bill"] == 0  # the Kowalskis have no row in Nov
    assert (report["documents_stored"], report["documents_already_stored"]) == (2, 0)  # a PDF each; no XML for families
    assert report["document_errors"] == []

    invoice = fold_invoice(world.store.load(invoice_stream("F-2026-00001")))
    assert invoice is not None
    lines = invoice.invoice.lines
    assert [(line.kind, line.case_id, line.billed_minutes, line.amount_cents) for line in lines] == [
        ("care", "c-brenner-1", 135, 1125),
        ("care", "c-brenner-1", 60, 500),
        ("transport", "c-brenner-1", None, 800),
        ("care", "c-brenner-2", 75, 625),
    ]
    assert invoice.invoice.debtor.address.name == "Familie Brenner"
    assert invoice.invoice.due_date == date(2026, 12, 16)

    pdf_key, xml_key = document_keys("F-2026-00001", date(2026, 12, 2))
    body, content_type, issued_on = world.docs.objects[pdf_key]
    assert body.startswith(b"%PDF") and content_type == "application/pdf" and issued_on == date(2026, 12, 2)
    assert xml_key not in world.docs.objects


def test_the_read_model_lists_invoices_per_debtor_and_month(world: World) -> None:
    world.run()
    state = world.row("invoice#F-2026-00001")
    assert state["status"] == "open" and state["open_cents"] == 3050 and state["paid_cents"] == 0
    assert state["invoice"]["billing_key"] == "family:fam-brenner:2026-11" and state["payments"] == []
    listed = world.row("debtor#fam-brenner", "invoice#F-2026-00001")
    assert {
        k: listed[k] for k in ("number", "kind", "issue_date", "period", "total_cents", "open_cents", "status")
    } == {
        "number": "F-2026-00001",
        "kind": "invoice",
        "issue_date": "2026-12-02",
        "period": "2026-11",
        "total_cents": 3050,
        "open_cents": 3050,
        "status": "open",
    }
    assert [r["number"] for r in world.invoicing.issued_in("2026-12")] == ["F-2026-00001", "F-2026-00002"]
    assert [r["number"] for r in world.invoicing.of_debtor("fam-yilmaz")] == ["F-2026-00002"]
    assert world.invoicing.invoice("F-2026-00002")["open_cents"] == 900
    with pytest.raises(NotFound):
        world.invoicing.invoice("F-2026-00099")
    # the billing address is projected too
    assert world.row("family-billing#fam-brenner")["address"]["name"] == "Familie Brenner"
    # and a rebuild from the log equals the live read model
    assert compare(world.store, world.readmodel)["differing"] == []


def test_a_second_run_issues_nothing(world: World) -> None:
    first = world.run()
    events = len(list(iter_log(world.store)))
    second = world.run()
    assert second["issued"] == [] and second["refused"] == first["refused"]
    assert second["already_billed"] == ["family:fam-brenner:2026-11", "family:fam-yilmaz:2026-11"]
    assert len(list(iter_log(world.store))) == events
    assert len(world.docs.objects) == 2  # handed over again, written once


class CrashAfter:
    """The store of a run that dies right after its n-th invoice was appended."""

    def __init__(self, inner: MemoryEventStore, issues: int) -> None:
        self.inner, self.left = inner, issues

    def load(self, stream_id: str):
        return self.inner.load(stream_id)

    def command_result(self, command_id: str):
        return self.inner.command_result(command_id)

    def read_all(self, after: int = 0, limit: int = 500):
        return self.inner.read_all(after, limit)

    def append(self, decision: Decision, meta: Metadata):
        result = self.inner.append(decision, meta)
        if meta.command_id.startswith("invoice:"):
            self.left -= 1
            if self.left == 0:
                raise TimeoutError("Lambda timed out")
        return result


def test_a_crashed_run_is_completed_by_the_rerun_without_gaps(world: World) -> None:
    world.families.billing("fam-petersen", address("Familie Petersen"), meta())
    world.sync()
    with pytest.raises(TimeoutError):
        world.invoicing.__class__(
            CrashAfter(world.store, 2), world.readmodel, world.docs, world.issuer, world.vat, Rounding(15), world.clock
        ).run("family", "2026-11")
    assert all_invoices(world) == ["F-2026-00001", "F-2026-00002"]
    assert len(world.docs.objects) == 1  # the second invoice's PDF was never stored

    rerun = world.run()
    assert rerun["already_billed"] == ["family:fam-brenner:2026-11", "family:fam-petersen:2026-11"]
    assert numbers(rerun) == ["F-2026-00003"] and rerun["issued"][0]["debtor_id"] == "fam-yilmaz"
    assert all_invoices(world) == ["F-2026-00001", "F-2026-00002", "F-2026-00003"]
    assert len(world.docs.objects) == 3  # the crashed run's documents are completed
    keys = [fold_invoice(world.store.load(invoice_stream(n))).invoice.billing_key for n in all_invoices(world)]
    assert len(set(keys)) == 3


class RaceBefore:
    """A store on which another run gets in just before this run's first invoice append."""

    def __init__(self, inner: MemoryEventStore, other) -> None:
        self.inner, self.other = inner, other

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def append(self, decision: Decision, meta: Metadata):
        if self.other is not None and meta.command_id.startswith("invoice:"):
            other, self.other = self.other, None
            other()
        return self.inner.append(decision, meta)


def test_a_concurrent_run_of_the_same_month_bills_nothing_twice(world: World) -> None:
    world.sync()
    other: dict = {}
    racing = world.make_invoicing(
        RaceBefore(world.store, lambda: other.update(world.invoicing.run("family", "2026-11")))
    )
    mine = racing.run("family", "2026-11")
    assert numbers(other) == ["F-2026-00001", "F-2026-00002"]
    assert mine["issued"] == []
    assert mine["already_billed"] == ["family:fam-brenner:2026-11", "family:fam-yilmaz:2026-11"]
    assert all_invoices(world) == ["F-2026-00001", "F-2026-00002"]


def test_a_run_that_loses_the_number_takes_the_next(world: World) -> None:
    world.emergency("c-brenner-oct", "fam-brenner", sessions=[(berlin(2026, 10, 14, 8, 0), berlin(2026, 10, 14, 9, 0))])
    world.sync()
    october: dict = {}
    racing = world.make_invoicing(
        RaceBefore(world.store, lambda: october.update(world.invoicing.run("family", "2026-10")))
    )
    november = racing.run("family", "2026-11")
    assert numbers(october) == ["F-2026-00001"]  # the same series: numbered by the year of issue
    assert numbers(november) == ["F-2026-00002", "F-2026-00003"]
    assert all_invoices(world) == ["F-2026-00001", "F-2026-00002", "F-2026-00003"]


# --- refusals ---------------------------------------------------------------------------


def test_refusals_name_what_is_missing() -> None:
    w = World()
    # the standard price only from 15 November: care on the 10th has no tariff
    w.tariffs.set_tariff(TariffIn(tier=Tier.STANDARD, cents_per_hour=500, valid_from=date(2026, 11, 15)), meta())
    w.emergency("c-early", "fam-early", sessions=[(berlin(2026, 11, 10, 8, 0), berlin(2026, 11, 10, 9, 0))])
    w.emergency("c-open", "fam-open", sessions=[(berlin(2026, 11, 30, 20, 0), None)])
    w.emergency("c-fine", "fam-fine", sessions=[(berlin(2026, 11, 20, 8, 0), berlin(2026, 11, 20, 9, 0))])
    for family in ("fam-early", "fam-open", "fam-fine"):
        w.families.billing(family, address("Familie X"), meta())
    report = w.run()
    assert numbers(report) == ["F-2026-00001"] and report["issued"][0]["debtor_id"] == "fam-fine"
    reasons = {r["debtor_id"]: r["reason"] for r in report["refused"]}
    assert reasons["fam-early"] == "no standard tariff is valid on 2026-11-10 (session c-early-s1 of case c-early)"
    assert reasons["fam-open"] == "session c-open-s1 of case c-open on 2026-11-30 is still checked in"
    # a refused family is billed by a later run once the log is complete
    w.tariffs.set_tariff(TariffIn(tier=Tier.PARTNER, cents_per_hour=300, valid_from=date(2026, 1, 1)), meta())
    assert {r["debtor_id"] for r in w.run()["refused"]} == {"fam-early", "fam-open"}


def test_runs_bill_only_ended_periods_of_well_formed_kinds(world: World) -> None:
    with pytest.raises(Rejected, match="has not ended yet"):
        world.invoicing.run("family", "2026-12")
    with pytest.raises(Rejected, match="has not ended yet"):
        world.invoicing.run("partner-yearly", "2026")
    with pytest.raises(Rejected):
        world.invoicing.run("family", "2026-13")
    with pytest.raises(Rejected):
        world.invoicing.run("partner-yearly", "2026-11")
    with pytest.raises(Rejected):
        world.invoicing.run("weekly", "2026-11")


@pytest.mark.parametrize(
    ("kind", "period"), [("partner-yearly", "0000"), ("family", "0000-01"), ("partner-monthly", "1999-12")]
)
def test_a_run_of_a_year_outside_the_services_years_is_refused_not_a_crash(
    world: World, kind: str, period: str
) -> None:
    with pytest.raises(Rejected, match="2000 to 2100") as refused:
        world.invoicing.run(kind, period)
    assert refused.value.field == "period"


# --- partners ---------------------------------------------------------------------------


def test_partner_monthly_run_bills_companies_with_their_flat_fee() -> None:
    w = World()
    w.company("acme", monthly(fee=15_000))
    w.company("bolt", monthly(start=date(2026, 11, 16), fee=30_000))  # joined half way: 15 of 30 days
    w.company("cura", monthly(), billing=False)
    w.company("dorn", band())  # yearly: nothing in a monthly run
    w.municipality("laatzen", per_child(), counts={2026: 2_000})
    report = w.run("partner-monthly", "2026-11")
    assert report["issued"] == [
        {"number": "P-2026-00001", "debtor_id": "acme", "total_cents": 15_000},
        {"number": "P-2026-00002", "debtor_id": "bolt", "total_cents": 15_000},
    ]
    assert report["refused"] == [
        {"billing_key": "partner:cura:2026-11", "debtor_id": "cura", "reason": "no billing details for partner cura"}
    ]
    assert report["nothing_to_bill"] == 2
    assert (report["documents_stored"], report["documents_already_stored"]) == (4, 0)  # PDF and XML per company
    issued = fold_invoice(w.store.load(invoice_stream("P-2026-00002"))).invoice
    assert issued.debtor.kind == "company" and issued.debtor.buyer_reference == "PO-bolt"
    assert "anteilig 15 von 30 Tagen" in issued.lines[0].description
    _, xml_key = document_keys("P-2026-00001", date(2026, 12, 2))
    xml, content_type, _ = w.docs.objects[xml_key]
    assert content_type == "application/xml" and b"P-2026-00001" in xml
    assert w.run("partner-monthly", "2026-11")["already_billed"] == ["partner:acme:2026-11", "partner:bolt:2026-11"]


def test_partner_yearly_run_bills_bands_and_children() -> None:
    w = World()
    w.clock = lambda: berlin(2027, 1, 5, 9, 0)
    w.invoicing = w.make_invoicing(w.store)
    w.company("acme", band(employees=120))  # band up to 249 employees: 480 EUR
    w.municipality("laatzen", per_child(), counts={2026: 2_000})
    w.municipality("seelze", per_child())  # no count for 2026
    w.municipality("sehnde", per_child(start=date(2026, 7, 1)), counts={2026: 730})  # half a year
    report = w.run("partner-yearly", "2026")
    assert report["issued"] == [
        {"number": "P-2027-00001", "debtor_id": "acme", "total_cents": 48_000},
        {"number": "P-2027-00002", "debtor_id": "laatzen", "total_cents": 200_000},
        {"number": "P-2027-00003", "debtor_id": "sehnde", "total_cents": 36_800},
    ]
    assert report["refused"] == [
        {
            "billing_key": "partner:seelze:2026",
            "debtor_id": "seelze",
            "reason": "no count of children up to age 10 for 2026",
        }
    ]
    laatzen = fold_invoice(w.store.load(invoice_stream("P-2027-00002"))).invoice
    assert laatzen.debtor.kind == "municipality" and laatzen.debtor.buyer_reference == "03241-12345-67"


def test_overlapping_contracts_cannot_be_signed_and_an_inconsistent_log_is_refused() -> None:
    w = World()
    w.company("acme", monthly("rv-1"))
    with pytest.raises(DomainError, match="overlaps contract rv-1"):
        w.partners.contract("acme", monthly("rv-2", start=date(2026, 6, 1)), meta())
    # a log written by something else (an import, an old bug) may hold both: the run refuses
    state = w.partners.load("acme")
    w.append(partner_stream("acme"), state.version, ContractSigned(contract=monthly("rv-2", start=date(2026, 6, 1))))
    report = w.run("partner-monthly", "2026-11")
    assert report["issued"] == []
    assert report["refused"] == [
        {"billing_key": "partner:acme:2026-11", "debtor_id": "acme", "reason": "contracts rv-1 and rv-2 overlap"}
    ]


def test_partner_use_cases_keep_contracts_counts_and_billing_on_the_stream() -> None:
    w = World()
    w.municipality("laatzen", per_child(), counts={2025: 1_900}, billing=False)
    w.partners.end_contract("laatzen", "rv-1", date(2026, 12, 31), meta())
    w.partners.child_count("laatzen", 2026, 2_000, meta())
    with pytest.raises(DomainError, match="reported already"):
        w.partners.child_count("laatzen", 2026, 2_100, meta())
    w.partners.billing(
        "laatzen", BillingIn(address=address("Stadt Laatzen", "Laatzen"), buyer_reference="03241-12345-67"), meta()
    )
    with pytest.raises(NotFound):
        w.partners.end_contract("laatzen", "rv-9", date(2026, 12, 31), meta())
    w.sync()
    listed = w.readmodel.get("partners", "municipality#laatzen")
    assert listed["name"] == "Laatzen" and listed["partner_id"] == "laatzen"  # the registered fields stay
    assert listed["state"]["contracts"][0]["end"] == "2026-12-31"
    assert listed["state"]["child_counts"] == {"2025": 1900, "2026": 2000}
    assert w.row("partner#laatzen")["state"]["billing"]["buyer_reference"] == "03241-12345-67"
    [partner] = load_partners(w.readmodel)
    assert partner.child_counts == {2025: 1900, 2026: 2000} and partner.billing is not None


# --- credit notes, payments, documents ----------------------------------------------------


def test_a_credit_note_cancels_and_the_next_run_bills_the_month_again(world: World) -> None:
    world.run()
    world.clock = lambda: berlin(2026, 12, 9, 10, 0)  # a week later
    world.invoicing = world.make_invoicing(world.store)
    answer = world.invoicing.cancel("F-2026-00001", CancelIn(reason="second session was a test entry"), meta())
    assert answer == {
        "number": "F-2026-00001",
        "credit_note": "S-2026-00001",
        "total_cents": -3050,
        "documents": "stored",
    }
    credit = fold_invoice(world.store.load(invoice_stream("S-2026-00001"))).invoice
    assert credit.kind == "credit_note" and credit.cancels == "F-2026-00001" and credit.issue_date == date(2026, 12, 9)
    assert document_keys("S-2026-00001", credit.issue_date)[0] in world.docs.objects
    with pytest.raises(DomainError, match="cancelled already"):
        world.invoicing.cancel("F-2026-00001", CancelIn(reason="again"), meta())
    with pytest.raises(DomainError, match="credit note is not cancelled"):
        world.invoicing.cancel("S-2026-00001", CancelIn(reason="no"), meta())
    with pytest.raises(NotFound):
        world.invoicing.cancel("F-2026-00042", CancelIn(reason="no"), meta())

    rerun = world.run()
    assert rerun["issued"] == [{"number": "F-2026-00003", "debtor_id": "fam-brenner", "total_cents": 3050}]
    assert rerun["already_billed"] == ["family:fam-yilmaz:2026-11"]
    assert world.row("invoice#F-2026-00001")["status"] == "cancelled"
    assert world.row("invoice#F-2026-00001")["cancelled_by"] == "S-2026-00001"
    assert [(r["number"], r["status"], r["open_cents"]) for r in world.invoicing.of_debtor("fam-brenner")] == [
        ("F-2026-00001", "cancelled", 0),
        ("F-2026-00003", "open", 3050),
        ("S-2026-00001", "credit_note", 0),
    ]


def test_a_retried_cancellation_answers_as_the_first_time(world: World) -> None:
    world.run()
    once = meta()
    first = world.invoicing.cancel("F-2026-00002", CancelIn(reason="wrong family"), once)
    assert world.invoicing.cancel("F-2026-00002", CancelIn(reason="wrong family"), once) == first
    assert [n for n in all_invoices(world) if n.startswith("S-")] == ["S-2026-00001"]


def test_payments_reduce_the_open_amount_until_paid(world: World) -> None:
    world.run()
    left = world.invoicing.pay(
        "F-2026-00001", PaymentIn(amount_cents=1000, paid_on=date(2026, 12, 10), reference="F-2026-00001"), meta()
    )
    assert left["open_cents"] == 2050
    with pytest.raises(DomainError, match="exceeds the open amount"):
        world.invoicing.pay("F-2026-00001", PaymentIn(amount_cents=2051, paid_on=date(2026, 12, 11)), meta())
    world.sync()
    assert world.row("debtor#fam-brenner", "invoice#F-2026-00001")["status"] == "open"
    assert world.row("invoice#F-2026-00001")["paid_cents"] == 1000
    world.invoicing.pay("F-2026-00001", PaymentIn(amount_cents=2050, paid_on=date(2026, 12, 11)), meta())
    world.sync()
    row = world.row("invoice#F-2026-00001")
    assert (row["status"], row["open_cents"], len(row["payments"])) == ("paid", 0, 2)
    assert world.row("invoices#2026-12", "F-2026-00001")["status"] == "paid"
    # a paid invoice is not cancelled without a refund; a cancelled one takes no payment
    with pytest.raises(DomainError, match="has payments"):
        world.invoicing.cancel("F-2026-00001", CancelIn(reason="no"), meta())
    world.invoicing.cancel("F-2026-00002", CancelIn(reason="wrong tier"), meta())
    with pytest.raises(DomainError, match="open invoices only"):
        world.invoicing.pay("F-2026-00002", PaymentIn(amount_cents=1, paid_on=date(2026, 12, 11)), meta())
    with pytest.raises(NotFound):
        world.invoicing.pay("F-2026-00077", PaymentIn(amount_cents=1, paid_on=date(2026, 12, 11)), meta())


def test_document_links_are_presigned_for_five_minutes(world: World) -> None:
    world.run()
    world.run("partner-monthly", "2026-11")
    family = world.invoicing.documents("F-2026-00001")
    assert family == {"pdf": "https://documents.example/invoices/2026/F-2026-00001.pdf?expires=300", "xml": None}
    company = world.invoicing.documents("P-2026-00001")
    assert company["xml"] == "https://documents.example/invoices/2026/P-2026-00001.xml?expires=300"
    with pytest.raises(NotFound):
        world.invoicing.documents("P-2026-00002")


def test_a_failing_document_store_leaves_the_invoices_and_the_rerun_completes_them(world: World) -> None:
    class Broken(Docs):
        def put_once(self, key: str, body: bytes, content_type: str, *, issue_date: date) -> Stored:
            raise ConnectionError("S3 unavailable")

    world.sync()
    broken = Invoicing(world.store, world.readmodel, Broken(), world.issuer, world.vat, Rounding(15), world.clock)
    report = broken.run("family", "2026-11")
    assert numbers(report) == ["F-2026-00001", "F-2026-00002"] and report["documents_stored"] == 0
    assert [e["number"] for e in report["document_errors"]] == ["F-2026-00001", "F-2026-00002"]
    rerun = world.run()
    assert (rerun["documents_stored"], rerun["documents_already_stored"]) == (2, 0) and len(world.docs.objects) == 2
    again = world.run()  # nothing left to complete: both found stored
    assert (again["documents_stored"], again["documents_already_stored"]) == (0, 2)


def test_standard_rated_vat_is_added_to_the_total() -> None:
    w = World(vat=Vat(category="S", rate=Decimal("19"), exemption_reason=None))
    w.company("acme", monthly(fee=10_001))
    report = w.run("partner-monthly", "2026-11")
    assert report["issued"][0]["total_cents"] == 10_001 + 1_900  # 1900.19 rounds to 1900
    assert report["document_errors"] == []  # the renderers' totals check agrees


# --- families, tariffs --------------------------------------------------------------------


def test_any_well_formed_family_id_may_get_a_billing_address() -> None:
    w = World()
    assert w.families.billing("fam-0a1b2c3d4e5f", address("Familie Lohse"), meta()) == {
        "family_id": "fam-0a1b2c3d4e5f",
        "version": 1,
    }
    assert w.families.billing("fam-0a1b2c3d4e5f", address("Familie Lohse-Brandt"), meta())["version"] == 2
    assert w.families.load("fam-0a1b2c3d4e5f").address.name == "Familie Lohse-Brandt"
    for bad in ("0a1b2c3d4e5f", "fam-", "fam-ÄÖ", "FAM-1"):
        with pytest.raises(Rejected) as err:
            w.families.billing(bad, address("X"), meta())
        assert err.value.status == 422


def test_published_prices_are_appended_once() -> None:
    w = World()
    first = w.tariffs.publish_defaults(meta("system"))
    assert first == {"published": ["standard", "partner", "student"], "present": [], "version": 3}
    again = w.tariffs.publish_defaults(meta("system"))
    assert again == {"published": [], "present": ["standard", "partner", "student"], "version": 3}
    w.tariffs.set_tariff(TariffIn(tier=Tier.STANDARD, cents_per_hour=550, valid_from=date(2027, 1, 1)), meta())
    prices = w.tariffs.current()
    assert prices.price_on(Tier.STANDARD, date(2026, 12, 31)).cents_per_hour == 500
    assert prices.price_on(Tier.STANDARD, date(2027, 1, 1)).cents_per_hour == 550
    with pytest.raises(DomainError, match="must start after"):
        w.tariffs.set_tariff(TariffIn(tier=Tier.STANDARD, cents_per_hour=450, valid_from=date(2026, 6, 1)), meta())


def test_a_price_change_applies_from_its_day_on(world: World) -> None:
    world.tariffs.set_tariff(TariffIn(tier=Tier.STANDARD, cents_per_hour=600, valid_from=date(2026, 11, 4)), meta())
    world.families.billing("fam-petersen", address("Familie Petersen"), meta())
    report = world.run()
    brenner = fold_invoice(world.store.load(invoice_stream(report["issued"][0]["number"]))).invoice
    assert [(line.service_date.day, line.unit_price_cents) for line in brenner.lines if line.kind == "care"] == [
        (3, 500),
        (4, 600),
        (20, 600),
    ]


# --- the tier of each session's day --------------------------------------------------------


def test_each_session_is_priced_by_the_tier_of_its_own_day_as_the_run_sees_the_partner_register() -> None:
    """Care from 14 to 16 March; the employer's contract ends on the 15th, recorded only after the
    care (the sessions' stamps still say partner). Prices: partner 3.00, standard 5.00 EUR/h."""
    w = World()
    w.tariffs.publish_defaults(meta("system"))
    w.company("acme", monthly(start=date(2026, 1, 1)))
    sessions = [
        (berlin(2026, 3, 14, 8, 0), berlin(2026, 3, 14, 12, 0)),  # 240 min: 4 h x 3.00 = 12.00
        (berlin(2026, 3, 15, 9, 0), berlin(2026, 3, 15, 10, 10)),  # 70 min -> 75: 1.25 h x 3.00 = 3.75
        (berlin(2026, 3, 16, 8, 0), berlin(2026, 3, 16, 11, 0)),
    ]  # 180 min: 3 h x 5.00 = 15.00
    w.emergency(
        "c-march",
        "fam-march",
        sessions=sessions,
        tier="partner",
        basis="beschäftigt bei Partner Acme (Rahmenvertrag rv-1)",
        employer="acme",
    )
    w.families.billing("fam-march", address("Familie März"), meta())
    w.partners.end_contract("acme", "rv-1", date(2026, 3, 15), meta())

    report = w.run(period="2026-03")

    assert report["issued"] == [{"number": "F-2026-00001", "debtor_id": "fam-march", "total_cents": 1200 + 375 + 1500}]
    lines = fold_invoice(w.store.load(invoice_stream("F-2026-00001"))).invoice.lines
    assert [
        (line.service_date.day, line.tier, line.unit_price_cents, line.amount_cents, line.basis) for line in lines
    ] == [
        (14, "partner", 300, 1200, "beschäftigt bei Partner Acme (Rahmenvertrag rv-1)"),
        (15, "partner", 300, 375, "beschäftigt bei Partner Acme (Rahmenvertrag rv-1)"),
        (16, "standard", 500, 1500, "wohnhaft in Hannover; kein Rahmenvertrag mit Partner Acme am 16.03.2026"),
    ]


def test_a_family_run_loads_each_partner_stream_once(world: World) -> None:
    class Counting:
        def __init__(self, inner: MemoryEventStore) -> None:
            self.inner, self.loads = inner, []

        def __getattr__(self, name: str):
            return getattr(self.inner, name)

        def load(self, stream_id: str):
            self.loads.append(stream_id)
            return self.inner.load(stream_id)

    counting = Counting(world.store)
    report = world.run(invoicing=world.make_invoicing(counting))
    assert len(report["issued"]) == 2  # the Brenners and the Yilmaz family
    assert [s for s in counting.loads if s.startswith("partner-")] == ["partner-acme"]


def test_care_on_a_day_the_household_is_not_entitled_is_billed_at_the_standard_rate_saying_why() -> None:
    w = World()
    w.tariffs.publish_defaults(meta("system"))
    w.company("acme", monthly(start=date(2026, 1, 1), end=date(2026, 3, 15)))
    # living in Celle (no partner municipality): entitled only through the employer, until the 15th
    w.emergency(
        "c-celle",
        "fam-celle",
        sessions=[
            (berlin(2026, 3, 15, 9, 0), berlin(2026, 3, 15, 10, 0)),
            (berlin(2026, 3, 16, 9, 0), berlin(2026, 3, 16, 10, 0)),
        ],
        tier="partner",
        basis="beschäftigt bei Partner Acme (Rahmenvertrag rv-1)",
        employer="acme",
        municipality="Celle",
    )
    w.families.billing("fam-celle", address("Familie Celle", city="Celle"), meta())

    report = w.run(period="2026-03")

    assert report["issued"][0]["total_cents"] == 300 + 500  # 1 h x 3.00, then 1 h x 5.00
    lines = fold_invoice(w.store.load(invoice_stream("F-2026-00001"))).invoice.lines
    assert [(line.tier, line.basis) for line in lines] == [
        ("partner", "beschäftigt bei Partner Acme (Rahmenvertrag rv-1)"),
        (
            "standard",
            "am 16.03.2026 kein Anspruch (Celle ist weder Hannover noch Partnerkommune, "
            "kein Rahmenvertrag mit Partner Acme am 16.03.2026)",
        ),
    ]
    # as the invoice prints it
    assert rate_basis(lines[1]) == (
        "Standardtarif: am 16.03.2026 kein Anspruch (Celle ist weder Hannover noch "
        "Partnerkommune, kein Rahmenvertrag mit Partner Acme am 16.03.2026)"
    )


# --- eligibility at intake -------------------------------------------------------------------


def _intake_with(w: World, rules: EligibilityRules = EligibilityRules()) -> Intake:
    w.sync()
    numbers_ = count(1)
    return Intake(w.store, new_id=lambda: f"case{next(numbers_)}", assess=assessor(w.readmodel, rules))


def _care_need(w: World, intake: Intake, case_id: str, **need_changes: Any) -> ev.EligibilityAssessed | None:
    start = berlin(2026, 11, 23, 7, 30)
    w.append(
        case_stream(case_id),
        0,
        ev.CaseOpened(
            case_id=case_id, family_id=f"fam-{case_id}", channel="staff", opened_at=start - timedelta(hours=1)
        ),
        ev.NeedClarified(
            need=need(
                window={"start": start.isoformat(), "expected_end": (start + timedelta(hours=4)).isoformat()},
                **need_changes,
            )
        ),
    )
    intake.outcome(case_id, OutcomeIn(outcome=ev.Outcome.CARE_NEED), meta())
    return fold_case(w.store.load(case_stream(case_id))).eligibility


def test_the_assessor_reads_partners_and_contracts_from_the_read_model() -> None:
    w = World()
    w.company("acme", monthly(start=date(2026, 1, 1)))
    w.company("expired", monthly(start=date(2025, 1, 1), end=date(2025, 12, 31)))
    w.municipality("laatzen", per_child())
    intake = _intake_with(w)

    partner = _care_need(w, intake, "k1", municipality="garbsen", employer="Acme")
    assert (partner.tier, partner.entitled, partner.day) == ("partner", True, date(2026, 11, 23))
    assert partner.basis == "beschäftigt bei Partner Acme (Rahmenvertrag rv-1)"
    student = _care_need(w, intake, "k2", municipality="Hannover", student=True, employer="acme")
    assert (student.tier, student.basis) == ("student", "Studium, wohnhaft in Hannover")
    city = _care_need(w, intake, "k3", municipality="hannover", employer="expired")
    assert (city.tier, city.basis) == (
        "standard",
        "wohnhaft in Hannover; kein Rahmenvertrag mit Partner Expired am 23.11.2026",
    )
    home = _care_need(w, intake, "k4", municipality="laatzen")
    assert (home.tier, home.basis) == ("standard", "wohnhaft in Partnerkommune Laatzen")
    with pytest.raises(Rejected, match="not entitled to care"):
        _care_need(w, intake, "k5", municipality="celle", employer="expired")
    assert fold_case(w.store.load(case_stream("k5"))).status == "open"  # nothing recorded


def test_non_entitled_care_at_the_standard_rate_by_configuration() -> None:
    w = World()
    intake = _intake_with(w, EligibilityRules(non_entitled="standard"))
    verdict = _care_need(w, intake, "k1", municipality="celle")
    assert (verdict.tier, verdict.entitled) == ("standard", False)
    assert re.search(r"standard rate by configuration", verdict.basis)


def test_intake_without_an_assessor_records_no_eligibility() -> None:
    w = World()
    intake = Intake(w.store, new_id=lambda: "x")
    assert _care_need(w, intake, "k1", municipality="celle") is None


def test_version_conflicts_are_retried_by_cancel(world: World) -> None:
    """Two cancellations at once compete for the next credit-note number: the loser retries."""
    world.run()

    class Conflicting:
        def __init__(self, inner: MemoryEventStore) -> None:
            self.inner, self.fired = inner, False

        def __getattr__(self, name: str):
            return getattr(self.inner, name)

        def append(self, decision: Decision, meta_: Metadata):
            if not self.fired:
                self.fired = True
                world.invoicing.cancel("F-2026-00002", CancelIn(reason="parallel"), meta())
                raise VersionConflict("series-S-2026")
            return self.inner.append(decision, meta_)

    racing = world.make_invoicing(Conflicting(world.store))
    assert racing.cancel("F-2026-00001", CancelIn(reason="mine"), meta())["credit_note"] == "S-2026-00002"


# --- settings -------------------------------------------------------------------------------


def test_billing_settings_default_to_the_demo_issuer_and_read_the_environment(monkeypatch) -> None:
    defaults = BillingSettings.from_env()
    assert defaults.issuer().address.name == "Notfallbetreuung Region Hannover (Demo)"
    assert (defaults.issuer().iban, defaults.issuer().bic) == ("DE02120300000000202051", "BYLADEM1001")
    assert defaults.vat() == Vat(category="E", rate=Decimal(0), exemption_reason="Steuerfrei nach § 4 Nr. 25 UStG")
    assert defaults.rounding() == Rounding(15)
    with pytest.raises(ValueError, match="DOCUMENTS_BUCKET"):
        defaults.bucket()
    monkeypatch.setenv("VAT_CATEGORY", "S")
    monkeypatch.setenv("VAT_RATE", "19")
    monkeypatch.setenv("BILLING_ROUNDING_MINUTES", "30")
    monkeypatch.setenv("DOCUMENTS_BUCKET", "notfall-documents")
    monkeypatch.setenv("ISSUER_VAT_ID", "")  # blank: not set
    configured = BillingSettings.from_env()
    assert configured.vat() == Vat(category="S", rate=Decimal(19), exemption_reason=None)
    assert configured.rounding() == Rounding(30) and configured.bucket() == "notfall-documents"
    assert configured.issuer().vat_id is None


def test_the_partner_headcount_bands_are_configuration(monkeypatch) -> None:
    assert BillingSettings().headcount_bands == DEFAULT_HEADCOUNT_BANDS
    monkeypatch.setenv("PARTNER_HEADCOUNT_BANDS", "1-9:6000, 10-99:30000, 100+:90000")
    assert BillingSettings.from_env().headcount_bands == (
        HeadcountBand(9, 6_000),
        HeadcountBand(99, 30_000),
        HeadcountBand(None, 90_000),
    )


@pytest.mark.parametrize(
    "bands",
    [
        "1-49:12000,40-249:48000,250+:240000",  # 40 to 49 in two bands
        "1-49:12000,60-249:48000,250+:240000",  # 50 to 59 in none
        "1-249:48000,50-99:12000,100+:240000",  # not ascending
        "2-49:12000,50+:48000",  # nobody with one employee
        "1-49:12000,50-249:48000",  # nobody with 250 or more
        "1-49:12000,50+:48000,100+:90000",  # an open band before the last
        "1-49:120.00,50+:48000",  # not whole cents
        "1-49:-100,50+:48000",  # a negative fee
        "1-0:100,1+:48000",  # a band ending before it starts
        "bis 49: 120 EUR",
    ],
)
def test_headcount_bands_must_be_ascending_without_gaps_or_overlaps_in_whole_cents(monkeypatch, bands: str) -> None:
    monkeypatch.setenv("PARTNER_HEADCOUNT_BANDS", bands)
    with pytest.raises(ValueError, match="PARTNER_HEADCOUNT_BANDS"):
        BillingSettings.from_env()


def test_eligibility_settings_default_to_the_city_and_read_the_environment(monkeypatch) -> None:
    assert EligibilitySettings.from_env().rules() == EligibilityRules(city="hannover", non_entitled="refuse")
    monkeypatch.setenv("CITY_MUNICIPALITY", " Hannover ")
    monkeypatch.setenv("NON_ENTITLED", "standard")
    assert EligibilitySettings.from_env().rules() == EligibilityRules(city="hannover", non_entitled="standard")
    monkeypatch.setenv("NON_ENTITLED", "charge")
    with pytest.raises(ValueError):
        EligibilitySettings.from_env()


@pytest.mark.parametrize(
    "env",
    [
        {"VAT_CATEGORY": "E", "VAT_RATE": "7"},
        {"VAT_CATEGORY": "S"},
        {"BILLING_ROUNDING_MINUTES": "0"},
        {"ISSUER_IBAN": "not an iban"},
    ],
)
def test_billing_settings_refuse_inconsistent_values(monkeypatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError):
        BillingSettings.from_env()
