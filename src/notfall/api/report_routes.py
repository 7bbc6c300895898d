"""HTTP routes of the care reports: unmet demand and transport services.

Both read projected rows only (one Query per month), so a report never loads a stream.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from notfall.domain.errors import Rejected
from notfall.domain.inputs import MONTH_PATTERN
from notfall.projection.readmodel import ReadModel
from notfall.reports.demand import demand_report, months_between

MONTH = MONTH_PATTERN
Month = Annotated[str, Path(pattern=MONTH, description="Berlin calendar month YYYY-MM")]
Dimension = Literal["municipality", "weekday", "hour", "age_group", "reason", "unfilled_reason"]


def register(app: APIGatewayRestResolver, readmodel: ReadModel) -> None:
    @app.get(
        "/reports/demand",
        tags=["reports"],
        summary="Emergencies, filled, unfilled and time to assignment per month range, grouped by one dimension",
    )
    def demand(
        from_month: Annotated[str, Query(alias="from", pattern=MONTH, description="first month YYYY-MM")],
        to_month: Annotated[str, Query(alias="to", pattern=MONTH, description="last month YYYY-MM")],
        by: Annotated[Dimension, Query()] = "municipality",
    ) -> dict[str, Any]:
        try:
            months = months_between(from_month, to_month)
        except ValueError as err:
            raise Rejected(str(err), field="query.to") from None
        rows = [row for month in months for row in readmodel.query(f"demand#{month}")]
        return {"from": from_month, "to": to_month, "months": months, **demand_report(rows, by)}

    @app.get(
        "/reports/transports/<month>",
        tags=["reports"],
        summary="Transport services of a Berlin month: trips booked, done, cancelled, price total",
    )
    def transports(month: Month) -> dict[str, Any]:
        rows = readmodel.query(f"transport#{month}")
        counted = [r for r in rows if r["status"] != "cancelled"]
        return {
            "month": month,
            "count": len(rows),
            "booked": sum(1 for r in rows if r["status"] == "booked"),
            "done": sum(1 for r in rows if r["status"] == "done"),
            "cancelled": len(rows) - len(counted),
            # A cancelled trip costs the family nothing; booked ones count at their stamped price.
            "price_total_cents": sum(int(r["price_cents"]) for r in counted),
            "done_price_cents": sum(int(r["price_cents"]) for r in rows if r["status"] == "done"),
            "persons": sum(int(r["persons"]) for r in counted),
        }
