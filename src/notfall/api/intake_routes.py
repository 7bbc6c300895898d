"""HTTP routes of call intake: phone-system call events, the hotline's case work, the queues,
and the hour reports.

Hours are shown twice: `cared_*` and `requested_*` split at Berlin month ends (calendar hours),
and `billed_*` as the family invoice bills care: each ended, not voided session wholly in the
Berlin month it started, rounded per session by BILLING_ROUNDING_MINUTES.

Headers every command understands:
- `Idempotency-Key`: the command id, scoped to the caller. A retry of the same request with
  the same key appends nothing and gets the first answer; the key with another request
  answers 422. Phone events default to one derived from the call, its event type and time.
- `If-Match`: the case version the person saw; a different current version answers 409.
- `X-Correlation-Id`: ties the events of one conversation together (default: request id).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from notfall.api.request import command_meta, expected_version, own_agent
from notfall.app.intake import Intake
from notfall.domain.commands import CallbackIn, CallEventIn, CloseIn, ConsultationIn, NeedIn, OutcomeIn
from notfall.domain.errors import NotFound
from notfall.domain.hours import as_hours as hours
from notfall.domain.tariffs import Rounding
from notfall.projection.case_rows import STATE_SK, case_pk
from notfall.projection.readmodel import ReadModel

CaseId = Annotated[str, Path(pattern=r"^[0-9a-z-]{1,40}$", description="case id")]
Month = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="Berlin calendar month YYYY-MM")]
Limit = Annotated[int, Query(ge=1, le=500)]


def _sum_hours(rows: list[dict[str, Any]], rounding: Rounding) -> dict[str, Any]:
    requested = sum(r["requested_minutes"] for r in rows)
    cared = sum(r["cared_minutes"] for r in rows)
    billed = sum(rounding.total(r.get("billable_session_minutes", [])) for r in rows)
    return {
        "cases": len({r["case_id"] for r in rows}),
        "requested_minutes": requested,
        "requested_hours": hours(requested),
        "cared_minutes": cared,
        "cared_hours": hours(cared),
        "billed_minutes": billed,
        "billed_hours": hours(billed),
    }


def register(app: APIGatewayRestResolver, intake: Intake, readmodel: ReadModel, rounding: Rounding) -> None:
    def meta(default_command: str | None = None):
        return command_meta(app, default_command)

    def expected() -> int | None:
        return expected_version(app)

    @app.post(
        "/calls/events",
        tags=["phone system"],
        summary="A call event from the phone system",
        responses={
            200: {"description": "the call joined an open case"},
            201: {"description": "the call opened a case"},
        },
    )
    def call_event(event: Annotated[CallEventIn, Body()]) -> tuple[dict[str, Any], int]:
        default = f"phone:{event.call_id}:{event.type}:{event.at.isoformat()}"
        result = intake.call_event(event, meta(default))
        return result, 201 if result["opened"] else 200

    @app.post("/cases/<case_id>/consultation", tags=["hotline"], summary="Record the free crisis consultation")
    def consultation(case_id: CaseId, body: Annotated[ConsultationIn, Body()]) -> dict[str, Any]:
        body = body.model_copy(update={"agent": own_agent(app, body.agent)})
        return intake.consultation(case_id, body, meta(), expected())

    @app.post("/cases/<case_id>/need", tags=["hotline"], summary="Record the clarified need (supersedes earlier)")
    def need(case_id: CaseId, body: Annotated[NeedIn, Body()]) -> dict[str, Any]:
        return intake.need(case_id, body, meta(), expected())

    @app.post(
        "/cases/<case_id>/outcome",
        tags=["hotline"],
        summary="Advice or referral closes the case; a care need makes it an emergency",
    )
    def outcome(case_id: CaseId, body: Annotated[OutcomeIn, Body()]) -> dict[str, Any]:
        return intake.outcome(case_id, body, meta(), expected())

    @app.post("/cases/<case_id>/callback", tags=["hotline"], summary="Record a callback after a voicemail")
    def callback(case_id: CaseId, body: Annotated[CallbackIn, Body()]) -> dict[str, Any]:
        body = body.model_copy(update={"agent": own_agent(app, body.agent)})
        return intake.callback(case_id, body, meta(), expected())

    @app.post("/cases/<case_id>/close", tags=["hotline"], summary="Close a case")
    def close(case_id: CaseId, body: Annotated[CloseIn, Body()]) -> dict[str, Any]:
        return intake.close(case_id, body, meta(), expected())

    @app.get("/cases/<case_id>", tags=["hotline"], summary="A case as projected")
    def get_case(case_id: CaseId) -> dict[str, Any]:
        row = readmodel.get(case_pk(case_id), STATE_SK)
        if row is None:
            raise NotFound(f"unknown case {case_id}", field="case_id")
        calendar = {k: v for k, v in row["hours"].items() if k != "session_minutes_by_start_month"}
        billable = row["hours"].get("session_minutes_by_start_month", {})
        billed = {month: rounding.total(minutes) for month, minutes in billable.items()}
        return {**row["case"], "hours": {**calendar, "billed_minutes_by_month": billed}}

    @app.get("/cases", tags=["hotline"], summary="The hotline's queue of open cases, oldest first")
    def open_cases(limit: Limit = 100) -> dict[str, Any]:
        return {"queue": "open", "cases": _strip(readmodel.queue("open", limit))}

    @app.get("/callbacks", tags=["hotline"], summary="Voicemails waiting for a callback, oldest first")
    def callbacks(limit: Limit = 100) -> dict[str, Any]:
        return {"queue": "callback", "cases": _strip(readmodel.queue("callback", limit))}

    @app.get("/hours/<month>", tags=["reports"], summary="Care hours of a Berlin calendar month")
    def month_hours(month: Month) -> dict[str, Any]:
        return {"month": month, **_sum_hours(readmodel.query(f"month#{month}"), rounding)}

    @app.get("/families/<family_id>/hours", tags=["reports"], summary="Care hours of a family per month")
    def family_hours(family_id: Annotated[str, Path(pattern=r"^fam-[0-9a-z-]{1,40}$")]) -> dict[str, Any]:
        rows = readmodel.query(f"family#{family_id}")
        months = sorted({r["month"] for r in rows})
        return {
            "family_id": family_id,
            "months": [{"month": m, **_sum_hours([r for r in rows if r["month"] == m], rounding)} for m in months],
        }


def _strip(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in ("pk", "sk", "queue", "queue_at")} for r in rows]
