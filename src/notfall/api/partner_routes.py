"""HTTP routes of the partner register: partner companies and partner municipalities, their
framework contracts, their children up to age 10 per year (municipalities) and the details
their invoices need.

Each command changes the partner's stream in one conditional write, so two contracts of one
partner never overlap. Eligibility at intake reads the contracts from the partner list.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from notfall.api.request import command_meta
from notfall.app.partners import ChildCountIn, ContractEndIn, Partners
from notfall.domain.errors import NotFound
from notfall.domain.partners import BillingIn, ContractIn, PartnerIn
from notfall.projection.partner_rows import partner_pk
from notfall.projection.readmodel import STATE_SK, ReadModel

Slug = r"^[a-z0-9][a-z0-9-]{1,39}$"
PartnerId = Annotated[str, Path(pattern=Slug, description="partner id")]
ContractId = Annotated[str, Path(pattern=Slug, description="contract id")]
CREATED = 201


def register(app: APIGatewayRestResolver, partners: Partners, readmodel: ReadModel) -> None:
    def staff():
        return command_meta(app)

    @app.post("/partners", tags=["partners"], summary="Register a partner company or municipality", status_code=CREATED)
    def register_partner(body: Annotated[PartnerIn, Body()]) -> tuple[dict[str, Any], int]:
        return partners.register(body, staff()), CREATED

    @app.get("/partners", tags=["partners"], summary="Partner companies and municipalities")
    def list_partners(
        kind: Annotated[str | None, Query(pattern="^(company|municipality)$")] = None,
    ) -> dict[str, Any]:
        rows = readmodel.query("partners", f"{kind}#" if kind else "")
        # The row carries the whole state for eligibility; the list shows the registered fields.
        return {"partners": [{k: v for k, v in r.items() if k not in ("pk", "sk", "state")} for r in rows]}

    @app.get(
        "/partners/<partner_id>",
        tags=["partners"],
        summary="One partner: as registered, its contracts, child counts and billing details",
    )
    def get_partner(partner_id: PartnerId) -> dict[str, Any]:
        row = readmodel.get(partner_pk(partner_id), STATE_SK)
        if row is None:
            raise NotFound(f"unknown partner {partner_id}", field="partner_id")
        state = row.get("state") or {}
        return {
            **row["partner"],
            "version": row["version"],
            "contracts": state.get("contracts", []),
            "child_counts": state.get("child_counts", {}),
            "billing": state.get("billing"),
        }

    @app.post(
        "/partners/<partner_id>/contracts",
        tags=["partners"],
        summary="Sign a framework contract (companies: monthly or yearly_band; municipalities: per_child)",
        status_code=CREATED,
    )
    def sign_contract(partner_id: PartnerId, body: Annotated[ContractIn, Body()]) -> tuple[dict[str, Any], int]:
        return partners.contract(partner_id, body, staff()), CREATED

    @app.post(
        "/partners/<partner_id>/contracts/<contract_id>/end",
        tags=["partners"],
        summary="End a contract on a day (its last day)",
    )
    def end_contract(
        partner_id: PartnerId, contract_id: ContractId, body: Annotated[ContractEndIn, Body()]
    ) -> dict[str, Any]:
        return partners.end_contract(partner_id, contract_id, body.end, staff())

    @app.post(
        "/partners/<partner_id>/child-counts",
        tags=["partners"],
        summary="A municipality's children up to age 10 in a year (the basis of its yearly amount)",
        status_code=CREATED,
    )
    def child_count(partner_id: PartnerId, body: Annotated[ChildCountIn, Body()]) -> tuple[dict[str, Any], int]:
        return partners.child_count(partner_id, body.year, body.children_under_10, staff()), CREATED

    @app.put(
        "/partners/<partner_id>/billing",
        tags=["partners"],
        summary="The partner's invoice address, buyer reference (Leitweg-ID) and VAT id",
    )
    def billing(partner_id: PartnerId, body: Annotated[BillingIn, Body()]) -> dict[str, Any]:
        return partners.billing(partner_id, body, staff())
