"""HTTP routes of a family as a debtor and as an employee: the address its invoices go to,
and the payroll consent (section 3 no. 34a EStG) the hotline records at intake.

A family is known by the id its first case gave it (`fam-<hash>`, shown on the case). A new
address applies to invoices issued from then on; issued invoices keep the one they carry.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from notfall.api.request import command_meta
from notfall.app.families import Families
from notfall.domain.events import Value
from notfall.domain.invoice_events import Address


class PayrollConsentIn(Value):
    """Whether the employee agrees that the partner's statement lists their care costs under a
    pseudonymous reference (section 3 no. 34a EStG); false withdraws an earlier consent."""

    consent: bool


CaseId = Annotated[str, Path(pattern=r"^[0-9a-z-]{1,40}$", description="case id")]
FamilyId = Annotated[str, Path(pattern=r"^fam-[0-9a-z][0-9a-z-]{0,39}$", description="family id, as on the case")]


def register(app: APIGatewayRestResolver, families: Families) -> None:
    @app.put(
        "/families/<family_id>/billing-address", tags=["billing"], summary="Set the address the family's invoices go to"
    )
    def billing_address(family_id: FamilyId, body: Annotated[Address, Body()]) -> dict[str, Any]:
        return families.billing(family_id, body, command_meta(app))

    @app.post(
        "/cases/<case_id>/payroll-consent",
        tags=["hotline"],
        summary="Record the family's consent to the 34a listing on its employer's statement (or withdraw it)",
    )
    def payroll_consent(case_id: CaseId, body: Annotated[PayrollConsentIn, Body()]) -> dict[str, Any]:
        return families.payroll_consent(case_id, body.consent, command_meta(app))
