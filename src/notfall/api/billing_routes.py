"""HTTP routes of invoicing: an invoice run triggered by staff (the same code the schedules
run), the invoices issued, credit notes, payments, document links and a debtor's open items.

Runs, credit notes and payments decide from the event store; the lists read the invoice
rows of the read model, which follow each command within a moment.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import Field

from notfall.api.request import command_meta
from notfall.app.invoicing import URL_SECONDS, Invoicing
from notfall.domain.events import Value
from notfall.domain.inputs import Text
from notfall.domain.invoicing import CancelIn, PaymentIn

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
Number = Annotated[str, Path(pattern=r"^[A-Z]-\d{4}-\d{5,9}$", description="invoice or credit note number")]
DebtorId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,59}$", description="family id or partner id")]
CREATED = 201


class RunIn(Value):
    """An invoice run: the kind of debtor and the period that has ended."""

    kind: Literal["family", "partner-monthly", "partner-yearly"]
    period: Text = Field(
        pattern=r"^\d{4}(-(0[1-9]|1[0-2]))?$",
        description="YYYY-MM for family and partner-monthly, YYYY for partner-yearly",
    )


def register(app: APIGatewayRestResolver, invoicing: Invoicing) -> None:
    def staff():
        return command_meta(app)

    @app.post(
        "/invoice-runs",
        tags=["billing"],
        summary="Run the invoicing of an ended period now: what was issued, already billed, refused and why",
    )
    def run(body: Annotated[RunIn, Body()]) -> dict[str, Any]:
        return invoicing.run(body.kind, body.period, staff())

    @app.get("/invoices", tags=["billing"], summary="Invoices and credit notes issued in a month, by number")
    def issued(month: Annotated[str, Query(pattern=MONTH, description="issue month YYYY-MM")]) -> dict[str, Any]:
        return {"month": month, "invoices": invoicing.issued_in(month)}

    @app.get(
        "/invoices/<number>",
        tags=["billing"],
        summary="An invoice or credit note as issued, with status, payments and the open amount",
    )
    def get_invoice(number: Number) -> dict[str, Any]:
        return invoicing.invoice(number)

    @app.post(
        "/invoices/<number>/cancel",
        tags=["billing"],
        summary="Cancel an unpaid invoice by a credit note; the next run bills its period again",
        status_code=CREATED,
    )
    def cancel(number: Number, body: Annotated[CancelIn, Body()]) -> tuple[dict[str, Any], int]:
        return invoicing.cancel(number, body, staff()), CREATED

    @app.post(
        "/invoices/<number>/payments",
        tags=["billing"],
        summary="Record a payment (at most the open amount)",
        status_code=CREATED,
    )
    def pay(number: Number, body: Annotated[PaymentIn, Body()]) -> tuple[dict[str, Any], int]:
        return invoicing.pay(number, body, staff()), CREATED

    @app.get(
        "/invoices/<number>/documents",
        tags=["billing"],
        summary="Links to the PDF and (companies, municipalities) the EN 16931 XML, valid 5 minutes",
    )
    def documents(number: Number) -> dict[str, Any]:
        return {"number": number, **invoicing.documents(number), "expires_in": URL_SECONDS}

    @app.get(
        "/debtors/<debtor_id>/open-items",
        tags=["billing"],
        summary="A family's or partner's open invoices and its total open amount",
    )
    def open_items(debtor_id: DebtorId) -> dict[str, Any]:
        items = [i for i in invoicing.of_debtor(debtor_id) if i["status"] == "open"]
        return {"debtor_id": debtor_id, "open_cents": sum(int(i["open_cents"]) for i in items), "items": items}
