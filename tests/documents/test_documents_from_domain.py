"""The documents of invoices and credit notes as the domain issues them (`decide_issue`,
`decide_credit_note`) with the configured issuer: same conventions for totals, VAT and the
signs of a credit note."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from invoice_builders import company_invoice, family_invoice
from pypdf import PdfReader

from notfall.documents.einvoice import invoice_cii
from notfall.documents.pdf import invoice_pdf
from notfall.documents.validate import rule_report, schema_errors
from notfall.domain import invoice_events as ie
from notfall.domain import invoicing as inv
from notfall.settings import BillingSettings

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def issued(decision, kind: str) -> ie.InvoiceIssued:
    events = [e for a in decision.appends for e in a.events if isinstance(e, ie.InvoiceIssued)]
    assert len(events) == 1 and events[0].kind == kind
    return events[0]


def issue(template: ie.InvoiceIssued, settings: BillingSettings) -> ie.InvoiceIssued:
    draft = inv.Draft(
        billing_key=template.billing_key,
        series=template.series,
        debtor_id=template.debtor.debtor_id,
        debtor_kind=template.debtor.kind,
        period_start=template.period_start,
        period_end=template.period_end,
        lines=template.lines,
    )
    series = inv.Series(series=inv.series_for("F", date(2026, 12, 1)), version=41)
    decision = inv.decide_issue(
        draft,
        template.debtor,
        series,
        inv.Billing(key=template.billing_key),
        settings.issuer(),
        settings.vat(),
        date(2026, 12, 1),
        NOW,
    )
    return issued(decision, "invoice")


def cancel(invoice: ie.InvoiceIssued) -> ie.InvoiceIssued:
    state = inv.InvoiceState(version=1, invoice=invoice)
    series = inv.Series(series=inv.series_for("S", date(2026, 12, 9)), version=4)
    decision = inv.decide_credit_note(
        state,
        invoice.number,
        series,
        inv.Billing(key=invoice.billing_key, version=1, number=invoice.number),
        inv.CancelIn(reason="falscher Tarif"),
        date(2026, 12, 9),
        NOW,
    )
    return issued(decision, "credit_note")


@pytest.mark.parametrize(
    "settings",
    [
        BillingSettings(),  # the defaults: VAT-exempt under section 4 no. 25 UStG
        BillingSettings(
            VAT_CATEGORY="S", VAT_RATE=Decimal("19"), VAT_EXEMPTION_REASON=None, ISSUER_VAT_ID="DE123456788"
        ),
    ],
    ids=["exempt", "standard-rated"],
)
@pytest.mark.parametrize("template", [family_invoice, company_invoice], ids=["family", "company"])
def test_issued_invoice_and_its_credit_note_render_and_validate(settings, template):
    invoice = issue(template(), settings)
    credit = cancel(invoice)
    assert invoice.number == "F-2026-00042" and credit.number == "S-2026-00005"
    assert credit.total_cents == -invoice.total_cents
    for event in (invoice, credit):
        xml = invoice_cii(event)
        assert schema_errors(xml) == []
        report = rule_report(xml)
        assert (report.failures, report.warnings) == ([], [])
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(invoice_pdf(event))).pages)
        assert settings.issuer_name in text
        assert f"Steuernummer: {settings.issuer_tax_number}" in text
    credit_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(invoice_pdf(credit))).pages)
    assert "Storno der Rechnung F-2026-00042: falscher Tarif" in credit_text
    assert "Storno zu Rechnung: F-2026-00042" in credit_text
