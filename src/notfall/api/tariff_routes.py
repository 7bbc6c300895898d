"""HTTP routes of the tariffs: the hourly price per tier, each valid from a day on.

Prices are only added going forward (a new price ends the tier's earlier one the day
before), and never on or before a day an issued, not cancelled invoice priced with the tier
(422 naming the invoice): the history an invoice used is never rewritten. GET reads the
`tariffs` stream itself, so a price set a moment ago is seen at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body

from notfall.api.request import command_meta
from notfall.app.tariffs import TariffRegister
from notfall.domain.tariffs import TariffIn


def register(app: APIGatewayRestResolver, tariffs: TariffRegister) -> None:
    @app.post(
        "/tariffs",
        tags=["billing"],
        summary="Set a tier's hourly price from a day on (after its latest price and its last invoiced day)",
        status_code=201,
    )
    def set_tariff(body: Annotated[TariffIn, Body()]) -> tuple[dict[str, Any], int]:
        return tariffs.set_tariff(body, command_meta(app)), 201

    @app.post(
        "/tariffs/published",
        tags=["billing"],
        summary="Record the service's published prices (5.00, 3.00, 2.00 EUR from 2015) unless present",
    )
    def publish() -> dict[str, Any]:
        return tariffs.publish_defaults(command_meta(app))

    @app.get("/tariffs", tags=["billing"], summary="Every price with its validity, and the prices valid today")
    def list_tariffs() -> dict[str, Any]:
        state, today, prices = tariffs.valid_today()
        current = {tier: price.model_dump(mode="json") if price else None for tier, price in prices.items()}
        return {
            "version": state.version,
            "today": today.isoformat(),
            "current": current,
            "prices": [p.model_dump(mode="json") for p in state.prices],
        }
