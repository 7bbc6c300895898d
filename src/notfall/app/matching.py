"""Matching as staff see it: who can take a case's need, best first, and why (not).

Reads the read model only (one GetItem for the case, one Query for the register), so the
hotline can look as often as it likes without loading streams. The list is advice: the
command that offers or assigns re-checks every hard rule against the caregiver's stream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from notfall.domain.care import CareRules
from notfall.domain.caregiver import CaregiverState
from notfall.domain.case import CaseState
from notfall.domain.errors import DomainError, NotFound
from notfall.domain.hours import as_hours
from notfall.domain.matching import Ranking, needed_groups, rank
from notfall.projection.caregiver_rows import CAREGIVERS_PK
from notfall.projection.case_rows import case_pk
from notfall.projection.readmodel import STATE_SK, ReadModel


def load_case(readmodel: ReadModel, case_id: str) -> CaseState:
    row = readmodel.get(case_pk(case_id), STATE_SK)
    if row is None:
        raise NotFound(f"unknown case {case_id}", field="case_id")
    return CaseState.model_validate(row["case"])


def load_caregivers(readmodel: ReadModel) -> list[CaregiverState]:
    return [CaregiverState.model_validate(row["caregiver"]) for row in readmodel.query(CAREGIVERS_PK)]


def _ranking(case: CaseState, caregivers: list[CaregiverState], rules: CareRules) -> Ranking:
    assert case.need is not None
    return rank(case.need, case.family_id, caregivers, rules.clearance)


def candidates(readmodel: ReadModel, case_id: str, rules: CareRules) -> dict[str, Any]:
    """Who can take the case's need (ranked, with points) and who cannot (with reasons)."""
    case = load_case(readmodel, case_id)
    if case.status != "emergency" or case.need is None:
        raise DomainError("only an emergency (a concrete care need) gets caregivers", field="case_id")
    ranking = _ranking(case, load_caregivers(readmodel), rules)
    current = case.active_assignment
    return {
        "case_id": case.case_id,
        "version": case.version,
        "window": case.need.window.model_dump(mode="json"),
        "municipality": case.need.municipality,
        "age_groups": [g.value for g in needed_groups(case.need)],
        # The assigned caregiver shows up as rejected ("already booked" - by this very case).
        "assigned_caregiver_id": current.caregiver_id if current else None,
        "candidates": [
            {
                "caregiver_id": c.caregiver_id,
                "name": c.name,
                "score": c.score,
                "passed": c.passed,
                "preferences": [{"name": p.name, "points": p.points, "why": p.why} for p in c.preferences],
                "recent_minutes": c.recent_minutes,
                "recent_hours": as_hours(c.recent_minutes),
            }
            for c in ranking.candidates
        ],
        "rejected": [
            {"caregiver_id": r.caregiver_id, "name": r.name, "failed": r.failed, "reasons": r.reasons}
            for r in ranking.rejected
        ],
        "why_none": ranking.why_none,
    }


def _offer_summary(case: CaseState) -> str:
    """How the offers went: "2 offers declined, 1 timed out, none accepted"."""
    counts: Counter[str] = Counter(o.status for o in case.offers)
    words = {
        "accepted": "accepted",
        "declined": "declined",
        "timed_out": "timed out",
        "withdrawn": "withdrawn",
        "open": "still open",
    }
    parts = [(counts[s], w) for s, w in words.items() if counts[s]]
    dropped = any(not a.active for a in case.assignments)
    lead = ["the assigned caregiver dropped out"] if dropped else []
    if not parts:
        return "; ".join([*lead, "no offer was made"])
    # the noun once, after the first number
    (n, word), *rest = parts
    said = [f"{n} {'offer' if n == 1 else 'offers'} {word}", *(f"{m} {w}" for m, w in rest)]
    if not counts["accepted"]:
        said.append("none accepted")
    return "; ".join([*lead, ", ".join(said)])


def reason_for(readmodel: ReadModel, rules: CareRules) -> Callable[[CaseState], str]:
    """Why a need is still unfilled, in words, for the sweep's NeedUnfilled event.

    The register is read once per sweep (on first use), not once per case.
    """
    register: list[CaregiverState] | None = None

    def reason(case: CaseState) -> str:
        nonlocal register
        if case.need is None:
            return "the need is not clarified"
        if register is None:
            register = load_caregivers(readmodel)
        ranking = _ranking(case, register, rules)
        if ranking.why_none:
            return ranking.why_none
        n = len(ranking.candidates)
        who = "1 caregiver could take it" if n == 1 else f"{n} caregivers could take it"
        return f"{who}; {_offer_summary(case)}"

    return reason
