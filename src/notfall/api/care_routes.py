"""HTTP routes of the hotline's care work: candidates, offers, assignments, sessions, transport.

Every command understands `Idempotency-Key`, `If-Match` (the case version seen) and
`X-Correlation-Id`, as the intake routes do. Hard rules live in the domain: a caregiver who
cannot take the need, an overlapping session or a session without an assignment answers
409 naming the field; malformed input answers 422 before anything is loaded.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from notfall.api.request import command_meta, expected_version, requested_by
from notfall.app import matching
from notfall.app.care import Care
from notfall.domain import care as d
from notfall.domain.care import CareRules
from notfall.projection.readmodel import ReadModel

CaseId = Annotated[str, Path(pattern=r"^[0-9a-z-]{1,40}$", description="case id")]
SessionId = Annotated[str, Path(pattern=r"^[0-9a-z-]{1,40}$", description="session id")]
TransportId = Annotated[str, Path(pattern=r"^[0-9a-z-]{1,40}$", description="transport id")]

CREATED = 201


def register(app: APIGatewayRestResolver, care: Care, readmodel: ReadModel, rules: CareRules) -> None:
    def meta():
        return command_meta(app)

    def expected() -> int | None:
        return expected_version(app)

    @app.get(
        "/cases/<case_id>/candidates",
        tags=["care"],
        summary="Caregivers who can take the need, best first with points; the others with reasons",
    )
    def candidates(case_id: CaseId) -> dict[str, Any]:
        return matching.candidates(readmodel, case_id, rules)

    @app.post(
        "/cases/<case_id>/offers",
        tags=["care"],
        summary="Offer the care to a caregiver; the offer times out if not answered",
        status_code=CREATED,
    )
    def offer(case_id: CaseId, body: Annotated[d.CaregiverRef, Body()]) -> tuple[dict[str, Any], int]:
        return care.offer(case_id, body, meta(), expected()), CREATED

    @app.post(
        "/cases/<case_id>/assign",
        tags=["care"],
        summary="Assign a caregiver directly (agreed on the phone); books the caregiver's calendar",
        status_code=CREATED,
    )
    def assign(case_id: CaseId, body: Annotated[d.CaregiverRef, Body()]) -> tuple[dict[str, Any], int]:
        return care.assign(case_id, body, meta(), expected()), CREATED

    @app.post(
        "/cases/<case_id>/reassign",
        tags=["care"],
        summary="Replace the assigned caregiver: cancels the assignment and books the new caregiver",
        status_code=CREATED,
    )
    def reassign(case_id: CaseId, body: Annotated[d.ReassignIn, Body()]) -> tuple[dict[str, Any], int]:
        body = body.model_copy(update={"by": requested_by(app, body.by)})
        return care.reassign(case_id, body, meta(), expected()), CREATED

    @app.post(
        "/cases/<case_id>/cancel-assignment",
        tags=["care"],
        summary="Cancel the assignment (family, caregiver or staff); the need is open again",
    )
    def cancel_assignment(case_id: CaseId, body: Annotated[d.CancelIn, Body()]) -> dict[str, Any]:
        body = body.model_copy(update={"by": requested_by(app, body.by)})
        return care.cancel(case_id, body, meta(), expected())

    @app.post(
        "/cases/<case_id>/sessions",
        tags=["care"],
        summary="Record a care session after the fact (staff)",
        status_code=CREATED,
    )
    def record_session(case_id: CaseId, body: Annotated[d.SessionIn, Body()]) -> tuple[dict[str, Any], int]:
        return care.record_session(case_id, body, meta(), expected()), CREATED

    @app.post(
        "/cases/<case_id>/sessions/<session_id>/correction",
        tags=["care"],
        summary="Correct a session's times and travel; the earlier facts stay in the log",
    )
    def correct_session(
        case_id: CaseId, session_id: SessionId, body: Annotated[d.CorrectionIn, Body()]
    ) -> dict[str, Any]:
        return care.correct_session(case_id, session_id, body, meta(), expected())

    @app.post("/cases/<case_id>/sessions/<session_id>/void", tags=["care"], summary="Void a session recorded in error")
    def void_session(case_id: CaseId, session_id: SessionId, body: Annotated[d.VoidIn, Body()]) -> dict[str, Any]:
        return care.void_session(case_id, session_id, body, meta(), expected())

    @app.post(
        "/cases/<case_id>/transports",
        tags=["care"],
        summary="Book a transport trip; the flat price valid now is stamped on the booking",
        status_code=CREATED,
    )
    def book_transport(case_id: CaseId, body: Annotated[d.TransportIn, Body()]) -> tuple[dict[str, Any], int]:
        return care.book_transport(case_id, body, meta(), expected()), CREATED

    @app.post("/cases/<case_id>/transports/<transport_id>/done", tags=["care"], summary="A transport trip was done")
    def transport_done(
        case_id: CaseId, transport_id: TransportId, body: Annotated[d.TransportDoneIn, Body()]
    ) -> dict[str, Any]:
        return care.transport_done(case_id, transport_id, body, meta(), expected())

    @app.post("/cases/<case_id>/transports/<transport_id>/cancel", tags=["care"], summary="Cancel a transport trip")
    def cancel_transport(
        case_id: CaseId, transport_id: TransportId, body: Annotated[d.VoidIn, Body()]
    ) -> dict[str, Any]:
        return care.cancel_transport(case_id, transport_id, body, meta(), expected())
