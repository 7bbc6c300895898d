"""The printed invoice: every field of section 14 (4) UStG is on it, and it is deterministic."""

from __future__ import annotations

import io
from datetime import date

import pytest
from invoice_builders import ALL, company_invoice, credit_note, family_invoice, municipality_invoice
from pypdf import PdfReader

from notfall.documents.amounts import euro, german_date, quantity
from notfall.documents.pdf import invoice_pdf, printable
from notfall.domain.invoice_events import InvoiceIssued


def read(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[InvoiceIssued, bytes, PdfReader, str]]:
    out = {}
    for name, build in ALL.items():
        invoice = build()
        pdf = invoice_pdf(invoice)
        out[name] = (invoice, pdf, *read(pdf))
    return out


@pytest.mark.parametrize("name", list(ALL))
def test_carries_every_mandatory_field(rendered, name):
    invoice, pdf, _reader, text = rendered[name]
    assert pdf.startswith(b"%PDF-")
    issuer, debtor = invoice.issuer, invoice.debtor
    # 1. full name and address of issuer and recipient
    for address in (issuer.address, debtor.address):
        assert address.name in text
        assert address.street in text
        assert f"{address.postcode} {address.city}" in text
    # 2. the issuer's Steuernummer (and USt-IdNr. when it has one)
    assert f"Steuernummer: {issuer.tax_number}" in text
    if issuer.vat_id:
        assert f"USt-IdNr.: {issuer.vat_id}" in text
    # 3. issue date, 4. the unique number
    assert german_date(invoice.issue_date) in text
    assert invoice.number in text
    # 5. quantity and kind of each service, 7. the fee per line
    for line in invoice.lines:
        assert " ".join(printable(line.description).split()) in " ".join(text.split())  # wrapped
        assert f"{quantity(line.quantity)} {'Std.' if line.unit == 'HUR' else 'Stk.'}" in text
        assert euro(line.unit_price_cents) in text
        assert euro(line.amount_cents) in text
        if line.service_date:
            assert german_date(line.service_date) in text
    # 6. the time of the service: the service period
    assert f"Leistungszeitraum: {german_date(invoice.period_start)} – {german_date(invoice.period_end)}" in text
    # 7. the total; 8. VAT rate and amount, or the exemption note
    assert euro(invoice.total_cents) in text
    if invoice.vat.category == "E":
        assert "Steuerfrei nach § 4 Nr. 25 UStG" in text
    else:
        assert "Umsatzsteuer 19 %" in text
    # due date (an invoice's) and bank details
    if invoice.kind == "invoice":
        assert f"Fällig am: {german_date(invoice.due_date)}" in text
    else:
        assert "Fällig am" not in text
    assert "IBAN DE89 3704 0044 0532 0130 00" in text
    assert "BIC COBADEFFXXX" in text


def test_family_invoice_shows_tiers_their_basis_and_minutes(rendered):
    _, _, _, text = rendered["family"]
    assert "Rechnung Nr. R-2026-00042" in text
    assert "Partnertarif: Mutter beschäftigt bei Partnerbetrieb Kessler" in " ".join(text.split())  # may wrap
    assert "Standardtarif: Betreuung durch die Großmutter" in text
    assert "betreut 130 Min., abgerechnet 135 Min." in text  # rounded up to quarter hours
    assert "betreut 61 Min., abgerechnet 75 Min." in text
    # the price change: the same tier at 3,00 before and 3,50 after 16 Nov
    assert "4,75 Std. 3,00 € 14,25 €" in text
    assert "2,25 Std. 3,50 € 7,88 €" in text  # 7,875 rounded half up
    assert "1 Stk. 8,00 € 8,00 €" in text  # the transport
    assert "Gesamtbetrag 36,38 €" in text
    assert "Bitte überweisen Sie den Gesamtbetrag von 36,38 € ohne Abzug bis zum 15.12.2026" in text
    assert "Verwendungszweck: R-2026-00042" in text


def test_company_invoice_shows_vat(rendered):
    _, _, _, text = rendered["company"]
    assert "Summe netto 1.295,00 €" in text
    assert "zzgl. Umsatzsteuer 19 % auf 1.295,00 € 246,05 €" in text
    assert "Gesamtbetrag 1.541,05 €" in text
    assert "Ihre USt-IdNr.: DE811907980" in text
    assert "Ihre Referenz: PO-4500012345" in text
    assert "Steuerfrei" not in text


def test_municipality_invoice_shows_the_leitweg_id(rendered):
    _, _, _, text = rendered["municipality"]
    assert "Leitweg-ID: 03241001-12345-67" in text
    assert "3.320 Stk. 1,00 € 3.320,00 €" in text


@pytest.mark.parametrize("name", ["credit_note", "credit_note_positive"])
def test_credit_note_names_the_cancelled_invoice(rendered, name):
    invoice, _, reader, text = rendered[name]
    assert "Gutschrift (Stornorechnung) Nr. G-2026-00005" in text
    assert "Storno zu Rechnung: R-2026-00042" in text
    assert "hiermit stornieren wir die Rechnung Nr. R-2026-00042" in text
    assert f"Gutschrift gesamt {euro(invoice.total_cents)}" in text
    assert (
        "Die Rechnung Nr. R-2026-00042 ist damit storniert: Der Betrag von 36,38 € wird mit ihr verrechnet"
        in " ".join(text.split())
    )
    assert invoice.note in text.replace("\n", " ")
    assert reader.metadata.title == "Gutschrift (Stornorechnung) Nr. G-2026-00005"


