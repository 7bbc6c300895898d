"""HTTP routes for auditors: the complete history in global order, page by page."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query

from notfall.store.base import EventStore


def register(app: APIGatewayRestResolver, store: EventStore) -> None:
    @app.get(
        "/audit/events",
        tags=["auditors"],
        summary="Events after a global position, in global order (positions are gapless)",
    )
    def events(
        after: Annotated[int, Query(ge=0, description="last position already read; 0 to start")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    ) -> dict[str, Any]:
        page = store.read_all(after, limit)
        return {
            "events": [e.to_record() for e in page.events],
            "next_after": page.next_position,
            "complete": len(page.events) < limit,
        }
