"""The scheduled sweep over emergencies without a caregiver: time out unanswered offers and
flag needs still unfilled after the target time (with the reason, for the demand report).

The queue comes from the read model; each case is then loaded from its stream, so a stale
queue row costs a load, never a wrong event. Every append is idempotent (Care.sweep_case),
so an overlapping or repeated sweep records nothing twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from notfall.app.care import Care
from notfall.app.matching import reason_for
from notfall.domain.care import CareRules
from notfall.domain.errors import DomainError
from notfall.projection.readmodel import ReadModel

QUEUE = "unassigned"
MAX_CASES = 1000  # one Query page of the Queue index; older needs first, the rest next run

log = logging.getLogger(__name__)


def sweep(care: Care, readmodel: ReadModel, rules: CareRules, limit: int = MAX_CASES) -> dict[str, Any]:
    reason = reason_for(readmodel, rules)
    counts: Counter[str] = Counter()
    failed: list[str] = []
    for row in readmodel.queue(QUEUE, limit):
        case_id = row.get("case_id") or row["pk"].removeprefix("case#")
        counts["cases"] += 1
        try:
            done = care.sweep_case(case_id, reason)
        except DomainError as err:
            # A command changed the case meanwhile (version conflict): the next run sees it.
            log.warning("sweep skipped case %s: %s", case_id, err)
            failed.append(case_id)
            continue
        counts["offers_timed_out"] += "offers timed out" in done
        counts["unfilled"] += "need unfilled" in done
    return {
        "cases": counts["cases"],
        "cases_with_offers_timed_out": counts["offers_timed_out"],
        "needs_flagged_unfilled": counts["unfilled"],
        "failed": failed,
    }
