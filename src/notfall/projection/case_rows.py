"""The read-model rows of one case: a pure function of the case state.

Rows (pk, sk):
- case#<id> / state                 the whole case, for GET /cases/{id}
- case#<id> / queue#open            while not closed; indexed by the Queue index
- case#<id> / queue#callback        while a voicemail waits for a callback
- case#<id> / queue#unassigned      while an emergency has no active caregiver (the sweep's queue)
- month#<YYYY-MM> / case#<id>       the case's hours in that Berlin month
- family#<fid> / month#<YYYY-MM>#case#<id>   the same, under the family
- caregiver#<cid> / month#<YYYY-MM>#case#<id>           a caregiver's care and expenses that month
- caregiver#<cid> / offer#<case_id>#<offer_id>          an offer made to the caregiver
- caregiver#<cid> / assignment#<case_id>#<assignment_id> an assignment of the caregiver
- demand#<YYYY-MM> / case#<id>      an emergency, in the Berlin month its care need was recorded; or a
                                    case whose care was refused (not entitled) and that never became
                                    an emergency, in the Berlin month of its first refusal
- transport#<YYYY-MM> / case#<id>#<transport_id>        a transport service, in the month of its trip
- cases#<YYYY-MM> / case#<id>, places / <municipality>#case#<id>   the case's events by month, for
                                    the statistics report and the statements (notfall.projection.case_log)

Hours are the requested care time of the clarified need (the window) and the cared time of
the care sessions that have ended and were not voided, both split at Berlin month ends
(calendar hours). Beside them, each hour row lists the whole minutes of every such session
that started in its month (`billable_session_minutes`), unrounded: the invoice bills a session
wholly in that month, rounded per session, and the rounding unit is a setting, so the hour
routes apply it when they report billed hours. Summing rows gives hours per month and per
family. Transport services are a service of their own: they count in the transport
rows, never in the hours.

Every row is derived from the state alone; the projector replaces a stream's whole row set,
so a voided session or a withdrawn offer simply yields different rows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import TypeAdapter

from notfall.domain.care import CareRules
from notfall.domain.case import AssignmentView, CaseState, SessionView
from notfall.domain.events import Outcome
from notfall.domain.hours import BERLIN, minutes_by_month, month_of, whole_minutes
from notfall.domain.matching import needed_groups
from notfall.projection.readmodel import STATE_SK

QUEUE_INDEX = "Queue"

# The target time of the demand report's `within_target`: the default of CareRules (90
# minutes). The rows are a pure function of the log, so they use the default, not whatever
# a deployment configures; a report with another target recomputes it from
# `minutes_to_assignment`.
DEFAULT_TARGET_MINUTES = int(CareRules().target_time.total_seconds() // 60)

# Offers are the one kind of row that piles up when nobody answers at night: the caregiver
# partitions get the case's latest MAX_OFFER_ROWS offers, and any older offer still open.
MAX_OFFER_ROWS = 10

# Rows per case. The projector puts all of them and deletes the stale ones in ONE
# TransactWriteItems, which takes at most 100 items:
#   state, queue#open, queue#callback, queue#unassigned, demand        at most 5
#   month + family hour rows                                           2 per month M
#   caregiver month rows                                               1 per caregiver C and month
#   offer rows                                                         at most 10 (+ offers still open)
#   assignment rows                                                    1 per assignment A
#   transport rows                                                     1 per transport T
#   cases-by-month rows (case_log) and the place row                   1 per month the case touches, + 1
# A need window is at most 31 days, so it touches at most 3 Berlin months (M <= 3 while the
# sessions lie in the window). A heavy case - 3 months, 3 caregivers, 10 offers, 4
# assignments, 20 transports - has 5 + 6 + 9 + 10 + 4 + 20 + 4 = 58 rows, leaving room for
# as many stale deletes. The domain does not bound assignments or transports per case: some 40
# transports on one case would approach the limit (tests/domain/test_care_rows.py checks the
# heavy case).

_TIME = TypeAdapter(datetime)


def _sortable(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # UTC, fixed width: sorts as the instants do


def _iso(at: datetime | None) -> str | None:
    """A timestamp as the case JSON shows it (UTC, "Z")."""
    return None if at is None else _TIME.dump_python(at, mode="json")


def case_pk(case_id: str) -> str:
    return f"case#{case_id}"


def summary(state: CaseState) -> dict[str, Any]:
    """What a queue shows per case (timestamps as in the case itself)."""
    case = state.model_dump(
        mode="json",
        include={"case_id", "status", "opened_at", "last_activity_at", "caller_number", "callback_pending_since"},
    )
    need = state.need.model_dump(mode="json") if state.need else None
    return {
        **case,
        "municipality": need["municipality"] if need else None,
        "care_start": need["window"]["start"] if need else None,
    }


# --- hours ------------------------------------------------------------------------------


def requested_minutes(state: CaseState) -> dict[str, int]:
    """Care time asked for, per Berlin month; only a concrete care need asks for any."""
    if state.need is None or state.outcome != Outcome.CARE_NEED:
        return {}
    return dict(sorted(minutes_by_month(state.need.window.start, state.need.window.expected_end).items()))


def ended_sessions(state: CaseState) -> list[SessionView]:
    """Sessions that count: not voided, and checked out (or recorded whole)."""
    return [s for s in state.live_sessions if s.end is not None]


def cared_minutes(state: CaseState) -> dict[str, int]:
    """Care time given, per Berlin month; a session over a month's end is split there."""
    result: dict[str, int] = {}
    for session in ended_sessions(state):
        assert session.end is not None
        for month, minutes in minutes_by_month(session.start, session.end).items():
            result[month] = result.get(month, 0) + minutes
    return dict(sorted(result.items()))


