"""The structured e-invoice: EN 16931 as UN/CEFACT CII XML (Factur-X / ZUGFeRD profile EN16931).

Built with drafthorse from one `InvoiceIssued` event. Choices (summed up in README.md here):

- Profile: `urn:cen.eu:en16931:2017` (Factur-X/ZUGFeRD EN16931) for every debtor. The XRechnung
  guideline id is not used: the EN 16931 schematron shipped with factur-x only accepts the
  EN16931 id (its rule FX-SCH-A-000556 is fatal for any other), and that is the rule set we can
  check offline. A municipality's Leitweg-ID goes into BuyerReference (BT-10), which is what
  XRechnung requires of the buyer side; seller and buyer e-mail addresses become the electronic
  addresses (BT-34, BT-49) when known.
- Type code 380 for an invoice, 381 for a credit note; a credit note names the invoice it
  cancels (BT-25). EN 16931 credit notes carry positive amounts (the type code says "credit"):
  a credit note whose event holds negative amounts (a "Stornorechnung" mirroring the cancelled
  invoice) is written with its signs turned over, so the XML always shows the credit as
  positive figures.
- VAT: one category for the whole invoice (`InvoiceIssued.vat`): E (exempt) with the reason
  text (BT-120) and, for the German exemptions we know, the VATEX code (BT-121); or S with its
  rate. Tax = net times rate, rounded half up to a cent, on the invoice's net (BR-CO-17).
- Service time: each line with a service date carries it as its line period (BT-134/135); the
  invoice carries the service period (BT-73/74) and, as the actual delivery date (BT-72), the
  last day a service was performed (the period's end for lines without a date).
- Seller identification: the Steuernummer is the seller's tax registration (FC) and also its
  identifier (BT-29), since the issuer model has no register number (BT-30) and a VAT-exempt
  issuer may have no USt-IdNr. (VA, BT-31); BR-CO-26 requires one of BT-29/30/31.
- Payment: an invoice is paid by SEPA credit transfer (58) to the issuer's IBAN/BIC, with the
  invoice number as remittance information (BT-83) and the due date (BT-9). A credit note's
  payee would be the debtor, whose account the event does not hold: it says "instrument not
  defined" (1) with the text "set off against invoice X", never the issuer's IBAN.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem

from notfall.documents.amounts import CENT, decimal_cents, german_date, minutes_note, rate_basis, totals
from notfall.domain.invoice_events import Address, InvoiceIssued, Line

GUIDELINE_EN16931 = "urn:cen.eu:en16931:2017"
# Characters XML 1.0 cannot carry (control characters but tab and line breaks, U+FFFE, U+FFFF)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
TYPE_CODES = {"invoice": "380", "credit_note": "381"}

# German exemption notes -> VATEX codes (EN 16931 code list, CEF VATEX). Art. 132 (1) of the
# VAT directive: (g) welfare and social security work, (h) protection of children and young
# persons, (i) education of children and young people.
VATEX_BY_NOTE = (
    ("§ 4 Nr. 25", "VATEX-EU-132-1H"),  # Kinder- und Jugendhilfe
    ("§ 4 Nr. 16", "VATEX-EU-132-1G"),  # Betreuungs- und Pflegeleistungen
    ("§ 4 Nr. 18", "VATEX-EU-132-1G"),  # Wohlfahrtsverbände
    ("§ 4 Nr. 21", "VATEX-EU-132-1I"),  # Schul- und Bildungsleistungen
)


def vatex_code(reason: str | None) -> str | None:
    """The VATEX code for a known German exemption note, else None (the text alone suffices)."""
    if not reason:
        return None
    squeezed = " ".join(reason.split())
    for note, code in VATEX_BY_NOTE:
        if note in squeezed:
            return code
    return None


def xml_texts(invoice: InvoiceIssued) -> InvoiceIssued:
    """The event with every character XML cannot carry replaced by U+FFFD. Input refuses such
    characters, but an invoice issued before that may hold one; its e-invoice must still be
    rendered, since an issued invoice is never without its documents."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _NOT_XML.sub("\ufffd", value)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    dumped = invoice.model_dump()
    cleaned = clean(dumped)
    return invoice if cleaned == dumped else InvoiceIssued.model_validate(cleaned)


def _sign(invoice: InvoiceIssued) -> int:
    """+1, or -1 for a credit note written with negative amounts (see the module docstring)."""
    return -1 if invoice.kind == "credit_note" and invoice.total_cents < 0 else 1


def _amount(cents: int) -> Decimal:
    return decimal_cents(cents)


def _quantity(value: Decimal) -> Decimal:
    return Decimal(format(value, "f"))  # never exponent notation in the XML


def _rate(invoice: InvoiceIssued) -> Decimal:
    return invoice.vat.rate.quantize(CENT)


def _address(target, address: Address) -> None:
    target.postcode = address.postcode
    target.line_one = address.street
    target.city_name = address.city
    target.country_id = address.country


