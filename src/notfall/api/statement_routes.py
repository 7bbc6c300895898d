"""HTTP routes of partner usage statements: the statement as JSON or CSV, and links to its CSV
and PDF valid 5 minutes. Staff and the partner's own users call them (see access.py).

Small counts print as "fewer than N". Staff may choose N (`threshold`, 1 or more); a partner
user gets at least the configured threshold, so a partner cannot undo the suppression.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from notfall.api.identity import Role
from notfall.api.request import identity_of
from notfall.app.statements import CSV_TYPE, Statements
from notfall.documents.exports import URL_SECONDS
from notfall.domain.errors import Rejected

PartnerId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$", description="partner id")]
DAY = r"^\d{4}-\d{2}-\d{2}$"
Period = Annotated[
    str | None, Query(description="a month YYYY-MM, a quarter YYYY-Qn or a year YYYY; or give from and to")
]
From = Annotated[str | None, Query(alias="from", pattern=DAY, description="first day YYYY-MM-DD (Berlin)")]
To = Annotated[str | None, Query(alias="to", pattern=DAY, description="last day YYYY-MM-DD, at most 366 days on")]
Threshold = Annotated[int | None, Query(description="counts below it print as 'fewer than N'; 1 or more")]
STAFF = frozenset({Role.ACCOUNTING, Role.ADMIN, Role.AUDITOR})


def _day(text: str | None, field: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise Rejected(f"{text} is no calendar day", field=field) from None


def register(app: APIGatewayRestResolver, statements: Statements, threshold: int) -> None:
    """`threshold`: the configured one, the least a partner user gets."""

    def query(period: str | None, start: str | None, end: str | None, asked: int | None) -> dict[str, Any]:
        identity = identity_of(app)
        staff = identity is not None and bool(identity.roles & STAFF)
        chosen = threshold if asked is None else asked
        if not staff and chosen < threshold:
            raise Rejected(f"threshold must be {threshold} or more", field="query.threshold")
        return {
            "period": period,
            "start": _day(start, "query.from"),
            "end": _day(end, "query.to"),
            "threshold": chosen,
        }

    @app.get(
        "/partners/<partner_id>/statement",
        tags=["partners"],
        summary="A partner's usage statement for a month, quarter, year or from-to, as JSON or CSV",
    )
    def statement(
        partner_id: PartnerId,
        period: Period = None,
        start: From = None,
        end: To = None,
        threshold: Threshold = None,
        format: Annotated[Literal["json", "csv"], Query()] = "json",
    ) -> Any:
        asked = query(period, start, end, threshold)
        if format == "csv":
            return Response(200, CSV_TYPE, statements.csv(partner_id, **asked))
        return statements.statement(partner_id, **asked)

    @app.get(
        "/partners/<partner_id>/statement/documents",
        tags=["partners"],
        summary="Links to the statement as CSV and PDF, valid 5 minutes",
    )
    def documents(
        partner_id: PartnerId,
        period: Period = None,
        start: From = None,
        end: To = None,
        threshold: Threshold = None,
    ) -> dict[str, Any]:
        return statements.documents(partner_id, URL_SECONDS, **query(period, start, end, threshold))