def session_minutes_by_start_month(state: CaseState) -> dict[str, list[int]]:
    """The whole minutes of each session that counts, under the Berlin month it started: the
    month whose invoice bills it (`invoicing.family_draft`). Not rounded: that unit is a setting."""
    result: dict[str, list[int]] = {}
    for session in sorted(ended_sessions(state), key=lambda s: (s.start, s.session_id)):
        assert session.end is not None
        result.setdefault(month_of(session.start), []).append(whole_minutes(session.start, session.end))
    return dict(sorted(result.items()))


def hour_rows(state: CaseState) -> list[dict[str, Any]]:
    """Per month with requested or cared time, or a session started: a month row and a family row."""
    requested, cared = requested_minutes(state), cared_minutes(state)
    billable = session_minutes_by_start_month(state)
    rows = []
    for month in sorted(requested.keys() | cared.keys() | billable.keys()):
        values = {
            "case_id": state.case_id,
            "family_id": state.family_id,
            "month": month,
            "requested_minutes": requested.get(month, 0),
            "cared_minutes": cared.get(month, 0),
            "billable_session_minutes": billable.get(month, []),
        }
        rows.append({"pk": f"month#{month}", "sk": f"case#{state.case_id}", **values})
        rows.append({"pk": f"family#{state.family_id}", "sk": f"month#{month}#case#{state.case_id}", **values})
    return rows


# --- caregivers: care and expenses per month, offers, assignments ----------------------------


