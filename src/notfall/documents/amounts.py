"""Money, quantities, dates and line explanations as the documents show them, and the
invoice's totals.

Amounts travel as integer cents. They become `Decimal` for the e-invoice and German text
("1.234,56 €") for the PDF by integer arithmetic: no float is ever involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from notfall.domain.invoice_events import InvoiceIssued, Line
from notfall.domain.invoicing import vat_cents  # the issuing rule itself: totals are checked against it

__all__ = [
    "CENT",
    "Totals",
    "decimal_cents",
    "euro",
    "german_date",
    "german_number",
    "minutes_note",
    "quantity",
    "rate_basis",
    "tier_label",
    "totals",
    "vat_cents",
]

CENT = Decimal("0.01")


def decimal_cents(cents: int) -> Decimal:
    """1234 -> Decimal('12.34'); always two places."""
    return Decimal(cents).scaleb(-2)


def german_number(value: Decimal, places: int | None = None) -> str:
    """Decimal('1234.5') -> '1.234,5'; with places=2 -> '1.234,50'."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(value, ",f")  # '1,234.50' (no exponent, grouping by comma)
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def euro(cents: int) -> str:
    """123456 -> '1.234,56 €'; -500 -> '-5,00 €'."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{rest:02d} €"


def quantity(value: Decimal) -> str:
    """Decimal('2.50') -> '2,5'; Decimal('1') -> '1'; no exponent notation."""
    text = format(value.normalize(), "f") if value != 0 else "0"
    return german_number(Decimal(text))


def german_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


@dataclass(frozen=True)
class Totals:
    net_cents: int  # the lines' sum
    vat_cents: int
    gross_cents: int  # the amount payable (or, for a credit note, credited)


def totals(invoice: InvoiceIssued) -> Totals:
    """The invoice's totals, checked: a document never shows figures that do not add up.

    `total_cents` is the amount payable: the lines' sum plus VAT (with the default VAT
    exemption simply the lines' sum).
    """
    if not invoice.lines:
        raise ValueError(f"invoice {invoice.number} has no lines")
    vat = invoice.vat
    if vat.category == "E":
        if vat.rate != 0:
            raise ValueError("a VAT-exempt invoice (category E) has the rate 0")
        if not vat.exemption_reason:
            raise ValueError("a VAT-exempt invoice (category E) needs the exemption reason")
    elif vat.rate <= 0:
        raise ValueError("a standard-rated invoice (category S) needs a rate above 0")
    net = sum(line.amount_cents for line in invoice.lines)
    tax = vat_cents(net, vat)
    if invoice.total_cents != net + tax:
        raise ValueError(
            f"invoice {invoice.number}: total_cents {invoice.total_cents} is not the lines' sum {net} plus VAT {tax}"
        )
    return Totals(net, tax, net + tax)


# --- what a line says beyond its description ---------------------------------------------

TIER_LABELS = {"standard": "Standardtarif", "partner": "Partnertarif", "student": "Studierendentarif"}


def tier_label(tier: str) -> str:
    return TIER_LABELS.get(tier, tier)


def rate_basis(line: Line) -> str | None:
    """The tier and why it applied: "Partnertarif: Mutter beschäftigt bei ..."."""
    if line.tier and line.basis:
        return f"{tier_label(line.tier)}: {line.basis}"
    return tier_label(line.tier) if line.tier else line.basis


def minutes_note(line: Line) -> str | None:
    if line.cared_minutes is None or line.billed_minutes is None:
        return None
    return f"betreut {line.cared_minutes} Min., abgerechnet {line.billed_minutes} Min."
