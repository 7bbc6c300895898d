"""The read-model rows of one caregiver stream: a pure function of the caregiver state.

Rows (pk, sk):
- caregiver#<id> / state        the whole caregiver, with derived figures
- caregivers / <id>             the caregiver in the register list: the same full state (so
                                matching reads every caregiver with one Query) plus summary
                                fields for a list view

The partition caregiver#<id> also holds rows that *case* streams contribute (offers,
assignments, expenses per month; see case_rows.py). Their sort keys never equal "state", so
the two streams' row sets do not overlap and each is replaced on its own.
"""

from __future__ import annotations

from typing import Any

from notfall.domain.caregiver import CaregiverState
from notfall.projection.readmodel import STATE_SK

CAREGIVERS_PK = "caregivers"


def caregiver_pk(caregiver_id: str) -> str:
    return f"caregiver#{caregiver_id}"


def caregiver_rows(state: CaregiverState) -> list[dict[str, Any]]:
    """The state row first, then the caregiver's line in the register list."""
    body = state.model_dump(mode="json")
    profile = state.profile
    return [
        {
            "pk": caregiver_pk(state.caregiver_id),
            "sk": STATE_SK,
            "version": state.version,
            "caregiver": body,
            "training_days": str(state.training_days),
            "families_known": len(state.families),
        },
        {
            "pk": CAREGIVERS_PK,
            "sk": state.caregiver_id,
            "caregiver_id": state.caregiver_id,
            "caregiver": body,
            "name": profile.name,
            "status": state.status,
            "qualification": profile.qualification.value,
            "age_groups": [g.value for g in profile.age_groups],
            "home_municipality": profile.home_municipality,
            "municipalities_served": list(profile.municipalities_served),
        },
    ]
