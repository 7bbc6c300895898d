"""Invoice use cases: the scheduled invoice runs, credit notes, payments, and the documents.

A run bills one kind of debtor for one period that has ended:

- `family` (period YYYY-MM): every family with care or transport in the Berlin month;
- `partner-monthly` (YYYY-MM): partner companies' monthly flat fees;
- `partner-yearly` (YYYY): companies by headcount band, municipalities per child up to 10.

Who might be billed comes from the read model (the month's hour and transport rows, the
partner list); what is billed is always decided from streams loaded from the event store
(strongly consistent): the cases, the tariffs, the partner, the family's billing address, and
for family invoices the whole partner register (the tier of each session's day).

Each invoice is issued in its own transaction over its series, its billing key and the new
invoice stream (`invoicing.decide_issue`), under a command id naming the billing key and the
key's version. So a run can stop anywhere - a crash, a timeout - and run again: what was
issued stays issued exactly once, the rest is issued with the next numbers, no number is
skipped, and the documents of every invoice already issued for the period are completed
(their storage is write-once and idempotent). Two runs at the same moment cannot bill a key
twice either: the loser of a race reloads and finds the key billed, or takes the next number.
"""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Protocol

from notfall.app.eligibility import partners_from_streams
from notfall.app.execute import execute
from notfall.clock import Clock, berlin_today, system_clock
from notfall.domain import invoice_events as ie
from notfall.domain import invoicing as inv
from notfall.domain.case import case_stream, fold_case
from notfall.domain.eligibility import EligibilityRules
from notfall.domain.envelope import Metadata
from notfall.domain.errors import NotFound, Rejected, VersionConflict
from notfall.domain.families import family_stream, fold_family
from notfall.domain.fees import DEFAULT_HEADCOUNT_BANDS, HeadcountBand, month_bounds
from notfall.domain.inputs import FIRST_YEAR, LAST_YEAR
from notfall.domain.partners import PartnerState, fold_partner, partner_stream
from notfall.domain.tariffs import TARIFF_STREAM, Rounding, Tariffs, fold_tariffs
from notfall.projection.invoice_rows import debtor_pk, invoice_pk, issued_pk
from notfall.projection.partner_rows import PARTNERS_PK
from notfall.projection.readmodel import STATE_SK, ReadModel
from notfall.store.base import EventStore

if TYPE_CHECKING:
    from notfall.documents.storage import Stored

log = logging.getLogger(__name__)

RunKind = Literal["family", "partner-monthly", "partner-yearly"]
RUN_KINDS: tuple[str, ...] = ("family", "partner-monthly", "partner-yearly")
ISSUE_ATTEMPTS = 10  # version conflicts (a concurrent run, a credit note) before an item is given up
CANCEL_ATTEMPTS = 5  # the credit-note series is shared by every cancellation
URL_SECONDS = 300  # presigned document links
PDF_TYPE = "application/pdf"
XML_TYPE = "application/xml"

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^\d{4}$")


class DocumentStore(Protocol):
    """What the run needs of `notfall.documents.storage.DocumentStore`."""

    def put_once(self, key: str, body: bytes, content_type: str, *, issue_date: date) -> Stored: ...

    def url(self, key: str, expires: int = 300) -> str: ...


Render = Callable[[ie.InvoiceIssued], bytes]


def _render_pdf(invoice: ie.InvoiceIssued) -> bytes:
    from notfall.documents.pdf import invoice_pdf  # fpdf2: loaded by the functions that render

    return invoice_pdf(invoice)


def _render_xml(invoice: ie.InvoiceIssued) -> bytes:
    from notfall.documents.einvoice import invoice_cii  # drafthorse, lxml

    return invoice_cii(invoice)


def document_keys(number: str, issue_date: date) -> tuple[str, str]:
    """(pdf key, xml key) of an invoice or credit note in the documents bucket."""
    from notfall.documents.storage import keys_for

    return keys_for(number, issue_date)


