"""HTTP route of a family as a debtor: the address its invoices go to.

A family is known by the id its first case gave it (`fam-<hash>`, shown on the case). A new
address applies to invoices issued from then on; issued invoices keep the one they carry.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from notfall.api.request import command_meta
from notfall.app.families import Families
from notfall.domain.invoice_events import Address

FamilyId = Annotated[str, Path(pattern=r"^fam-[0-9a-z][0-9a-z-]{0,39}$", description="family id, as on the case")]


def register(app: APIGatewayRestResolver, families: Families) -> None:
    @app.put(
        "/families/<family_id>/billing-address", tags=["billing"], summary="Set the address the family's invoices go to"
    )
    def billing_address(family_id: FamilyId, body: Annotated[Address, Body()]) -> dict[str, Any]:
        return families.billing(family_id, body, command_meta(app))
