"""Matching: which caregivers can take a care need, best first, and why.

Hard rules decide who can take it at all; soft preferences order those who can. The order is
deterministic: score, then less recent work, then caregiver id. Every candidate carries the
rules it passed and the points it scored; every caregiver left out carries the rules it
failed, so a need nobody can meet says why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from notfall.domain.caregiver import (
    AgeGroup,
    CaregiverState,
    ClearanceRules,
    age_group,
    clearance_problems,
    covers,
    is_available,
    overlapping,
)
from notfall.domain.events import Need
from notfall.domain.hours import BERLIN

FAIR_SPREAD_DAYS = 30  # work booked in this many days before the care counts against the caregiver
FAIR_SPREAD_STEP_HOURS = 8  # every full 8 booked hours cost one of the two fair-spread points
POINTS_MUNICIPALITY = 3
POINTS_KNOWN = 2
POINTS_FAIR_MAX = 2


@dataclass(frozen=True)
class Preference:
    name: str
    points: int
    why: str


@dataclass(frozen=True)
class Candidate:
    caregiver_id: str
    name: str
    score: int
    passed: list[str]
    preferences: list[Preference]
    recent_minutes: int


@dataclass(frozen=True)
class Rejection:
    caregiver_id: str
    name: str
    failed: list[str]  # rule names
    reasons: list[str]  # in words


@dataclass
class Ranking:
    candidates: list[Candidate] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def why_none(self) -> str | None:
        """A summary when nobody can take the need, naming how many failed which rule."""
        if self.candidates:
            return None
        if not self.rejected:
            return "no caregivers are registered"
        counts = Counter(rule for r in self.rejected for rule in r.failed)
        parts = [f"{n} {RULE_WORDS[rule]}" for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        who = "the only caregiver cannot" if len(self.rejected) == 1 else f"none of {len(self.rejected)} caregivers can"
        return f"{who} take this need: " + "; ".join(parts)


RULE_WORDS = {
    "active": "not active",
    "qualified": "not qualified for the persons cared for",
    "available": "not available for the whole window",
    "free": "already booked at that time",
    "clearance": "with an expired police clearance or first-aid course",
}


def needed_groups(need: Need) -> list[AgeGroup]:
    return sorted({age_group(p.kind, p.age) for p in need.persons})


def _hard_rules(
    c: CaregiverState, need: Need, rules: ClearanceRules, ignore_assignment: str | None
) -> tuple[list[str], list[str], list[str]]:
    """(passed, failed, reasons) of every hard rule, in a fixed order."""
    start, end = need.window.start, need.window.expected_end
    passed: list[str] = []
    failed: list[str] = []
    reasons: list[str] = []

    def check(rule: str, ok: bool, reason: str) -> None:
        (passed if ok else failed).append(rule)
        if not ok:
            reasons.append(reason)

    check("active", c.status == "active", f"status is {c.status}")
    groups = needed_groups(need)
    missing = [g.value for g in groups if g not in c.profile.age_groups or not covers(c.profile.qualification, g)]
    check("qualified", not missing, f"does not care for {', '.join(missing)}")
    check("available", is_available(c, start, end), "not available for the whole window")
    clash = [b for b in overlapping(c, start, end) if b.assignment_id != ignore_assignment]
    check("free", not clash, "booked for case " + ", ".join(b.case_id for b in clash))
    # Certificates are valid for Berlin calendar days; the window is stored in UTC.
    first_day, last_day = start.astimezone(BERLIN).date(), end.astimezone(BERLIN).date()
    problems = clearance_problems(c, first_day, rules) + (
        clearance_problems(c, last_day, rules) if last_day != first_day else []
    )
    check("clearance", not problems, "; ".join(dict.fromkeys(problems)))
    return passed, failed, reasons


def _recent_minutes(c: CaregiverState, before: datetime) -> int:
    since = before - timedelta(days=FAIR_SPREAD_DAYS)
    total = 0
    for b in c.active_bookings:
        begin, finish = max(b.start, since), min(b.end, before)
        if finish > begin:
            total += int((finish - begin).total_seconds() // 60)
    return total


def _preferences(c: CaregiverState, need: Need, family_id: str, recent: int) -> list[Preference]:
    prefs = []
    municipality = need.municipality
    if municipality in c.profile.municipalities_served or municipality == c.profile.home_municipality:
        prefs.append(Preference("serves_municipality", POINTS_MUNICIPALITY, f"serves {municipality}"))
    else:
        prefs.append(Preference("serves_municipality", 0, f"does not usually serve {municipality}"))
    known = family_id in c.families
    prefs.append(
        Preference(
            "known_to_family",
            POINTS_KNOWN if known else 0,
            "has cared for this family before" if known else "new to this family",
        )
    )
    fair = max(0, POINTS_FAIR_MAX - recent // (FAIR_SPREAD_STEP_HOURS * 60))
    prefs.append(
        Preference("fair_spread", fair, f"{recent / 60:.1f} hours booked in the {FAIR_SPREAD_DAYS} days before")
    )
    return prefs


def rank(
    need: Need,
    family_id: str,
    caregivers: list[CaregiverState],
    rules: ClearanceRules,
    ignore_assignment: str | None = None,
) -> Ranking:
    """Who can take `need`, best first. `ignore_assignment`: the booking being replaced."""
    ranking = Ranking()
    for c in caregivers:
        passed, failed, reasons = _hard_rules(c, need, rules, ignore_assignment)
        if failed:
            ranking.rejected.append(Rejection(c.caregiver_id, c.profile.name, failed, reasons))
            continue
        recent = _recent_minutes(c, need.window.start)
        prefs = _preferences(c, need, family_id, recent)
        ranking.candidates.append(
            Candidate(c.caregiver_id, c.profile.name, sum(p.points for p in prefs), passed, prefs, recent)
        )
    ranking.candidates.sort(key=lambda x: (-x.score, x.recent_minutes, x.caregiver_id))
    ranking.rejected.sort(key=lambda x: x.caregiver_id)
    return ranking


def hard_rule_failures(
    c: CaregiverState, need: Need, rules: ClearanceRules, ignore_assignment: str | None = None
) -> list[str]:
    """The reasons one caregiver cannot take the need (empty: they can)."""
    return _hard_rules(c, need, rules, ignore_assignment)[2]
