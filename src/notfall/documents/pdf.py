"""The printed invoice or credit note: an A4 PDF in German, rendered with fpdf2.

It carries the mandatory fields of section 14 (4) UStG:

1. full name and address of the issuer and of the recipient (letterhead, address field);
2. the issuer's Steuernummer or USt-IdNr. (info block and footer);
3. the issue date; 4. the unique invoice number (info block, title);
5. quantity and kind of each service (table: date, description, hours/units, unit price,
   amount; care lines also show the tier, why it applied, and cared vs billed minutes);
6. the time of the service (the service period, and each line's date);
7. the fee (each line's amount and the total);
8. the VAT rate and amount, or the note on the exemption ("Steuerfrei nach § 4 Nr. 25 UStG");

plus the due date, the bank details (IBAN/BIC), and on a credit note ("Gutschrift
(Stornorechnung)") the number of the invoice it cancels. A credit note shows no due date: it
is set off against the invoice it cancels (the domain cancels only unpaid invoices).

Deterministic: the PDF's creation date is the issue date (midnight in Berlin), so the same
event always renders the same bytes. User text (names, addresses, places, notes) prints
literally: fpdf2's markdown is never enabled, and its page-count alias is a string that text
passed through `printable` cannot contain (the default `{nb}` printed "Kita {nb}" as "Kita 1").

The text is set in DejaVu Sans Condensed, embedded (subset): names print in full as the law
asks, Łukasz and Şükrü included; the rare character the font lacks is transliterated, see
`printable`.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, time
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from notfall.documents.amounts import (
    Totals,
    euro,
    german_date,
    german_number,
    minutes_note,
    quantity,
    rate_basis,
    totals,
)
from notfall.domain.invoice_events import Address, InvoiceIssued, Line

BERLIN = ZoneInfo("Europe/Berlin")
FONTS = Path(__file__).parent / "fonts"  # DejaVu Sans Condensed: free licence, see fonts/LICENSE
FONT = "DejaVu"
FONT_FILES = {"": FONTS / "DejaVuSansCondensed.ttf", "B": FONTS / "DejaVuSansCondensed-Bold.ttf"}

LEFT, RIGHT, TOP = 20.0, 20.0, 15.0
WIDTH = 210.0 - LEFT - RIGHT  # 170 mm of text width
FOOTER_SPACE = 28.0
GREY = (90, 90, 90)
RULE = (160, 160, 160)
HEAD_FILL = (232, 232, 232)

# table columns: (heading, width, alignment)
COLUMNS = (
    ("Pos.", 10.0, "L"),
    ("Datum", 20.0, "L"),
    ("Leistung", 70.0, "L"),
    ("Menge", 22.0, "R"),
    ("Einzelpreis", 24.0, "R"),
    ("Betrag", 24.0, "R"),
)
UNITS = {"HUR": "Std.", "C62": "Stk."}
# fpdf2 puts the page count wherever its alias occurs; NUL never survives `printable`, so user
# text cannot contain this one. Three characters reserve three digits, as `{nb}` did.
PAGE_COUNT = "\x00n\x00"

TRANSLITERATION = {
    "ł": "l",
    "Ł": "L",
    "ı": "i",
    "İ": "I",
    "đ": "d",
    "Đ": "D",
    "ħ": "h",
    "ŧ": "t",
    "→": "->",
    "←": "<-",
    "⇒": "=>",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "−": "-",
    "‐": "-",
    "‑": "-",
    "\u2009": " ",
    "\u202f": " ",
    "\u00ad": "",
}


@cache
def _glyphs() -> frozenset[int]:
    """Code points both faces can draw."""
    faces = [set(TTFont(path, lazy=True).getBestCmap()) for path in FONT_FILES.values()]
    return frozenset(set.intersection(*faces))


def printable(text: str) -> str:
    """`text` in characters the font can draw; the rare others transliterated."""
    glyphs = _glyphs()
    out = []
    for char in unicodedata.normalize("NFC", text):
        if ord(char) in glyphs or char in "\n\t":
            out.append(char)
        elif char in TRANSLITERATION:
            out.append(TRANSLITERATION[char])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(base if base and all(ord(c) in glyphs for c in base) else "?")
    return "".join(out)


def iban_groups(iban: str) -> str:
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def address_lines(address: Address) -> list[str]:
    lines = [address.name, address.street, f"{address.postcode} {address.city}"]
    if address.country != "DE":
        lines.append(address.country)
    return lines


def one_line(address: Address) -> str:
    return " · ".join([address.name, address.street, f"{address.postcode} {address.city}"])


def percent(rate) -> str:
    """Decimal('19') -> '19 %', Decimal('7.00') -> '7 %', Decimal('19.5') -> '19,5 %'."""
    return german_number(rate.normalize()) + " %"


def title(invoice: InvoiceIssued) -> str:
    if invoice.kind == "credit_note":
        return f"Gutschrift (Stornorechnung) Nr. {invoice.number}"
    return f"Rechnung Nr. {invoice.number}"


class _InvoicePdf(FPDF):
    def __init__(self, invoice: InvoiceIssued) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.invoice = invoice
        for style, path in FONT_FILES.items():
            self.add_font(FONT, style, str(path))
        self.set_margins(LEFT, TOP, RIGHT)
        self.set_auto_page_break(True, margin=FOOTER_SPACE)
        self.alias_nb_pages(PAGE_COUNT)

    def put(
        self,
        w: float,
        h: float,
        text: str,
        *,
        align: str = "L",
        size: float = 9,
        style: str = "",
        color: tuple[int, int, int] = (0, 0, 0),
        fill: bool = False,
        border: Literal[0, 1] | str = 0,
        multi: bool = False,
        then: str = "",
    ) -> None:
        """`text` as printed, literally; `then` (our own markup: the page count) is appended unchanged."""
        self.set_font(FONT, style, size)
        self.set_text_color(*color)
        if multi:
            self.multi_cell(
                w, h, printable(text) + then, border=border, align=align, fill=fill, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        else:
            self.cell(
                w, h, printable(text) + then, border=border, align=align, fill=fill, new_x=XPos.RIGHT, new_y=YPos.TOP
            )

    def height_of(self, w: float, h: float, text: str, size: float, style: str = "") -> float:
        self.set_font(FONT, style, size)
        lines = self.multi_cell(w, h, printable(text), dry_run=True, output="LINES")
        assert isinstance(lines, list)  # output="LINES" answers the lines alone
        return h * len(lines)

    # --- every page ---------------------------------------------------------------------

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_xy(LEFT, TOP)
        self.put(
            WIDTH,
            5,
            f"{title(self.invoice)} vom {german_date(self.invoice.issue_date)} (Fortsetzung)",
            size=8,
            color=GREY,
        )
        self.set_y(TOP + 10)

    def footer(self) -> None:
        issuer = self.invoice.issuer
        self.set_y(-FOOTER_SPACE + 6)
        self.set_draw_color(*RULE)
        self.line(LEFT, self.get_y(), LEFT + WIDTH, self.get_y())
        self.set_y(self.get_y() + 1.5)
        top = self.get_y()
        columns = (
            address_lines(issuer.address),
            [f"Steuernummer: {issuer.tax_number}"]
            + ([f"USt-IdNr.: {issuer.vat_id}"] if issuer.vat_id else [])
            + [f"Tel. {issuer.phone}"]
            + ([issuer.address.email] if issuer.address.email else []),
            [issuer.bank, f"IBAN {iban_groups(issuer.iban)}", f"BIC {issuer.bic}"],
        )
        width = WIDTH / 3
        for i, lines in enumerate(columns):
            self.set_xy(LEFT + i * width, top)
            for text in lines:
                self.set_x(LEFT + i * width)
                self.put(width, 3.3, text, size=7, color=GREY)
                self.ln(3.3)
        self.set_xy(LEFT, -10)
        self.put(WIDTH, 4, f"Seite {self.page_no()} von ", then=PAGE_COUNT, align="R", size=7, color=GREY)


def invoice_pdf(invoice: InvoiceIssued) -> bytes:
    """The invoice or credit note as PDF bytes (A4, German)."""
    sums = totals(invoice)  # raises when the figures do not add up
    pdf = _InvoicePdf(invoice)
    issuer = invoice.issuer
    pdf.set_title(printable(title(invoice)))
    pdf.set_author(printable(issuer.address.name))
    pdf.set_subject(
        printable(
            f"{title(invoice)} an {invoice.debtor.address.name}, Leistungszeitraum "
            f"{german_date(invoice.period_start)} bis {german_date(invoice.period_end)}"
        )
    )
    pdf.set_creator("notfall")
    pdf.set_lang("de-DE")
    pdf.set_creation_date(datetime.combine(invoice.issue_date, time(0), tzinfo=BERLIN))
    pdf.add_page()

    _letterhead(pdf, invoice)
    _address_field(pdf, invoice)
    _info_block(pdf, invoice)
    _opening(pdf, invoice)
    _table(pdf, invoice)
    _totals(pdf, invoice, sums)
    _closing(pdf, invoice, sums)
    return bytes(pdf.output())


# --- parts -------------------------------------------------------------------------------


def _letterhead(pdf: _InvoicePdf, invoice: InvoiceIssued) -> None:
    issuer = invoice.issuer
    x = LEFT + 95
    pdf.set_xy(x, TOP)
    pdf.put(WIDTH - 95, 6, issuer.address.name, size=12, style="B", align="R")
    pdf.set_xy(x, TOP + 7)
    lines = [*address_lines(issuer.address)[1:], f"Kontakt: {issuer.contact}", f"Telefon: {issuer.phone}"]
    if issuer.address.email:
        lines.append(f"E-Mail: {issuer.address.email}")
    for text in lines:
        pdf.set_x(x)
        pdf.put(WIDTH - 95, 4, text, size=8.5, align="R")
        pdf.ln(4)


def _address_field(pdf: _InvoicePdf, invoice: InvoiceIssued) -> None:
    """DIN 5008 form B: the sender line and the recipient in the window at 45 mm."""
    pdf.set_xy(LEFT, 45)
    pdf.put(85, 4, one_line(invoice.issuer.address), size=6.5, style="U", color=GREY)
    pdf.set_xy(LEFT, 51)
    for text in address_lines(invoice.debtor.address):
        pdf.set_x(LEFT)
        pdf.put(85, 5, text, size=10, multi=True)  # a long name wraps inside the window


def _info_block(pdf: _InvoicePdf, invoice: InvoiceIssued) -> None:
    debtor, issuer = invoice.debtor, invoice.issuer
    credit = invoice.kind == "credit_note"
    rows = [
        ("Gutschrift-Nr." if credit else "Rechnungsnummer", invoice.number),
        ("Datum" if credit else "Rechnungsdatum", german_date(invoice.issue_date)),
    ]
    if credit and invoice.cancels:
        rows.append(("Storno zu Rechnung", invoice.cancels))
    rows += [
        ("Leistungszeitraum", f"{german_date(invoice.period_start)} – {german_date(invoice.period_end)}"),
    ]
    if not credit:  # a credit note is set off against the invoice it cancels: nothing falls due
        rows.append(("Fällig am", german_date(invoice.due_date)))
    rows.append(("Kundennummer", debtor.debtor_id))
    if debtor.buyer_reference:
        label = "Leitweg-ID" if debtor.kind == "municipality" else "Ihre Referenz"
        rows.append((label, debtor.buyer_reference))
    if debtor.vat_id:
        rows.append(("Ihre USt-IdNr.", debtor.vat_id))
    rows.append(("Steuernummer", issuer.tax_number))
    if issuer.vat_id:
        rows.append(("USt-IdNr.", issuer.vat_id))
    x, y = LEFT + 95, 51.0
    for label, value in rows:
        pdf.set_xy(x, y)
        pdf.put(32, 4.5, label + ":", size=8.5, color=GREY)
        pdf.put(WIDTH - 95 - 32, 4.5, value, size=8.5, align="R")
        y += 4.5
    pdf.set_y(max(y, 80) + 8)


def _opening(pdf: _InvoicePdf, invoice: InvoiceIssued) -> None:
    pdf.set_x(LEFT)
    pdf.put(WIDTH, 7, title(invoice), size=14, style="B")
    pdf.ln(8)
    period = f"{german_date(invoice.period_start)} bis {german_date(invoice.period_end)}"
    if invoice.kind == "credit_note":
        cancelled = f"die Rechnung Nr. {invoice.cancels}" if invoice.cancels else "die unten genannten Leistungen"
        text = (
            f"hiermit stornieren wir {cancelled} (Leistungszeitraum {period}) "
            "und schreiben Ihnen die folgenden Beträge gut:"
        )
    else:
        text = f"für unsere Leistungen im Leistungszeitraum {period} berechnen wir Ihnen:"
    pdf.set_x(LEFT)
    pdf.put(WIDTH, 5, text, size=9.5, multi=True)
    pdf.ln(3)


def _table_head(pdf: _InvoicePdf) -> None:
    pdf.set_fill_color(*HEAD_FILL)
    pdf.set_x(LEFT)
    for heading, width, align in COLUMNS:
        pdf.put(width, 6, heading, size=8.5, style="B", align=align, fill=True)
    pdf.ln(6)


def _detail(line: Line) -> str:
    parts = [p for p in (rate_basis(line), minutes_note(line)) if p]
    refs = [r for r in (f"Fall {line.case_id}" if line.case_id else None, line.ref) if r]
    if refs:
        parts.append("Bezug: " + ", ".join(refs))
    return "\n".join(parts)


def _table(pdf: _InvoicePdf, invoice: InvoiceIssued) -> None:
    _table_head(pdf)
    desc_width = COLUMNS[2][1]
    for position, line in enumerate(invoice.lines, start=1):
        detail = _detail(line)
        height = pdf.height_of(desc_width, 4.2, line.description, 9)
        if detail:
            height += pdf.height_of(desc_width, 3.6, detail, 7.5)
        height += 2.5
        if pdf.get_y() + height > pdf.page_break_trigger:  # keep a line and its detail together
            pdf.add_page()
            _table_head(pdf)
        top = pdf.get_y() + 1.2
        cells = (
            str(position),
            german_date(line.service_date) if line.service_date else "",
            None,
            f"{quantity(line.quantity)} {UNITS.get(line.unit, line.unit)}",
            euro(line.unit_price_cents),
            euro(line.amount_cents),
        )
        x = LEFT
        for (_heading, width, align), text in zip(COLUMNS, cells, strict=True):
            if text is not None:
                pdf.set_xy(x, top)
                pdf.put(width, 4.2, text, size=9, align=align)
            x += width
        desc_x = LEFT + COLUMNS[0][1] + COLUMNS[1][1]
        pdf.set_left_margin(desc_x)  # multi_cell returns to the left margin
        pdf.set_xy(desc_x, top)
        pdf.put(desc_width, 4.2, line.description, size=9, multi=True)
        if detail:
            pdf.set_x(desc_x)
            pdf.put(desc_width, 3.6, detail, size=7.5, color=GREY, multi=True)
        pdf.set_left_margin(LEFT)
        bottom = max(pdf.get_y(), top + 4.2) + 1.3
        pdf.set_draw_color(*RULE)
        pdf.line(LEFT, bottom, LEFT + WIDTH, bottom)
        pdf.set_xy(LEFT, bottom)


def _totals(pdf: _InvoicePdf, invoice: InvoiceIssued, sums: Totals) -> None:
    vat = invoice.vat
    rows: list[tuple[str, str, str]] = []
    if vat.category == "S":
        rows.append(("Summe netto", euro(sums.net_cents), ""))
        rows.append((f"zzgl. Umsatzsteuer {percent(vat.rate)} auf {euro(sums.net_cents)}", euro(sums.vat_cents), ""))
    else:
        rows.append(("Summe der Positionen", euro(sums.net_cents), ""))
        rows.append(("Umsatzsteuer 0,00 €: " + (vat.exemption_reason or ""), "", ""))
    label = "Gutschrift gesamt" if invoice.kind == "credit_note" else "Gesamtbetrag"
    rows.append((label, euro(sums.gross_cents), "B"))
    needed = 6 * len(rows) + 4
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(2)
    for text, amount, style in rows:
        pdf.set_x(LEFT + 40)
        pdf.put(WIDTH - 40 - 30, 5.5, text, size=9.5 if style else 9, style=style, align="R")
        pdf.put(30, 5.5, amount, size=9.5 if style else 9, style=style, align="R")
        pdf.ln(5.5)
    pdf.set_draw_color(0, 0, 0)
    pdf.line(LEFT + WIDTH - 30, pdf.get_y(), LEFT + WIDTH, pdf.get_y())
    pdf.ln(5)


def _closing(pdf: _InvoicePdf, invoice: InvoiceIssued, sums: Totals) -> None:
    issuer = invoice.issuer
    paragraphs = []
    if invoice.vat.category == "E" and invoice.vat.exemption_reason:
        paragraphs.append((f"{invoice.vat.exemption_reason.rstrip('.')}.", "B"))
    if invoice.note:
        paragraphs.append((invoice.note, ""))
    amount = euro(abs(sums.gross_cents))
    if invoice.kind == "credit_note":
        if invoice.cancels:
            paragraphs.append(
                (
                    f"Die Rechnung Nr. {invoice.cancels} ist damit storniert: Der Betrag von {amount} "
                    "wird mit ihr verrechnet, Sie brauchen sie nicht zu bezahlen.",
                    "",
                )
            )
        else:
            paragraphs.append((f"Den Betrag von {amount} verrechnen wir mit Ihrer nächsten Rechnung.", ""))
    else:
        paragraphs.append(
            (
                f"Bitte überweisen Sie den Gesamtbetrag von {amount} ohne Abzug bis zum "
                f"{german_date(invoice.due_date)} unter Angabe der Rechnungsnummer {invoice.number}:\n"
                f"Kontoinhaber: {issuer.address.name}\nIBAN: {iban_groups(issuer.iban)} · "
                f"BIC: {issuer.bic} · {issuer.bank}\nVerwendungszweck: {invoice.number}",
                "",
            )
        )
    paragraphs.append(
        (
            f"Fragen zu dieser {'Gutschrift' if invoice.kind == 'credit_note' else 'Rechnung'} "
            f"beantwortet {issuer.contact}, Telefon {issuer.phone}"
            + (f", E-Mail {issuer.address.email}" if issuer.address.email else "")
            + ".",
            "",
        )
    )
    for text, style in paragraphs:
        if pdf.get_y() + pdf.height_of(WIDTH, 4.5, text, 9, style) > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_x(LEFT)
        pdf.put(WIDTH, 4.5, text, size=9, style=style, multi=True)
        pdf.ln(2)
