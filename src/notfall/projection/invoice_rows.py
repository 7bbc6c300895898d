"""The read-model rows of invoices, credit notes and families' billing addresses: pure
functions of the states folded from `invoice-<number>` and `family-<family_id>` streams.

Rows (pk, sk) of an invoice stream (an invoice or a credit note):
- invoice#<number> / state                 the InvoiceIssued event as JSON (`invoice`), and
                                           `status`, `cancelled_by`, `paid_cents`,
                                           `open_cents`, `payments`
- debtor#<debtor_id> / invoice#<number>    the debtor's open items and history (listing fields)
- invoices#<YYYY-MM> / <number>            everything issued in a month (of the issue date)
- priced#<tier> / <YYYY-MM-DD>#<number>    an invoice, not cancelled, that priced care of the
                                           tier: its latest such Berlin day. The partition's
                                           last row is the latest invoiced day of the tier, which
                                           a new price must start after (`app.tariffs`).

Listing fields: number, kind (invoice | credit_note), series, debtor_id, debtor_kind,
debtor_name, issue_date, due_date, period (the billed period: YYYY-MM or YYYY), period_start,
period_end, total_cents, paid_cents, open_cents, status (open | paid | cancelled |
credit_note), cancels, cancelled_by, billing_key.

Rows of a family stream:
- family-billing#<family_id> / state       the family's billing address (`address`)

(Not `family#<id>`: that partition holds the family's hour rows, which the hours route reads
whole.) Series (`series-…`) and billing-key (`billing-…`) streams have no rows: they are
bookkeeping of the issue, shown through the invoices they number.
"""

from __future__ import annotations

from typing import Any

from notfall.domain.families import FamilyState
from notfall.domain.invoicing import InvoiceState
from notfall.projection.readmodel import STATE_SK


def invoice_pk(number: str) -> str:
    return f"invoice#{number}"


def debtor_pk(debtor_id: str) -> str:
    return f"debtor#{debtor_id}"


def issued_pk(month: str) -> str:
    return f"invoices#{month}"


def priced_pk(tier: str) -> str:
    return f"priced#{tier}"


def family_billing_pk(family_id: str) -> str:
    return f"family-billing#{family_id}"


def status(state: InvoiceState) -> str:
    if state.invoice.kind == "credit_note":
        return "credit_note"
    if state.cancelled_by:
        return "cancelled"
    return "paid" if state.open_cents <= 0 else "open"


def listing(state: InvoiceState) -> dict[str, Any]:
    """What a list of invoices shows per invoice."""
    inv = state.invoice
    return {
        "number": inv.number,
        "kind": inv.kind,
        "series": inv.series,
        "debtor_id": inv.debtor.debtor_id,
        "debtor_kind": inv.debtor.kind,
        "debtor_name": inv.debtor.address.name,
        "issue_date": inv.issue_date.isoformat(),
        "due_date": inv.due_date.isoformat(),
        "period": inv.billing_key.rsplit(":", 1)[-1],
        "period_start": inv.period_start.isoformat(),
        "period_end": inv.period_end.isoformat(),
        "total_cents": inv.total_cents,
        "paid_cents": state.paid_cents,
        "open_cents": state.open_cents,
        "status": status(state),
        "cancels": inv.cancels,
        "cancelled_by": state.cancelled_by,
        "billing_key": inv.billing_key,
    }


def priced_rows(state: InvoiceState) -> list[dict[str, Any]]:
    """Per tier the invoice priced care with, its latest day; none once it is cancelled (the
    credit note releases its days) and none for a credit note."""
    inv = state.invoice
    if inv.kind != "invoice" or state.cancelled_by:
        return []
    latest: dict[str, str] = {}
    for line in inv.lines:
        if line.kind == "care" and line.tier and line.service_date:
            latest[line.tier] = max(latest.get(line.tier, ""), line.service_date.isoformat())
    return [
        {"pk": priced_pk(tier), "sk": f"{day}#{inv.number}", "tier": tier, "day": day, "number": inv.number}
        for tier, day in sorted(latest.items())
    ]


def invoice_rows(state: InvoiceState) -> list[dict[str, Any]]:
    """The state row first, then the debtor's and the month's listing rows, then the tiers' priced days."""
    inv = state.invoice
    item = listing(state)
    return [
        {
            "pk": invoice_pk(inv.number),
            "sk": STATE_SK,
            "version": state.version,
            "invoice": inv.model_dump(mode="json"),
            "number": inv.number,
            "status": item["status"],
            "cancelled_by": state.cancelled_by,
            "paid_cents": state.paid_cents,
            "open_cents": state.open_cents,
            "payments": [p.model_dump(mode="json") for p in state.payments],
        },
        {"pk": debtor_pk(inv.debtor.debtor_id), "sk": f"invoice#{inv.number}", **item},
        {"pk": issued_pk(inv.issue_date.strftime("%Y-%m")), "sk": inv.number, **item},
        *priced_rows(state),
    ]


def family_rows(state: FamilyState) -> list[dict[str, Any]]:
    return [
        {
            "pk": family_billing_pk(state.family_id),
            "sk": STATE_SK,
            "version": state.version,
            "family_id": state.family_id,
            "address": state.address.model_dump(mode="json") if state.address else None,
        }
    ]