def wants_xml(invoice: ie.InvoiceIssued) -> bool:
    """Companies and public bodies get the structured e-invoice (EN 16931 CII) too."""
    return invoice.debtor.kind in ("company", "municipality")


def new_id() -> str:
    return uuid.uuid4().hex[:10]


def partner_key(partner_id: str, period: str) -> str:
    return f"partner:{partner_id}:{period}"


def period_bounds(kind: str, period: str) -> tuple[date, date]:
    """First and last day of a run's period; 422 for an unknown kind or a malformed period."""
    if kind not in RUN_KINDS:
        raise Rejected(f"unknown invoice run {kind!r}: one of {', '.join(RUN_KINDS)}", field="kind")
    if kind == "partner-yearly":
        if not _YEAR.match(period):
            raise Rejected(f"a yearly run bills a calendar year YYYY, not {period!r}", field="period")
        year = _bounded_year(period)
        return date(year, 1, 1), date(year, 12, 31)
    if not _MONTH.match(period):
        raise Rejected(f"a monthly run bills a calendar month YYYY-MM, not {period!r}", field="period")
    year_text, month = period.split("-")
    return month_bounds(_bounded_year(year_text), int(month))


def _bounded_year(text: str) -> int:
    """The years any date input may name: a run of year 0000 or 9999 is a typing error, not a 5xx."""
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Rejected(f"the period must lie in the years {FIRST_YEAR} to {LAST_YEAR}", field="period")
    return year


@dataclass(frozen=True)
class _Item:
    """One debtor and period of a run; `build` drafts it from the log (only when unbilled),
    `build(True)` with the tariffs loaded again (a price changed while the run drafted)."""

    billing_key: str
    debtor_id: str
    build: Callable[[bool], tuple[inv.Draft | inv.Refusal | None, ie.Debtor | None, str]]