def invoice_cii(invoice: InvoiceIssued) -> bytes:
    """The invoice as EN 16931 CII XML (UTF-8 bytes), deterministic for the same event."""
    invoice = xml_texts(invoice)
    sums = totals(invoice)
    sign = _sign(invoice)
    vat = invoice.vat
    issuer = invoice.issuer
    debtor = invoice.debtor

    doc = Document()
    doc.context.guideline_parameter.id = GUIDELINE_EN16931

    doc.header.id = invoice.number
    doc.header.type_code = TYPE_CODES[invoice.kind]
    doc.header.issue_date_time = invoice.issue_date
    if invoice.note:
        doc.header.notes.add(IncludedNote(content=invoice.note))
    if invoice.kind == "credit_note" and invoice.cancels:
        doc.header.notes.add(IncludedNote(content=f"Gutschrift (Stornorechnung) zur Rechnung Nr. {invoice.cancels}"))

    # parties
    agreement = doc.trade.agreement
    if debtor.buyer_reference:
        agreement.buyer_reference = debtor.buyer_reference  # BT-10: the Leitweg-ID of a public body

    seller = agreement.seller
    # BT-29: the issuer model has no register number (BT-30); without a USt-IdNr. (BT-31) the
    # Steuernummer is the identifier both sides know (it is printed on every invoice), which
    # BR-CO-26 needs for a seller that is identified at all
    seller.id = issuer.tax_number
    seller.name = issuer.address.name
    _address(seller.address, issuer.address)
    seller.contact.person_name = issuer.contact
    seller.contact.telephone.number = issuer.phone
    if issuer.address.email:
        seller.contact.email.address = issuer.address.email
        seller.electronic_address.uri_ID = ("EM", issuer.address.email)
    seller.tax_registrations.add(TaxRegistration(id=("FC", issuer.tax_number)))
    if issuer.vat_id:
        seller.tax_registrations.add(TaxRegistration(id=("VA", issuer.vat_id)))

    buyer = agreement.buyer
    buyer.id = debtor.debtor_id
    buyer.name = debtor.address.name
    _address(buyer.address, debtor.address)
    if debtor.address.email:
        buyer.electronic_address.uri_ID = ("EM", debtor.address.email)
    if debtor.vat_id:
        buyer.tax_registrations.add(TaxRegistration(id=("VA", debtor.vat_id)))

    # the time of the service
    last_service = max((line.service_date for line in invoice.lines if line.service_date), default=None)
    doc.trade.delivery.event.occurrence = last_service or invoice.period_end

    # lines
    for position, line in enumerate(invoice.lines, start=1):
        doc.trade.items.add(_line_item(invoice, position, line, sign))

    # settlement
    settlement = doc.trade.settlement
    settlement.currency_code = "EUR"
    settlement.payment_reference = invoice.number

    means = PaymentMeans()
    if invoice.kind == "invoice":
        means.type_code = "58"  # SEPA credit transfer to the issuer's account
        means.information.add("SEPA-Überweisung")
        means.payee_account.iban = issuer.iban.replace(" ", "")
        means.payee_account.account_name = issuer.address.name
        means.payee_institution.bic = issuer.bic
    else:
        # a credit note's payee is the debtor, whose account we do not know: the credit is
        # set off against the cancelled invoice (the domain cancels only unpaid invoices), so
        # the instrument stays open (1)
        means.type_code = "1"
        means.information.add(f"Verrechnung mit Rechnung Nr. {invoice.cancels}" if invoice.cancels else "Verrechnung")
    settlement.payment_means.add(means)

    tax = ApplicableTradeTax()
    tax.calculated_amount = _amount(sign * sums.vat_cents)
    tax.type_code = "VAT"
    if vat.category == "E":
        tax.exemption_reason = vat.exemption_reason
    tax.basis_amount = _amount(sign * sums.net_cents)
    tax.category_code = vat.category
    if vat.category == "E" and (code := vatex_code(vat.exemption_reason)):
        tax.exemption_reason_code = code
    tax.rate_applicable_percent = _rate(invoice)
    settlement.trade_tax.add(tax)

    settlement.period.start = invoice.period_start
    settlement.period.end = invoice.period_end

    terms = PaymentTerms()
    if invoice.kind == "credit_note":
        terms.description = f"Gutschrift zur Rechnung Nr. {invoice.cancels}" if invoice.cancels else "Gutschrift"
    else:
        terms.description = f"Zahlbar ohne Abzug bis {german_date(invoice.due_date)}"
    terms.due = invoice.due_date
    settlement.terms.add(terms)

    summary = settlement.monetary_summation
    summary.line_total = _amount(sign * sums.net_cents)
    summary.tax_basis_total = _amount(sign * sums.net_cents)
    summary.tax_total = (_amount(sign * sums.vat_cents), "EUR")
    summary.grand_total = _amount(sign * sums.gross_cents)
    summary.due_amount = _amount(sign * sums.gross_cents)

    if invoice.kind == "credit_note" and invoice.cancels:
        settlement.invoice_referenced_document.issuer_assigned_id = invoice.cancels  # BT-25

    return doc.serialize(schema="FACTUR-X_EN16931")


def _line_item(invoice: InvoiceIssued, position: int, line: Line, sign: int) -> LineItem:
    item = LineItem()
    item.document.line_id = str(position)
    if note := line_note(line):
        item.document.notes.add(IncludedNote(content=note))  # BT-127: at most one per line
    item.product.seller_assigned_id = line.kind
    item.product.name = line.description
    if why := rate_basis(line):
        item.product.description = why
    # the price is never negative (BR-27): a negative amount lives in the quantity's sign
    price_sign = -1 if line.unit_price_cents < 0 else 1
    item.agreement.net.amount = _amount(abs(line.unit_price_cents))
    item.delivery.billed_quantity = (_quantity(line.quantity * sign * price_sign), line.unit)
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = invoice.vat.category
    item.settlement.trade_tax.rate_applicable_percent = _rate(invoice)
    if line.service_date:
        item.settlement.period.start = line.service_date
        item.settlement.period.end = line.service_date
    item.settlement.monetary_summation.total_amount = _amount(sign * line.amount_cents)
    return item


def line_note(line: Line) -> str | None:
    """Cared and billed minutes, and what the line bills (session, trip, contract)."""
    parts = [p for p in (minutes_note(line), f"Bezug: {line.ref}" if line.ref else None) if p]
    return "; ".join(parts) or None
