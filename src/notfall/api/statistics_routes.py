"""HTTP route of the statistics report: figures of any run of Berlin months, JSON or CSV.

The report reads the cases listed in the period's months and the partner streams from the read
model (notfall.app.statistics) and folds them with the same pure report as the whole log
(notfall.reports.statistics): exact counts of the log as the read model has seen it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from notfall.app.statistics import report as read_report
from notfall.domain.inputs import MONTH_PATTERN
from notfall.projection.readmodel import ReadModel
from notfall.reports.statistics import period, to_csv
from notfall.store.base import EventStore


def register(
    app: APIGatewayRestResolver, store: EventStore, readmodel: ReadModel, city: str, city_inhabitants: int
) -> None:
    @app.get(
        "/reports/statistics",
        tags=["reports"],
        summary="The statistics report of a run of months, overall or for one partner or municipality: "
        "JSON, or CSV (?format=csv)",
        responses={
            200: {
                "description": "the report",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        },
    )
    def statistics_report(
        from_month: Annotated[str, Query(alias="from", pattern=MONTH_PATTERN, description="first month YYYY-MM")],
        to_month: Annotated[str, Query(alias="to", pattern=MONTH_PATTERN, description="last month YYYY-MM")],
        partner: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$", description="a partner id")] = None,
        municipality: Annotated[str | None, Query(max_length=80)] = None,
        fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    ):
        # No return annotation: the answer is a JSON body or a CSV file (see the expense statement).
        p = period(from_month, to_month)  # 422 before anything is read
        report = read_report(
            readmodel,
            store,
            p,
            partner=partner,
            municipality=municipality,
            city=city,
            city_inhabitants=city_inhabitants,
        )
        if fmt == "csv":
            filename = f"notfall-statistics-{p.months[0]}-{p.months[-1]}.csv"
            return Response(
                200,
                "text/csv; charset=utf-8",
                to_csv(report),
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return report
