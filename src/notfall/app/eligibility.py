"""Eligibility at intake: who is entitled to care, and at which price tier.

The partner register is read from the read model's partner list (one Query; each row holds
the partner's whole state with its contracts), so recording a care need loads no partner
streams. A contract signed seconds ago may not be seen yet; the assessment records its basis
in words with the case, and the invoice uses the tier recorded there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from notfall.domain.eligibility import Assessment, EligibilityRules, assess
from notfall.domain.events import Need
from notfall.domain.partners import PartnerState
from notfall.projection.partner_rows import PARTNERS_PK
from notfall.projection.readmodel import ReadModel


def load_partners(readmodel: ReadModel) -> list[PartnerState]:
    """Every partner with its contracts, from the partner list rows."""
    return [PartnerState.model_validate(row["state"]) for row in readmodel.query(PARTNERS_PK) if "state" in row]


def assessor(readmodel: ReadModel, rules: EligibilityRules) -> Callable[[Need, date], Assessment]:
    """For `Intake(assess=...)`: assesses a need for the Berlin day its care starts."""

    def assess_need(need: Need, day: date) -> Assessment:
        return assess(need, day, load_partners(readmodel), rules)

    return assess_need
