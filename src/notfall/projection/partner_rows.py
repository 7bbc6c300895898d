"""The read-model rows of one partner: its state row, and its line in the partner list."""

from __future__ import annotations

from typing import Any

from notfall.domain.partners import PartnerState
from notfall.projection.readmodel import STATE_SK


def partner_pk(partner_id: str) -> str:
    return f"partner#{partner_id}"


def partner_rows(state: PartnerState) -> list[dict[str, Any]]:
    p = state.partner
    body = p.model_dump(mode="json")
    return [
        {"pk": partner_pk(p.partner_id), "sk": STATE_SK, "version": state.version, "partner": body},
        {"pk": "partners", "sk": f"{p.kind}#{p.partner_id}", **body},
    ]
