"""The read-model rows of one case: a pure function of the case state.

Rows (pk, sk):
- case#<id> / state                 the whole case, for GET /cases/{id}
- case#<id> / queue#open            while not closed; indexed by the Queue index
- case#<id> / queue#callback        while a voicemail waits for a callback
- month#<YYYY-MM> / case#<id>       the case's hours in that Berlin month
- family#<fid> / month#<YYYY-MM>#case#<id>   the same, under the family

Hours are the requested care time of the clarified need (the window) and the cared time,
which care sessions add later. Summing rows gives hours per month and per family.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notfall.domain.case import CaseState
from notfall.domain.events import Outcome
from notfall.domain.hours import minutes_by_month
from notfall.projection.readmodel import STATE_SK

QUEUE_INDEX = "Queue"


def _sortable(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # UTC, fixed width: sorts as the instants do


def case_pk(case_id: str) -> str:
    return f"case#{case_id}"


def summary(state: CaseState) -> dict[str, Any]:
    """What a queue shows per case (timestamps as in the case itself)."""
    case = state.model_dump(mode="json", include={"case_id", "status", "opened_at", "last_activity_at",
                                                  "caller_number", "callback_pending_since"})
    need = state.need.model_dump(mode="json") if state.need else None
    return {**case, "municipality": need["municipality"] if need else None,
            "care_start": need["window"]["start"] if need else None}


def requested_minutes(state: CaseState) -> dict[str, int]:
    """Care time asked for, per Berlin month; only a concrete care need asks for any."""
    if state.need is None or state.outcome != Outcome.CARE_NEED:
        return {}
    return dict(sorted(minutes_by_month(state.need.window.start, state.need.window.expected_end).items()))


def hour_rows(state: CaseState) -> list[dict[str, Any]]:
    rows = []
    for month, minutes in requested_minutes(state).items():
        values = {"case_id": state.case_id, "family_id": state.family_id, "month": month,
                  "requested_minutes": minutes, "cared_minutes": 0}
        rows.append({"pk": f"month#{month}", "sk": f"case#{state.case_id}", **values})
        rows.append({"pk": f"family#{state.family_id}", "sk": f"month#{month}#case#{state.case_id}", **values})
    return rows


def case_rows(state: CaseState) -> list[dict[str, Any]]:
    """Every row the case contributes; the first is the state row."""
    pk = case_pk(state.case_id)
    rows: list[dict[str, Any]] = [
        {"pk": pk, "sk": STATE_SK, "version": state.version, "case": state.model_dump(mode="json"),
         "hours": {"requested_minutes_by_month": requested_minutes(state), "cared_minutes_by_month": {}}}
    ]
    if not state.is_closed:
        rows.append({"pk": pk, "sk": "queue#open", "queue": "open",
                     "queue_at": f"{_sortable(state.opened_at)}#{state.case_id}", **summary(state)})
    if state.callback_pending_since is not None:
        rows.append({"pk": pk, "sk": "queue#callback", "queue": "callback",
                     "queue_at": f"{_sortable(state.callback_pending_since)}#{state.case_id}", **summary(state)})
    rows.extend(hour_rows(state))
    return rows
