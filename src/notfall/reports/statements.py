"""A partner's usage statement as CSV, for German spreadsheet programs (as the expense
statement: delimiter ";", decimal comma, euros with two places, CRLF lines, UTF-8).

Sections, each after a blank line: the months with the total (columns `MONTH_COLUMNS`); the
fee against the value used; the 34a listing (`LISTING_COLUMNS`). A suppressed figure prints
as in the JSON ("fewer than 5", "suppressed"). The statement itself is built by
notfall.domain.statements.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from notfall.reports.expenses import euros

MONTH_COLUMNS = [
    "month",
    "consultations",
    "emergencies",
    "transports",
    "care_hours",
    "care_value_eur",
    "savings_eur",
    "families_charged_eur",
]
LISTING_COLUMNS = ["reference", "year", "care_eur", "earlier_in_year_eur", "tax_free_eur"]


def money(value: Any) -> str:
    """Cents as euros with a decimal comma; a suppressed figure as it is."""
    return euros(value) if isinstance(value, int) else str(value)


def hours(value: Any) -> str:
    return str(value).replace(".", ",") if str(value)[:1].isdigit() else str(value)


def _row(label: str, figures: dict[str, Any]) -> list[str]:
    return [
        label,
        str(figures["consultations"]),
        str(figures["emergencies"]),
        str(figures["transports"]),
        hours(figures["care_hours"]),
        money(figures["care_value_cents"]),
        money(figures["savings_cents"]),
        money(figures["families_charged_cents"]),
    ]


def statement_csv(stmt: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    period = stmt["period"]
    writer.writerow(["partner", stmt["partner_id"], "from", period["from"], "to", period["to"]])
    writer.writerow(["threshold", str(stmt["threshold"])])
    writer.writerow([])
    writer.writerow(MONTH_COLUMNS)
    for month in stmt["months"]:
        writer.writerow(_row(month["month"], month))
    writer.writerow(_row("total", stmt["total"]))
    writer.writerow([])
    writer.writerow(["fee_eur", "value_used_eur"])
    writer.writerow([money(stmt["fee_cents"]), money(stmt["value_used_cents"])])
    for note in stmt["notes"]:
        writer.writerow(["note", note])
    writer.writerow([])
    writer.writerow(LISTING_COLUMNS)
    for entry in stmt["tax_free_listing"]:
        writer.writerow(
            [
                entry["reference"],
                str(entry["year"]),
                money(entry["care_cents"]),
                money(entry["earlier_in_year_cents"]),
                money(entry["tax_free_cents"]),
            ]
        )
    return buffer.getvalue()
