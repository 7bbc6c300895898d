"""A volunteer caregiver's expense statement for one Berlin month, as JSON and as CSV.

Volunteers get no wage: per assignment an allowance (once, in the month of the assignment's
first care session) and their travel costs (km x the rate recorded with the assignment,
rounded half up to a cent per session). The statement is built from the caregiver's month
rows (`caregiver#<id>` / `month#<YYYY-MM>#case#<case_id>`, see
notfall.projection.case_rows.caregiver_month_rows) and the caregiver's state JSON (the
`caregiver` field of `caregiver#<id>` / `state`).

All money is integer cents; `amount_cents` = allowance + travel. Cared hours are shown for
information, as a decimal string with two places ("4.50" is four and a half hours); the
total's hours come from the summed minutes, not from the rounded lines.

CSV (`statement_csv`): what German spreadsheet programs open without an import dialog -
delimiter ";", decimal comma in every number with a fraction (euros, hours, km), euros with
two places and no thousands separator, lines ended by CRLF (RFC 4180). Columns: case_id;
sessions; cared_hours; travel_km; travel_eur; allowance_eur; amount_eur. A header line, one
line per case (sorted by case id), a totals line with `total` as its case_id. The text is to
be served as UTF-8 (`text/csv; charset=utf-8`).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from notfall.domain.hours import as_hours

CSV_COLUMNS = ["case_id", "sessions", "cared_hours", "travel_km", "travel_eur", "allowance_eur", "amount_eur"]


hours = as_hours  # 270 minutes -> "4.50"


def _figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    minutes = sum(r["cared_minutes"] for r in rows)
    travel = sum(r["travel_cents"] for r in rows)
    allowance = sum(r["allowance_cents"] for r in rows)
    return {
        "sessions": sum(r["sessions"] for r in rows),
        "cared_minutes": minutes,
        "cared_hours": hours(minutes),
        "travel_km": str(sum((Decimal(r["travel_km"]) for r in rows), Decimal(0))),
        "travel_cents": travel,
        "allowance_cents": allowance,
        "amount_cents": travel + allowance,
    }


def statement(caregiver: dict[str, Any], month: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The statement of `caregiver` (state JSON) for `month` from its month rows.

    Rows of another caregiver or month are a caller's mistake and raise ValueError."""
    caregiver_id = caregiver["caregiver_id"]
    for row in rows:
        if row["caregiver_id"] != caregiver_id or row["month"] != month:
            raise ValueError(f"row {row.get('sk')} is not of caregiver {caregiver_id} in {month}")
    cases: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        cases.setdefault(row["case_id"], []).append(row)
    lines = [{"case_id": case_id, **_figures(cases[case_id])} for case_id in sorted(cases)]
    total = _figures(rows)
    return {
        "caregiver_id": caregiver_id,
        "name": caregiver["profile"]["name"],
        "month": month,
        "lines": lines,
        "totals": total,
    }


def euros(cents: int) -> str:
    """Cents as euros with a decimal comma: 1234 -> "12,34"."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def _comma(decimal_text: str) -> str:
    return decimal_text.replace(".", ",")


def _csv_line(case_id: str, figures: dict[str, Any]) -> list[str]:
    return [
        case_id,
        str(figures["sessions"]),
        _comma(figures["cared_hours"]),
        _comma(figures["travel_km"]),
        euros(figures["travel_cents"]),
        euros(figures["allowance_cents"]),
        euros(figures["amount_cents"]),
    ]


def statement_csv(stmt: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in stmt["lines"]:
        writer.writerow(_csv_line(line["case_id"], line))
    writer.writerow(_csv_line("total", stmt["totals"]))
    return buffer.getvalue()
