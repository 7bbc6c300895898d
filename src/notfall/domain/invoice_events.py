"""Invoices, credit notes and payments as events. An issued invoice is never changed: a
mistake is fixed by a credit note (which cancels it) and a new invoice.

Streams: `invoice-<number>` per invoice or credit note; `series-<series>` numbers each series
without gaps; `billing-<debtor>-<period>` says which invoice bills a debtor for a period, so
that two invoice runs can never bill the same period twice.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from notfall.domain.envelope import Event, UtcDatetime
from notfall.domain.events import Value
from notfall.domain.inputs import Text

DebtorKind = Literal["family", "company", "municipality"]


class Address(Value):
    name: Text = Field(min_length=1, max_length=200)
    street: Text = Field(min_length=1, max_length=200)
    postcode: Text = Field(pattern=r"^[0-9]{5}$")
    city: Text = Field(min_length=1, max_length=100)
    country: Text = Field(default="DE", pattern=r"^[A-Z]{2}$")
    email: Text | None = Field(default=None, max_length=200)


class Debtor(Value):
    debtor_id: str  # family id or partner id
    kind: DebtorKind
    address: Address
    buyer_reference: Text | None = Field(default=None, description="Leitweg-ID of a public body, or an order ref")
    vat_id: str | None = None


class Issuer(Value):
    """The service as the invoices' issuer: the mandatory seller fields of section 14 (4) UStG."""

    address: Address
    tax_number: str  # Steuernummer, or
    vat_id: str | None = None  # USt-IdNr.
    iban: str
    bic: str
    bank: str
    contact: str
    phone: str


class Vat(Value):
    """VAT treatment: configuration. Default: exempt under section 4 no. 25 UStG."""

    category: Literal["E", "S"] = "E"  # EN 16931 category codes: E exempt, S standard rate
    rate: Decimal = Decimal("0")
    exemption_reason: str | None = "Steuerfrei nach § 4 Nr. 25 UStG"


class Line(Value):
    line_id: str
    kind: Literal["care", "transport", "fee"]
    description: str
    service_date: date | None = None
    quantity: Decimal  # hours for care (billed, after rounding), 1 for a trip or a fee
    unit: Literal["HUR", "C62"]  # UN/ECE rec 20: hour, piece
    unit_price_cents: int
    amount_cents: int
    tier: str | None = None
    basis: Text | None = Field(default=None, description="why this rate applied")
    case_id: str | None = None
    ref: Text | None = Field(default=None, description="session, trip or contract the line bills")
    cared_minutes: int | None = None
    billed_minutes: int | None = None


class InvoiceIssued(Event):
    event_type = "InvoiceIssued"
    number: str
    series: str
    kind: Literal["invoice", "credit_note"]
    debtor: Debtor
    issuer: Issuer
    issue_date: date
    period_start: date
    period_end: date
    due_date: date
    lines: list[Line]
    total_cents: int
    vat: Vat
    billing_key: str  # debtor and period, e.g. "family:fam-1a2b:2026-11"
    cancels: Text | None = Field(default=None, description="credit notes: the number of the invoice they cancel")
    note: str | None = None


class InvoiceCancelled(Event):
    """On the cancelled invoice's stream: the credit note that cancels it."""

    event_type = "InvoiceCancelled"
    credit_note: str
    reason: str


class PaymentRecorded(Event):
    event_type = "PaymentRecorded"
    payment_id: str
    amount_cents: int
    paid_on: date
    reference: str | None = None
    recorded_at: UtcDatetime


class NumberAssigned(Event):
    """On `series-<series>`: the next number went to this invoice. Version = number."""

    event_type = "NumberAssigned"
    number: str


class BillingAssigned(Event):
    """On `billing-<key>`: this invoice bills the debtor for the period."""

    event_type = "BillingAssigned"
    number: str


class BillingReleased(Event):
    """On `billing-<key>`: the invoice was cancelled; the period may be billed again."""

    event_type = "BillingReleased"
    number: str
    credit_note: str
