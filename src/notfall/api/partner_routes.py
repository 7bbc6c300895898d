"""HTTP routes of the partner register: partner companies and partner municipalities."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from notfall.api.request import command_meta
from notfall.app.partners import Partners
from notfall.domain.errors import NotFound
from notfall.domain.partners import PartnerIn
from notfall.projection.partner_rows import partner_pk
from notfall.projection.readmodel import STATE_SK, ReadModel


def register(app: APIGatewayRestResolver, partners: Partners, readmodel: ReadModel) -> None:
    @app.post("/partners", tags=["partners"], summary="Register a partner company or municipality")
    def register_partner(body: Annotated[PartnerIn, Body()]) -> tuple[dict[str, Any], int]:
        return partners.register(body, command_meta(app, "staff")), 201

    @app.get("/partners", tags=["partners"], summary="Partner companies and municipalities")
    def list_partners(
        kind: Annotated[str | None, Query(pattern="^(company|municipality)$")] = None,
    ) -> dict[str, Any]:
        rows = readmodel.query("partners", f"{kind}#" if kind else "")
        return {"partners": [{k: v for k, v in r.items() if k not in ("pk", "sk")} for r in rows]}

    @app.get("/partners/<partner_id>", tags=["partners"], summary="One partner as registered")
    def get_partner(partner_id: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")]) -> dict[str, Any]:
        row = readmodel.get(partner_pk(partner_id), STATE_SK)
        if row is None:
            raise NotFound(f"unknown partner {partner_id}", field="partner_id")
        return row["partner"]
