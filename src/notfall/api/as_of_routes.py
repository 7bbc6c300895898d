"""HTTP route for auditors: a read model as it was at a log position or at the end of a Berlin day.

Rebuilt in memory from the log by the stream projector's own fold (projection.point_in_time),
so it never reads or writes the live read model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

from notfall.clock import Clock, berlin_today
from notfall.projection.point_in_time import as_of, parse_day
from notfall.store.base import EventStore

# The views: the queues of GET /cases and GET /callbacks, in the same shape.
QUEUES = {"open-cases": "open", "callbacks": "callback"}
View = Literal["open-cases", "callbacks"]


def register(app: APIGatewayRestResolver, store: EventStore, clock: Clock) -> None:
    @app.get(
        "/audit/as-of",
        tags=["auditors"],
        summary="A read model as it was after a log position, or at the end of a Berlin day "
        "(everything recorded up to 23:59:59 Berlin time)",
    )
    def read_model_as_of(
        view: Annotated[View, Query(description="open-cases (as GET /cases) or callbacks (as GET /callbacks)")],
        day: Annotated[
            str | None, Query(alias="date", pattern=r"^\d{4}-\d{2}-\d{2}$", description="a Berlin day YYYY-MM-DD")
        ] = None,
        position: Annotated[int | None, Query(ge=1, description="the last log position to include")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        # parse_day: 2021-02-30 matches the pattern but is no day; 422 naming the field
        rebuilt = as_of(store, berlin_today(clock), position, parse_day(day) if day is not None else None)
        rows = rebuilt.readmodel.queue(QUEUES[view], limit)
        return {
            "as_of": {"date": day, **rebuilt.describe()},
            "view": view,
            "queue": QUEUES[view],
            "cases": [{k: v for k, v in r.items() if k not in ("pk", "sk", "queue", "queue_at")} for r in rows],
        }