class Invoicing:
    def __init__(
        self,
        store: EventStore,
        readmodel: ReadModel,
        documents: DocumentStore | None,
        issuer: ie.Issuer,
        vat: ie.Vat,
        rounding: Rounding,
        clock: Clock = system_clock,
        *,
        render_pdf: Render = _render_pdf,
        render_xml: Render = _render_xml,
        ids: Callable[[], str] = new_id,
        eligibility: EligibilityRules | None = None,
        headcount_bands: tuple[HeadcountBand, ...] = DEFAULT_HEADCOUNT_BANDS,
    ) -> None:
        """`eligibility` decides each care session's tier for its day (families' invoices)."""
        self.store = store
        self.readmodel = readmodel
        self.document_store = documents
        self.issuer = issuer
        self.vat = vat
        self.rounding = rounding
        self.clock = clock
        self.render_pdf = render_pdf
        self.render_xml = render_xml
        self.ids = ids
        self.eligibility = eligibility or EligibilityRules()
        self.headcount_bands = headcount_bands

    def today(self) -> date:
        """The issue date: the clock's Berlin date."""
        return berlin_today(self.clock)

    # --- the run ----------------------------------------------------------------------------

    def run(self, kind: str, period: str, meta: Metadata | None = None) -> dict[str, Any]:
        """Bill every debtor of `kind` for `period` (an ended Berlin month or year).

        Returns {"kind", "period", "issue_date", "issued": [{number, debtor_id, total_cents}],
        "already_billed": [billing keys], "refused": [{billing_key, debtor_id, reason}],
        "nothing_to_bill": n, "documents_stored": n, "documents_already_stored": n,
        "document_errors": [{number, error}]}. `documents_stored` counts the documents this run
        wrote; `documents_already_stored` those of the period's invoices it found stored (a
        rerun that completes nothing reports 0 and n).
        """
        _, last = period_bounds(kind, period)
        issue_date = self.today()
        if last >= issue_date:
            raise Rejected(
                f"the period {period} has not ended yet (today is {issue_date.isoformat()} in Berlin); "
                "it is billed after its last day",
                field="period",
            )
        meta = meta or Metadata(
            command_id=f"invoice-run:{kind}:{period}:{self.ids()}",
            actor="invoice-run",
            correlation_id=f"invoice-run:{kind}:{period}",
        )
        report: dict[str, Any] = {
            "kind": kind,
            "period": period,
            "issue_date": issue_date.isoformat(),
            "issued": [],
            "already_billed": [],
            "refused": [],
            "nothing_to_bill": 0,
            "documents_stored": 0,
            "documents_already_stored": 0,
            "document_errors": [],
        }
        items = self._family_items(period) if kind == "family" else self._partner_items(kind, period)
        series: dict[str, inv.Series] = {}  # the run's view of each series, reloaded on a conflict
        for item in items:
            self._bill(item, issue_date, meta, series, report)
        return report

    def _family_items(self, month: str) -> Iterator[_Item]:
        """Families with care or transport in the month, by the read model's month rows; each
        family's cases are then loaded from the store."""
        cases_of: dict[str, set[str]] = {}
        for row in [*self.readmodel.query(f"month#{month}"), *self.readmodel.query(f"transport#{month}")]:
            cases_of.setdefault(row["family_id"], set()).add(row["case_id"])
        tariffs: list[Tariffs] = []  # loaded once, on first need
        partners: list[list[PartnerState]] = []  # the register, from the streams, once per run

        def build(family_id: str, case_ids: set[str], fresh: bool):
            if fresh or not tariffs:
                tariffs[:] = [fold_tariffs(self.store.load(TARIFF_STREAM))]
            if not partners:
                partners.append(partners_from_streams(self.store, self.readmodel))
            cases = [fold_case(self.store.load(case_stream(cid))) for cid in sorted(case_ids)]
            mine = [c for c in cases if c is not None and c.family_id == family_id]
            draft = inv.family_draft(family_id, month, mine, tariffs[0], self.rounding, partners[0], self.eligibility)
            family = fold_family(self.store.load(family_stream(family_id)))
            debtor = None
            if family is not None and family.address is not None:
                debtor = ie.Debtor(debtor_id=family_id, kind="family", address=family.address)
            return draft, debtor, f"no billing address for family {family_id}"

        for family_id in sorted(cases_of):
            ids = cases_of[family_id]
            yield _Item(inv.family_key(family_id, month), family_id, partial(build, family_id, ids))

    def _partner_items(self, kind: str, period: str) -> Iterator[_Item]:
        """Every partner in the register; each partner's stream is loaded from the store."""
        partner_ids = sorted({row["partner_id"] for row in self.readmodel.query(PARTNERS_PK)})

        def build(partner_id: str, fresh: bool = False):  # the partner streams are loaded anew anyway
            state = fold_partner(self.store.load(partner_stream(partner_id)))
            if state is None:
                return None, None, f"unknown partner {partner_id}"
            draft = (
                inv.partner_month_draft(state, period)
                if kind == "partner-monthly"
                else inv.partner_year_draft(state, int(period), self.headcount_bands)
            )
            debtor = None
            if state.billing is not None:
                debtor = ie.Debtor(
                    debtor_id=partner_id,
                    kind=state.partner.kind,
                    address=state.billing.address,
                    buyer_reference=state.billing.buyer_reference,
                    vat_id=state.billing.vat_id,
                )
            return draft, debtor, f"no billing details for partner {partner_id}"

        for partner_id in partner_ids:
            yield _Item(partner_key(partner_id, period), partner_id, partial(build, partner_id))

    def _billing(self, key: str) -> inv.Billing:
        return inv.fold_billing(key, self.store.load(inv.billing_stream(key)))

    def _series(self, name: str) -> inv.Series:
        return inv.fold_series(name, self.store.load(inv.series_stream(name)))

    def _bill(
        self, item: _Item, issue_date: date, meta: Metadata, series: dict[str, inv.Series], report: dict[str, Any]
    ) -> None:
        key = item.billing_key
        billing = self._billing(key)
        if billing.number is not None:
            self._already_billed(key, billing.number, report)
            return
        drafted = self._draft(item, report)
        if drafted is None:
            return
        draft, debtor = drafted
        name = inv.series_for(draft.series, issue_date)
        for attempt in range(ISSUE_ATTEMPTS):
            current = series.get(name) or self._series(name)
            decision = inv.decide_issue(
                draft, debtor, current, billing, self.issuer, self.vat, issue_date, self.clock()
            )  # the key was just seen unbilled
            item_meta = Metadata(
                command_id=f"invoice:{key}:{billing.version}",
                actor=meta.actor,
                correlation_id=meta.correlation_id,
                causation_id=meta.command_id,
            )
            try:
                appended = self.store.append(decision, item_meta)
            except VersionConflict as conflict:
                # A concurrent run took the number, or billed this key: look again.
                series.pop(name, None)
                billing = self._billing(key)
                if billing.number is not None:
                    self._already_billed(key, billing.number, report)
                    return
                if conflict.stream_id == TARIFF_STREAM:
                    # A price changed after the draft was priced: price it with the tariffs now valid.
                    drafted = self._draft(item, report, fresh=True)
                    if drafted is None:
                        return
                    draft, debtor = drafted
                time.sleep(random.uniform(0, min(0.01 * 2**attempt, 0.5)))  # let the other run move on
                continue
            if appended.duplicate:
                # The same item of the same run (a retried invocation) was appended before.
                series.pop(name, None)
                self._already_billed(key, appended.result["number"], report)
                return
            series[name] = inv.Series(series=name, version=current.version + 1)
            number = decision.result["number"]
            report["issued"].append(
                {"number": number, "debtor_id": item.debtor_id, "total_cents": decision.result["total_cents"]}
            )
            self._complete_documents(number, report)
            return
        report["refused"].append(
            {
                "billing_key": key,
                "debtor_id": item.debtor_id,
                "reason": f"gave up after {ISSUE_ATTEMPTS} conflicts with concurrent writers; run again",
            }
        )

    def _draft(self, item: _Item, report: dict[str, Any], fresh: bool = False) -> tuple[inv.Draft, ie.Debtor] | None:
        """The item's draft and debtor, or None when there is nothing to bill or it is refused (reported)."""
        draft, debtor, missing = item.build(fresh)
        if draft is None:
            report["nothing_to_bill"] += 1
            return None
        if isinstance(draft, inv.Refusal):
            report["refused"].append(
                {"billing_key": draft.billing_key, "debtor_id": draft.debtor_id, "reason": draft.reason}
            )
            return None
        assert draft.billing_key == item.billing_key, (draft.billing_key, item.billing_key)
        if debtor is None:
            report["refused"].append({"billing_key": item.billing_key, "debtor_id": item.debtor_id, "reason": missing})
            return None
        return draft, debtor

    def _already_billed(self, key: str, number: str, report: dict[str, Any]) -> None:
        report["already_billed"].append(key)
        self._complete_documents(number, report)  # a crashed run may have left them unstored

    def _complete_documents(self, number: str, report: dict[str, Any]) -> None:
        if self.document_store is None:
            return
        try:
            stored, already = self.store_documents(number)
            report["documents_stored"] += stored
            report["documents_already_stored"] += already
        except Exception as err:
            log.exception("documents of %s not stored", number)
            report["document_errors"].append({"number": number, "error": f"{type(err).__name__}: {err}"})

    # --- documents --------------------------------------------------------------------------

    def _state(self, number: str) -> inv.InvoiceState:
        state = inv.fold_invoice(self.store.load(inv.invoice_stream(number)))
        if state is None:
            raise NotFound(f"unknown invoice {number}", field="number")
        return state

    def store_documents(self, number: str) -> tuple[int, int]:
        """Render the invoice's (or credit note's) documents from its InvoiceIssued event and
        store each once: the PDF, and for companies and municipalities the CII XML. Returns
        (stored now, found stored already): the store writes only the documents it lacks."""
        if self.document_store is None:
            raise RuntimeError("no document store is configured")
        return self._store(self._state(number).invoice)

    def _store(self, invoice: ie.InvoiceIssued) -> tuple[int, int]:
        assert self.document_store is not None
        pdf_key, xml_key = document_keys(invoice.number, invoice.issue_date)
        documents = [(pdf_key, self.render_pdf, PDF_TYPE)]
        if wants_xml(invoice):
            documents.append((xml_key, self.render_xml, XML_TYPE))
        created = [
            self.document_store.put_once(key, render(invoice), content_type, issue_date=invoice.issue_date).created
            for key, render, content_type in documents
        ]
        return created.count(True), created.count(False)

    def documents(self, number: str) -> dict[str, str | None]:
        """Presigned links (5 minutes) to the PDF and, for companies and municipalities, the
        XML of an invoice or credit note; 404 if there is no such invoice. A document that a
        failed run or cancellation could not store is rendered and stored now, so a link
        never points at nothing."""
        invoice = self._state(number).invoice
        if self.document_store is None:
            raise RuntimeError("no document store is configured")
        self._store(invoice)
        pdf_key, xml_key = document_keys(number, invoice.issue_date)
        return {
            "pdf": self.document_store.url(pdf_key, URL_SECONDS),
            "xml": self.document_store.url(xml_key, URL_SECONDS) if wants_xml(invoice) else None,
        }

    # --- credit notes and payments ----------------------------------------------------------

    def cancel(self, number: str, cmd: inv.CancelIn, meta: Metadata) -> dict[str, Any]:
        """Cancel an invoice by a credit note (series S-<year>); its period may then be billed
        again by the next run. The credit note's documents are stored at once: "documents" in
        the answer says "stored", or "pending" when that failed - the credit note is committed
        all the same, so the answer is no error; a retry of the command or the documents link
        stores them."""

        def decide():
            state = inv.fold_invoice(self.store.load(inv.invoice_stream(number)))
            issue_date = self.today()
            series = self._series(inv.series_for(inv.CREDIT_SERIES, issue_date))
            key = state.invoice.billing_key if state else ""
            billing = self._billing(key) if state else inv.Billing(key=key)
            return inv.decide_credit_note(state, number, series, billing, cmd, issue_date, self.clock())

        for attempt in range(CANCEL_ATTEMPTS):
            try:
                result = execute(self.store, meta, decide)
                break
            except VersionConflict:
                # Mostly another cancellation taking the next credit-note number: decide again.
                if attempt == CANCEL_ATTEMPTS - 1:
                    raise
        return {**result, "documents": self._documents_after_commit(result["credit_note"])}

    def _documents_after_commit(self, number: str) -> str:
        if self.document_store is None:
            return "pending"
        try:
            self.store_documents(number)
        except Exception:
            log.exception("documents of %s not stored; a retry or the documents link stores them", number)
            return "pending"
        return "stored"

    def pay(self, number: str, cmd: inv.PaymentIn, meta: Metadata) -> dict[str, Any]:
        """Record a payment against an open invoice (at most its open amount)."""
        payment_id = self.ids()
        return execute(
            self.store,
            meta,
            lambda: inv.decide_payment(
                inv.fold_invoice(self.store.load(inv.invoice_stream(number))), number, cmd, payment_id, self.clock()
            ),
        )

    # --- reading (the read model) -----------------------------------------------------------

    def invoice(self, number: str) -> dict[str, Any]:
        """An invoice or credit note as projected: the event, status, payments, open amount."""
        row = self.readmodel.get(invoice_pk(number), STATE_SK)
        if row is None:
            raise NotFound(f"unknown invoice {number}", field="number")
        return {k: v for k, v in row.items() if k not in ("pk", "sk", "row_keys")}

    def of_debtor(self, debtor_id: str) -> list[dict[str, Any]]:
        """A family's or partner's invoices and credit notes, by number."""
        return [_strip(r) for r in self.readmodel.query(debtor_pk(debtor_id), "invoice#")]

    def issued_in(self, month: str) -> list[dict[str, Any]]:
        """Invoices and credit notes issued in a month (YYYY-MM), by number."""
        return [_strip(r) for r in self.readmodel.query(issued_pk(month))]


def _strip(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("pk", "sk")}
