# Proves the printed usage statement: the figures as the JSON has them, suppressed ones stay suppressed,
# the 34a listing by reference; the same statement renders the same bytes.
from __future__ import annotations

import io

from pypdf import PdfReader

from notfall.documents.statement_pdf import statement_pdf

FIGURES = {
    "consultations": 6,
    "emergencies": "fewer than 5",
    "transports": 0,
    "care_hours": "suppressed",
    "care_value_cents": "suppressed",
    "savings_cents": "suppressed",
    "families_charged_cents": "suppressed",
}
STATEMENT = {
    "partner_id": "leine-logistik",
    "partner_name": "Leine Logistik GmbH",
    "kind": "company",
    "period": {"label": "2026-03", "from": "2026-03-01", "to": "2026-03-31"},
    "threshold": 5,
    "months": [{"month": "2026-03", **FIGURES}],
    "total": FIGURES,
    "fee_cents": 10_000,
    "value_used_cents": "suppressed",
    "notes": [],
    "tax_free_listing": [
        {
            "reference": "NF-7KQ2MX4P9A",
            "year": 2026,
            "care_cents": 1425,
            "earlier_in_year_cents": 0,
            "tax_free_cents": 1425,
        }
    ],
}


def test_the_printed_statement_shows_the_figures_as_suppressed_as_the_json() -> None:
    pdf = statement_pdf(STATEMENT)
    assert pdf == statement_pdf(STATEMENT)  # deterministic
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Nutzungsnachweis Leine Logistik GmbH" in text
    assert "01.03.2026 bis 31.03.2026" in text
    assert "unter 5" in text and "unterdrückt" in text
    assert "Vertragsentgelt im Zeitraum: 100,00 EUR" in text
    assert "NF-7KQ2MX4P9A, 2026: Betreuungskosten 14,25 EUR" in text