def test_storno_amounts_are_shown_negative(rendered):
    _, _, _, text = rendered["credit_note"]
    assert "-2,25 Std. 3,50 € -7,88 €" in text
    assert "Gutschrift gesamt -36,38 €" in text


@pytest.mark.parametrize("name", list(ALL))
def test_the_same_event_renders_the_same_bytes(rendered, name):
    invoice, pdf, _, _ = rendered[name]
    again = InvoiceIssued.model_validate(invoice.model_dump(mode="json"))  # as loaded from the store
    assert invoice_pdf(again) == pdf


def test_metadata_and_page(rendered):
    _invoice, _, reader, _ = rendered["family"]
    meta = reader.metadata
    assert meta.title == "Rechnung Nr. R-2026-00042"
    assert meta.author == "Notfallbetreuung Region Hannover gGmbH (Demo)"
    assert meta["/CreationDate"].startswith("D:20261201000000")  # the issue date
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4


def test_another_issue_date_changes_only_what_it_should():
    a = family_invoice()
    b = a.model_copy(update={"issue_date": date(2026, 12, 2)})
    assert invoice_pdf(a) != invoice_pdf(b)
    assert PdfReader(io.BytesIO(invoice_pdf(b))).metadata["/CreationDate"].startswith("D:20261202")


def test_a_long_invoice_breaks_pages_and_keeps_every_line():
    base = family_invoice()
    lines = [line.model_copy(update={"line_id": f"{line.line_id}-{i}"}) for i in range(10) for line in base.lines]
    invoice = base.model_copy(update={"lines": lines, "total_cents": 10 * base.total_cents})
    reader, text = read(invoice_pdf(invoice))
    pages = len(reader.pages)
    assert pages > 1
    assert f"Seite {pages} von {pages}" in text
    assert "(Fortsetzung)" in reader.pages[1].extract_text()
    assert text.count("Betreuung Mia") == 30
    assert "Gesamtbetrag 363,80 €" in text
    for position in (1, 20, 40):
        assert any(row.startswith(f"{position} ") for row in text.splitlines())


def test_names_print_in_full_and_only_glyphless_characters_are_transliterated():
    # Section 14 (4) UStG asks for the recipient's full name: the embedded font draws it.
    assert printable("Łukasz Wąsik, Şükrü Yıldız → Kita") == "Łukasz Wąsik, Şükrü Yıldız → Kita"
    assert printable("Grüße, § 4 Nr. 25, 1.234,56 €, „x“ – y") == "Grüße, § 4 Nr. 25, 1.234,56 €, „x“ – y"
    assert printable("Zeile 1\nZeile 2") == "Zeile 1\nZeile 2"
    assert printable("Kita 🌞 漢") == "Kita ? ?"  # no glyph in the font
    debtor = family_invoice().debtor
    invoice = family_invoice().model_copy(
        update={
            "debtor": debtor.model_copy(update={"address": debtor.address.model_copy(update={"name": "Łukasz Wąsik"})})
        }
    )
    _, text = read(invoice_pdf(invoice))
    assert "Łukasz Wąsik" in text


def test_user_text_prints_literally_even_what_looks_like_fpdf_markup():
    """Names, places and notes are data: fpdf2's page-count alias `{nb}` and its markdown
    markers (**, __, --, ~~, the backslash escape) print as written, on every page."""
    base = family_invoice()
    debtor, trip = base.debtor, base.lines[2]
    marked = "Kita {nb} **Sonne** __Mond__ --Stern-- ~~Wolke~~ \\x [Link](https://example.org)"
    address = debtor.address.model_copy(update={"name": "Katrin {nb} Schröder", "street": "Lindenallee {nb}"})
    lines = [line.model_copy(update={"line_id": f"{line.line_id}-{i}"}) for i in range(10) for line in base.lines]
    lines[2] = lines[2].model_copy(
        update={"description": f"Fahrdienst am 18.11.2026: {marked} – Wohnung {{nb}}", "ref": "trip-{nb}"}
    )
    invoice = base.model_copy(
        update={
            "debtor": debtor.model_copy(update={"address": address}),
            "lines": lines,
            "total_cents": 10 * base.total_cents,
            "note": "Hinweis: {nb} bleibt {nb}.",
        }
    )
    assert trip.kind == "transport"
    reader, text = read(invoice_pdf(invoice))
    flat = " ".join(text.split())
    assert "Katrin {nb} Schröder" in text and "Lindenallee {nb}" in text
    assert f"Fahrdienst am 18.11.2026: {marked} – Wohnung {{nb}}" in flat
    assert "Bezug: Fall case-81, trip-{nb}" in flat
    assert "Hinweis: {nb} bleibt {nb}." in text
    assert "Katrin {nb} Schröder" in reader.metadata.subject
    pages = len(reader.pages)
    assert pages > 1
    assert f"Katrin {pages} Schröder" not in text and f"Kita {pages}" not in flat  # no page count put in
    for number, page in enumerate(reader.pages, start=1):  # the page count still prints in the footer
        assert f"Seite {number} von {pages}" in page.extract_text()


def test_inconsistent_figures_are_not_printed():
    with pytest.raises(ValueError):
        invoice_pdf(company_invoice().model_copy(update={"total_cents": 129500}))


def test_builders_are_valid_events():
    for build in (family_invoice, company_invoice, municipality_invoice, credit_note):
        event = build()
        assert InvoiceIssued.model_validate(event.model_dump(mode="json")) == event
