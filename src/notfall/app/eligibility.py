"""Eligibility: who is entitled to care, and at which price tier, from the partner register.

At intake the register is read from the read model's partner list (one Query; each row holds
the partner's whole state with its contracts), so recording a care need loads no partner
streams; a contract signed seconds ago may not be seen yet. The invoice run decides each
session's tier again from the partner streams themselves (`partners_from_streams`), so a
contract end recorded after the care still counts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from notfall.domain.eligibility import Assessment, EligibilityRules, assess
from notfall.domain.events import Need
from notfall.domain.partners import PartnerState, fold_partner, partner_stream
from notfall.projection.partner_rows import PARTNERS_PK
from notfall.projection.readmodel import ReadModel
from notfall.store.base import EventStore


def load_partners(readmodel: ReadModel) -> list[PartnerState]:
    """Every partner with its contracts, from the partner list rows."""
    return [PartnerState.model_validate(row["state"]) for row in readmodel.query(PARTNERS_PK) if "state" in row]


def partners_from_streams(store: EventStore, readmodel: ReadModel) -> list[PartnerState]:
    """Every partner of the register (ids from the partner list), each folded from its stream."""
    ids = sorted({row["partner_id"] for row in readmodel.query(PARTNERS_PK)})
    states = (fold_partner(store.load(partner_stream(partner_id))) for partner_id in ids)
    return [state for state in states if state is not None]


def assessor(readmodel: ReadModel, rules: EligibilityRules) -> Callable[[Need, date], Assessment]:
    """For `Intake(assess=...)`: assesses a need for the Berlin day its care starts."""

    def assess_need(need: Need, day: date) -> Assessment:
        return assess(need, day, load_partners(readmodel), rules)

    return assess_need
