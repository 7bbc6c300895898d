"""A partner's usage statement as an A4 PDF in German, rendered with fpdf2 in the invoice's
font. It prints the statement's JSON as it is: suppressed figures stay suppressed, the 34a
listing shows references only. Deterministic: the creation date is the period's last day."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from notfall.documents.pdf import BERLIN, FONT, FONT_FILES, LEFT, RIGHT, TOP, printable
from notfall.reports.statements import hours, money

COLUMNS = (
    ("Monat", 22.0),
    ("Beratungen", 21.0),
    ("Notfälle", 19.0),
    ("Fahrdienste", 21.0),
    ("Std.", 19.0),
    ("Wert EUR", 23.0),
    ("Ersparnis EUR", 23.0),
    ("Familien EUR", 22.0),
)
SUPPRESSED = {"suppressed": "unterdrückt"}


def _text(value: Any) -> str:
    text = str(value)
    if text.startswith("fewer than "):
        return "unter " + text.removeprefix("fewer than ")
    return SUPPRESSED.get(text, text)


def statement_pdf(stmt: dict[str, Any]) -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    for style, path in FONT_FILES.items():
        pdf.add_font(FONT, style, str(path))
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_creator("notfall")
    pdf.set_lang("de-DE")
    pdf.set_creation_date(datetime.combine(date.fromisoformat(stmt["period"]["to"]), time(0), tzinfo=BERLIN))
    pdf.add_page()

    def line(text: str, size: float = 9, style: str = "", height: float = 5) -> None:
        pdf.set_font(FONT, style, size)
        pdf.multi_cell(0, height, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    period = stmt["period"]
    line(f"Nutzungsnachweis {stmt['partner_name']}", 14, "B", 8)
    start, end = (date.fromisoformat(period[k]).strftime("%d.%m.%Y") for k in ("from", "to"))
    line(f"Zeitraum {start} bis {end}; Partner-ID {stmt['partner_id']}")
    line(
        f"Zahlen unter {stmt['threshold']} erscheinen als „unter {stmt['threshold']}“; wo eine Summe "
        "sonst einen kleinen Wert verriete, ist ein weiterer Wert unterdrückt."
    )
    pdf.ln(3)
    pdf.set_font(FONT, "B", 8)
    for heading, width in COLUMNS:
        pdf.cell(width, 6, printable(heading), border=1, align="C")
    pdf.ln()
    rows = [(m["month"], m) for m in stmt["months"]] + [("Summe", stmt["total"])]
    for label, figures in rows:
        pdf.set_font(FONT, "B" if label == "Summe" else "", 8)
        values = [
            label,
            figures["consultations"],
            figures["emergencies"],
            figures["transports"],
            hours(figures["care_hours"]),
            money(figures["care_value_cents"]),
            money(figures["savings_cents"]),
            money(figures["families_charged_cents"]),
        ]
        for (_, width), value in zip(COLUMNS, values, strict=True):
            pdf.cell(width, 6, printable(_text(value)), border=1, align="R")
        pdf.ln()
    pdf.ln(3)
    line(f"Vertragsentgelt im Zeitraum: {money(stmt['fee_cents'])} EUR", 10, "B")
    line(f"Genutzter Wert (Betreuung zum Standardtarif): {_text(money(stmt['value_used_cents']))} EUR", 10, "B")
    for note in stmt["notes"]:
        line(f"Hinweis: {note}")
    pdf.ln(3)
    line("Steuerfreie Erstattung nach § 3 Nr. 34a EStG (mit Einwilligung)", 11, "B", 7)
    if not stmt["tax_free_listing"]:
        line("Keine Einträge.")
    for entry in stmt["tax_free_listing"]:
        line(
            f"{entry['reference']}, {entry['year']}: Betreuungskosten {money(entry['care_cents'])} EUR, "
            f"davon bis 600 EUR im Jahr steuerfrei erstattbar {money(entry['tax_free_cents'])} EUR "
            f"(früher im Jahr {money(entry['earlier_in_year_cents'])} EUR)"
        )
    return bytes(pdf.output())
