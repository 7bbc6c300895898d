"""HTTP routes of the caregiver register and of caregivers' own work: offers, check-in and
-out, hours and the monthly expense statement.

Register commands change the caregiver's stream; offer answers and check-ins change the
case's stream and understand `If-Match` (the case version), like every case command.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from notfall.api.request import command_meta, expected_version, header
from notfall.app.care import Care
from notfall.app.caregivers import Caregivers, RegisterIn, StatusIn, TrainingIn, WeeklyIn
from notfall.domain import care as d
from notfall.domain.care import CareRules
from notfall.domain.caregiver import CaregiverState, OneOffWindow, Profile
from notfall.domain.errors import NotFound
from notfall.domain.hours import as_hours as hours
from notfall.projection.caregiver_rows import CAREGIVERS_PK, caregiver_pk
from notfall.projection.readmodel import STATE_SK, ReadModel
from notfall.reports.expenses import statement, statement_csv

Slug = r"^[a-z0-9-]{1,40}$"
CaregiverId = Annotated[str, Path(pattern=Slug, description="caregiver id")]
CaseId = Annotated[str, Path(pattern=r"^[0-9a-z-]{1,40}$", description="case id")]
OfferId = Annotated[str, Path(pattern=r"^[0-9a-z-]{1,40}$", description="offer id")]
WindowId = Annotated[str, Path(pattern=Slug, description="one-off availability window id")]
Month = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="Berlin calendar month YYYY-MM")]
OfferStatus = Literal["open", "accepted", "declined", "timed_out", "withdrawn", "all"]

CREATED = 201
_KEYS = ("pk", "sk", "queue", "queue_at", "version", "row_keys")


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in _KEYS}


def register(
    app: APIGatewayRestResolver, caregivers: Caregivers, care: Care, readmodel: ReadModel, rules: CareRules
) -> None:
    def meta():
        # the actor is the verified caller: the resolver let only whom the declaration admits through
        return command_meta(app)

    def state_row(caregiver_id: str) -> dict[str, Any]:
        row = readmodel.get(caregiver_pk(caregiver_id), STATE_SK)
        if row is None:
            raise NotFound(f"unknown caregiver {caregiver_id}", field="caregiver_id")
        return row

    # --- the register -------------------------------------------------------------------

    @app.post("/caregivers", tags=["caregivers"], summary="Register a volunteer caregiver", status_code=CREATED)
    def register_caregiver(body: Annotated[RegisterIn, Body()]) -> tuple[dict[str, Any], int]:
        return caregivers.register(body, meta()), CREATED

    @app.get("/caregivers", tags=["caregivers"], summary="The caregiver register")
    def list_caregivers(
        status: Annotated[Literal["active", "paused", "left"] | None, Query()] = None,
        municipality: Annotated[str | None, Query(max_length=80, description="serves this municipality")] = None,
    ) -> dict[str, Any]:
        rows = readmodel.query(CAREGIVERS_PK)
        if status:
            rows = [r for r in rows if r["status"] == status]
        if municipality:
            rows = [
                r for r in rows if municipality in r["municipalities_served"] or r["home_municipality"] == municipality
            ]
        # The list row carries the whole caregiver for matching; a list shows the summary.
        return {"caregivers": [{k: v for k, v in _plain(r).items() if k != "caregiver"} for r in rows]}

    @app.get(
        "/caregivers/<caregiver_id>",
        tags=["caregivers"],
        summary="One caregiver: profile, availability, calendar, trainings, certificates",
    )
    def get_caregiver(caregiver_id: CaregiverId) -> dict[str, Any]:
        row = state_row(caregiver_id)
        state = CaregiverState.model_validate(row["caregiver"])
        return {
            **row["caregiver"],
            "training_days": row["training_days"],
            "families_known": row["families_known"],
            "clearance_problems": caregivers.clearance_problems(state, rules.clearance),
        }

    @app.put("/caregivers/<caregiver_id>/profile", tags=["caregivers"], summary="Replace the profile")
    def change_profile(caregiver_id: CaregiverId, body: Annotated[Profile, Body()]) -> dict[str, Any]:
        return caregivers.profile(caregiver_id, body, meta())

    @app.post(
        "/caregivers/<caregiver_id>/trainings",
        tags=["caregivers"],
        summary="Record a training attended",
        status_code=CREATED,
    )
    def add_training(caregiver_id: CaregiverId, body: Annotated[TrainingIn, Body()]) -> tuple[dict[str, Any], int]:
        return caregivers.training(caregiver_id, body, meta()), CREATED

    @app.post("/caregivers/<caregiver_id>/status", tags=["caregivers"], summary="Active, paused or left")
    def change_status(caregiver_id: CaregiverId, body: Annotated[StatusIn, Body()]) -> dict[str, Any]:
        return caregivers.status(caregiver_id, body, meta())

    @app.put(
        "/caregivers/<caregiver_id>/availability/weekly",
        tags=["caregivers"],
        summary="Replace the recurring weekly availability (Berlin local time)",
    )
    def set_weekly(caregiver_id: CaregiverId, body: Annotated[WeeklyIn, Body()]) -> dict[str, Any]:
        return caregivers.weekly(caregiver_id, body, meta())

    @app.post(
        "/caregivers/<caregiver_id>/availability/one-off",
        tags=["caregivers"],
        summary="Add a one-off availability window",
        status_code=CREATED,
    )
    def add_one_off(caregiver_id: CaregiverId, body: Annotated[OneOffWindow, Body()]) -> tuple[dict[str, Any], int]:
        return caregivers.add_window(caregiver_id, body, meta()), CREATED

    @app.delete(
        "/caregivers/<caregiver_id>/availability/one-off/<window_id>",
        tags=["caregivers"],
        summary="Withdraw a one-off availability window",
    )
    def withdraw_one_off(caregiver_id: CaregiverId, window_id: WindowId) -> dict[str, Any]:
        return caregivers.withdraw_window(caregiver_id, window_id, meta())

    # --- the caregiver's own work -------------------------------------------------------

    @app.get(
        "/caregivers/<caregiver_id>/offers",
        tags=["caregivers"],
        summary="Offers to the caregiver; open ones (not yet timed out) unless ?status= says otherwise",
    )
    def offers(caregiver_id: CaregiverId, status: Annotated[OfferStatus, Query()] = "open") -> dict[str, Any]:
        state_row(caregiver_id)
        rows = []
        for row in readmodel.query(caregiver_pk(caregiver_id), "offer#"):
            offer = care.offer_as_seen(_plain(row))
            if status in ("all", offer["status"]):
                rows.append(offer)
        return {"caregiver_id": caregiver_id, "status": status, "offers": rows}

    @app.get(
        "/caregivers/<caregiver_id>/assignments",
        tags=["caregivers"],
        summary="The caregiver's assignments (?active=true: only those not cancelled)",
    )
    def assignments(caregiver_id: CaregiverId, active: Annotated[bool | None, Query()] = None) -> dict[str, Any]:
        state_row(caregiver_id)
        rows = [_plain(r) for r in readmodel.query(caregiver_pk(caregiver_id), "assignment#")]
        if active is not None:
            rows = [r for r in rows if bool(r["active"]) == active]
        return {"caregiver_id": caregiver_id, "assignments": sorted(rows, key=lambda r: r["start"])}

    @app.post(
        "/caregivers/<caregiver_id>/cases/<case_id>/offers/<offer_id>/accept",
        tags=["caregivers"],
        summary="Accept an offer: the caregiver is assigned and booked",
        status_code=CREATED,
    )
    def accept(caregiver_id: CaregiverId, case_id: CaseId, offer_id: OfferId) -> tuple[dict[str, Any], int]:
        return care.accept(case_id, caregiver_id, offer_id, meta(), expected_version(app)), CREATED

    @app.post(
        "/caregivers/<caregiver_id>/cases/<case_id>/offers/<offer_id>/decline",
        tags=["caregivers"],
        summary="Decline an offer (a reason is optional)",
    )
    def decline(
        caregiver_id: CaregiverId,
        case_id: CaseId,
        offer_id: OfferId,
        body: Annotated[d.DeclineIn | None, Body()] = None,
    ) -> dict[str, Any]:
        return care.decline(case_id, caregiver_id, offer_id, body or d.DeclineIn(), meta(), expected_version(app))

    @app.post(
        "/caregivers/<caregiver_id>/cases/<case_id>/check-in",
        tags=["caregivers"],
        summary="Check in at the family: a session starts",
        status_code=CREATED,
    )
    def check_in(
        caregiver_id: CaregiverId, case_id: CaseId, body: Annotated[d.CheckInIn, Body()]
    ) -> tuple[dict[str, Any], int]:
        return care.check_in(case_id, caregiver_id, body, meta(), expected_version(app)), CREATED

    @app.post(
        "/caregivers/<caregiver_id>/cases/<case_id>/check-out",
        tags=["caregivers"],
        summary="Check out: the open session ends, with the km driven",
    )
    def check_out(caregiver_id: CaregiverId, case_id: CaseId, body: Annotated[d.CheckOutIn, Body()]) -> dict[str, Any]:
        return care.check_out(case_id, caregiver_id, body, meta(), expected_version(app))

    @app.get(
        "/caregivers/<caregiver_id>/hours",
        tags=["caregivers"],
        summary="Hours cared, sessions, travel and expenses per Berlin month",
    )
    def caregiver_hours(caregiver_id: CaregiverId) -> dict[str, Any]:
        state_row(caregiver_id)
        by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in readmodel.query(caregiver_pk(caregiver_id), "month#"):
            by_month[row["sk"].split("#")[1]].append(row)
        return {
            "caregiver_id": caregiver_id,
            "months": [_month_sum(month, rows) for month, rows in sorted(by_month.items())],
        }

    @app.get(
        "/caregivers/<caregiver_id>/statements/<month>",
        tags=["caregivers"],
        summary="The volunteer expense statement of a month: JSON, or CSV (Accept: text/csv or ?format=csv)",
        responses={
            200: {
                "description": "the statement",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        },
    )
    def expense_statement(
        caregiver_id: CaregiverId,
        month: Month,
        fmt: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
    ):
        # No return annotation: the answer is a JSON body or a CSV file, and powertools
        # would otherwise try to validate the Response object as JSON.
        row = state_row(caregiver_id)
        rows = readmodel.query(caregiver_pk(caregiver_id), f"month#{month}#")
        doc = statement(row["caregiver"], month, rows)
        if fmt == "csv" or (fmt is None and "text/csv" in (header(app, "Accept") or "")):
            filename = f"notfall-statement-{caregiver_id}-{month}.csv"
            return Response(
                200,
                "text/csv; charset=utf-8",
                statement_csv(doc),
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return doc


def _month_sum(month: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    cared = sum(int(r["cared_minutes"]) for r in rows)
    travel_cents = sum(int(r["travel_cents"]) for r in rows)
    allowance_cents = sum(int(r["allowance_cents"]) for r in rows)
    return {
        "month": month,
        "cases": len(rows),
        "sessions": sum(int(r["sessions"]) for r in rows),
        "cared_minutes": cared,
        "cared_hours": hours(cared),
        "travel_km": str(sum((Decimal(str(r["travel_km"])) for r in rows), Decimal(0))),
        "travel_cents": travel_cents,
        "allowance_cents": allowance_cents,
        "expenses_cents": travel_cents + allowance_cents,
    }