def travel_cents(km: Decimal, cents_per_km: int) -> int:
    """Travel expenses of one session: km times the rate, rounded half up to a whole cent."""
    return int((km * cents_per_km).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def caregiver_month_rows(state: CaseState) -> list[dict[str, Any]]:
    """Per caregiver and Berlin month: cared time, sessions, travel and allowance of this case.

    - cared_minutes: the sessions' time in the month (a session over a month's end is split).
    - sessions, travel_km, travel_cents: the sessions that *started* in the month; a session's
      travel counts once, in that month. travel_cents sums per session km x the rate of the
      session's assignment, each rounded half up to a cent.
    - allowance_cents: an assignment's allowance, once, in the month of its first ended and
      not voided session; an assignment without such a session earns none.
    Rates are those recorded with the assignment (CaregiverAssigned), never configuration.
    """
    by_id: dict[str, AssignmentView] = {a.assignment_id: a for a in state.assignments}
    order = {a.assignment_id: i for i, a in enumerate(state.assignments)}
    acc: dict[tuple[str, str], dict[str, Any]] = {}

    def entry(caregiver_id: str, month: str, assignment_id: str) -> dict[str, Any]:
        e = acc.setdefault(
            (caregiver_id, month),
            {
                "cared_minutes": 0,
                "sessions": 0,
                "travel_km": Decimal(0),
                "travel_cents": 0,
                "allowance_cents": 0,
                "assignment_ids": set(),
            },
        )
        e["assignment_ids"].add(assignment_id)
        return e

    sessions = sorted(ended_sessions(state), key=lambda s: (s.start, s.session_id))
    first_of: dict[str, SessionView] = {}
    for s in sessions:
        assert s.end is not None
        first_of.setdefault(s.assignment_id, s)
        for month, minutes in minutes_by_month(s.start, s.end).items():
            entry(s.caregiver_id, month, s.assignment_id)["cared_minutes"] += minutes
        e = entry(s.caregiver_id, month_of(s.start), s.assignment_id)
        e["sessions"] += 1
        e["travel_km"] += s.travel_km
        assignment = by_id.get(s.assignment_id)  # always there: a session needs its assignment
        e["travel_cents"] += travel_cents(s.travel_km, assignment.travel_cents_per_km if assignment else 0)
    for assignment_id, first in first_of.items():
        assignment = by_id.get(assignment_id)
        if assignment is not None:
            entry(assignment.caregiver_id, month_of(first.start), assignment_id)["allowance_cents"] += (
                assignment.allowance_cents
            )

    rows = []
    for (caregiver_id, month), e in sorted(acc.items()):
        rows.append(
            {
                "pk": f"caregiver#{caregiver_id}",
                "sk": f"month#{month}#case#{state.case_id}",
                "case_id": state.case_id,
                "family_id": state.family_id,
                "caregiver_id": caregiver_id,
                "month": month,
                "cared_minutes": e["cared_minutes"],
                "sessions": e["sessions"],
                "travel_km": str(e["travel_km"]),
                "travel_cents": e["travel_cents"],
                "allowance_cents": e["allowance_cents"],
                "assignment_ids": sorted(e["assignment_ids"], key=lambda a: (order.get(a, len(order)), a)),
            }
        )
    return rows


def _need_facts(state: CaseState) -> dict[str, Any]:
    need = state.need
    if need is None:
        return {"municipality": None, "age_groups": [], "location": None, "persons": [], "window": None}
    dumped = need.model_dump(mode="json")
    return {
        "municipality": need.municipality,
        "age_groups": [g.value for g in needed_groups(need)],
        "location": dumped["location"],
        "persons": dumped["persons"],
        "window": dumped["window"],
    }


def offer_rows(state: CaseState) -> list[dict[str, Any]]:
    """The case's latest MAX_OFFER_ROWS offers and any older one still open, under each caregiver."""
    facts = _need_facts(state)
    window = facts["window"] or {}
    latest = state.offers[-MAX_OFFER_ROWS:]
    shown = [o for o in state.offers[:-MAX_OFFER_ROWS] if o.status == "open"] + latest
    return [
        {
            "pk": f"caregiver#{o.caregiver_id}",
            "sk": f"offer#{state.case_id}#{o.offer_id}",
            "case_id": state.case_id,
            "offer_id": o.offer_id,
            "caregiver_id": o.caregiver_id,
            "status": o.status,
            "made_at": _iso(o.made_at),
            "expires_at": _iso(o.expires_at),
            "decided_at": _iso(o.decided_at),
            "window_start": window.get("start"),
            "window_end": window.get("expected_end"),
            "municipality": facts["municipality"],
            "age_groups": facts["age_groups"],
            "location_kind": facts["location"]["kind"] if facts["location"] else None,
        }
        for o in shown
    ]


def assignment_rows(state: CaseState) -> list[dict[str, Any]]:
    """Every assignment of the case, under its caregiver: where, whom, when, and whether it stands."""
    facts = _need_facts(state)
    return [
        {
            "pk": f"caregiver#{a.caregiver_id}",
            "sk": f"assignment#{state.case_id}#{a.assignment_id}",
            "case_id": state.case_id,
            "family_id": state.family_id,
            "assignment_id": a.assignment_id,
            "caregiver_id": a.caregiver_id,
            "start": _iso(a.start),
            "end": _iso(a.end),
            "assigned_at": _iso(a.assigned_at),
            "active": a.active,
            "cancelled_at": _iso(a.cancelled_at),
            "cancelled_by": a.cancelled_by,
            "replaces": a.replaces,
            "municipality": facts["municipality"],
            "location": facts["location"],
            "persons": facts["persons"],
        }
        for a in state.assignments
    ]


# --- demand, the unassigned queue, transport ----------------------------------------------


def minutes_to_assignment(state: CaseState) -> int | None:
    """Whole minutes from the recorded care need to the first assignment (None: none yet)."""
    first = state.first_assigned_at
    if state.need_at is None or first is None:
        return None
    return int((first - state.need_at).total_seconds() // 60)


def demand_row(state: CaseState) -> dict[str, Any] | None:
    """An emergency as the demand report counts it, in the Berlin month of its care need; a
    case refused care (and never an emergency) as demand not met, in the month it was refused."""
    refused = state.need_at is None and bool(state.refusals)
    at = state.refusals[0].refused_at if refused else state.need_at
    if at is None:
        return None
    local = at.astimezone(BERLIN)
    minutes = minutes_to_assignment(state)
    facts = _need_facts(state)
    return {
        "pk": f"demand#{month_of(at)}",
        "sk": f"case#{state.case_id}",
        "refused": refused,
        "case_id": state.case_id,
        "need_at": _iso(at),
        "municipality": facts["municipality"],
        "weekday": local.weekday(),
        "hour": local.hour,
        "age_groups": facts["age_groups"],
        "reasons": [r.value for r in state.need.reasons] if state.need else [],
        "minutes_to_assignment": minutes,
        "filled": bool(state.assignments),
        "unfilled": state.unfilled is not None,
        "unfilled_reason": state.unfilled.reason if state.unfilled else None,
        "within_target": None if minutes is None else minutes <= DEFAULT_TARGET_MINUTES,
    }


def transport_rows(state: CaseState) -> list[dict[str, Any]]:
    return [
        {
            "pk": f"transport#{month_of(t.at)}",
            "sk": f"case#{state.case_id}#{t.transport_id}",
            "case_id": state.case_id,
            "family_id": state.family_id,
            "transport_id": t.transport_id,
            "at": _iso(t.at),
            "status": t.status,
            "price_cents": t.price_cents,
            "km": None if t.km is None else str(t.km),
            "persons": t.persons,
            "driver_id": t.driver_id,
        }
        for t in state.transports
    ]


def case_rows(state: CaseState) -> list[dict[str, Any]]:
    """Every row the case contributes; the first is the state row."""
    pk = case_pk(state.case_id)
    rows: list[dict[str, Any]] = [
        {
            "pk": pk,
            "sk": STATE_SK,
            "version": state.version,
            "case": state.model_dump(mode="json"),
            "hours": {
                "requested_minutes_by_month": requested_minutes(state),
                "cared_minutes_by_month": cared_minutes(state),
                "session_minutes_by_start_month": session_minutes_by_start_month(state),
            },
        }
    ]
    if not state.is_closed:
        rows.append(
            {
                "pk": pk,
                "sk": "queue#open",
                "queue": "open",
                "queue_at": f"{_sortable(state.opened_at)}#{state.case_id}",
                **summary(state),
            }
        )
    if state.callback_pending_since is not None:
        rows.append(
            {
                "pk": pk,
                "sk": "queue#callback",
                "queue": "callback",
                "queue_at": f"{_sortable(state.callback_pending_since)}#{state.case_id}",
                **summary(state),
            }
        )
    if state.status == "emergency" and state.active_assignment is None:
        since = state.need_at or state.opened_at
        rows.append(
            {
                "pk": pk,
                "sk": "queue#unassigned",
                "queue": "unassigned",
                "queue_at": f"{_sortable(since)}#{state.case_id}",
                **summary(state),
                "need_at": _iso(state.need_at),
                "unfilled": state.unfilled is not None,
            }
        )
    rows.extend(hour_rows(state))
    rows.extend(caregiver_month_rows(state))
    rows.extend(offer_rows(state))
    rows.extend(assignment_rows(state))
    demand = demand_row(state)
    if demand is not None:
        rows.append(demand)
    rows.extend(transport_rows(state))
    return rows
