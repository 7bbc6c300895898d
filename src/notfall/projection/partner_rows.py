"""The read-model rows of one partner: its state row, and its line in the partner list.

Rows (pk, sk):
- partner#<id> / state              the partner as registered (`partner`) and its whole state
                                    (`state`: contracts, child counts, billing details)
- partners / <kind>#<id>            the partner's line in the list: the registered fields at the
                                    top level, and the whole state under `state` (so eligibility
                                    reads every partner with its contracts in one Query)
"""

from __future__ import annotations

from typing import Any

from notfall.domain.partners import PartnerState
from notfall.projection.readmodel import STATE_SK

PARTNERS_PK = "partners"


def partner_pk(partner_id: str) -> str:
    return f"partner#{partner_id}"


def partner_rows(state: PartnerState) -> list[dict[str, Any]]:
    p = state.partner
    body = p.model_dump(mode="json")
    full = state.model_dump(mode="json")
    return [
        {"pk": partner_pk(p.partner_id), "sk": STATE_SK, "version": state.version, "partner": body, "state": full},
        {"pk": PARTNERS_PK, "sk": f"{p.kind}#{p.partner_id}", **body, "state": full},
    ]
