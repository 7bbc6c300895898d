"""Partner companies ready for a monthly invoice run, for the invoice tests on moto."""

from __future__ import annotations

from notfall.app.partners import Partners
from notfall.domain.envelope import Metadata
from notfall.domain.partners import BillingIn, ContractIn, PartnerIn
from notfall.projection.projector import Projector
from notfall.store.base import iter_log


def meta(n: int) -> Metadata:
    return Metadata(command_id=f"setup-{n}", actor="staff", correlation_id=f"setup-{n}")


def monthly_companies(aws, partner_ids: list[str]) -> list[str]:
    """Partner companies with a monthly fee of 100 EUR from January 2026 and billing details, projected."""
    partners = Partners(aws.store())
    for n, partner_id in enumerate(partner_ids, start=1):
        partners.register(
            PartnerIn(
                partner_id=partner_id,
                kind="company",
                name=partner_id.upper(),
                municipality="hannover",
                joined_on="2026-01-01",
                employees=10,
            ),
            meta(n * 10),
        )
        partners.contract(
            partner_id,
            ContractIn(
                contract_id=f"rv-{partner_id}", fee_model="monthly", start="2026-01-01", monthly_fee_cents=10_000
            ),
            meta(n * 10 + 1),
        )
        address = {"name": partner_id.upper(), "street": "Lister Meile 12", "postcode": "30161", "city": "Hannover"}
        partners.billing(partner_id, BillingIn(address=address), meta(n * 10 + 2))
    project(aws)
    return partner_ids


def project(aws) -> None:
    projector = Projector(aws.store(), aws.readmodel())
    for env in iter_log(aws.store()):
        projector.project(env.stream_id, env.version)
