"""HTTP routes for auditors: the complete history in global order, page by page; the export as
stored (NDJSON, with the hash chain); the signed checkpoints and the key that verifies them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any, Protocol

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from notfall.clock import Clock, system_clock
from notfall.domain.errors import NotFound, Rejected
from notfall.store.base import EventStore

NDJSON = "application/x-ndjson"
# A missing position older than this is a hole in the log, not the index catching up (which takes
# about a second): the export goes on past it, so a verifier names it.
SETTLED = timedelta(minutes=1)


class CheckpointReader(Protocol):
    def list(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]: ...

    def get(self, position: int) -> dict[str, Any] | None: ...

    def public_key(self) -> dict[str, Any]: ...


def register(
    app: APIGatewayRestResolver,
    store: EventStore,
    checkpoints: CheckpointReader,
    clock: Clock = system_clock,
) -> None:
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

    @app.get(
        "/audit/export",
        tags=["auditors"],
        summary="Events from..to as stored, with their hashes: NDJSON, one event a line, in position order",
        description=(
            "`to` defaults to the log's last position when asked; keep it for the following pages. "
            "`X-Next-From` says where the next page starts and `X-Export-To` which `to` this page used; "
            "the export is complete when `X-Next-From` exceeds `X-Export-To`. A page never holds a later "
            "event before an earlier one; a page cut short at a position the index has not caught up with "
            "yet ends there (ask again). A position still missing after a minute, or with `holes=true`, is "
            "passed over: the export goes on, and tools/verify_log.py names the gap."
        ),
        responses={
            200: {
                "description": "NDJSON: one event record a line",
                "content": {NDJSON: {"schema": {"type": "string"}}},
            }
        },
    )
    def export(
        from_: Annotated[int, Query(alias="from", ge=1, description="first position")] = 1,
        to: Annotated[int | None, Query(ge=1, description="last position (default: the log's end now)")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
        holes: Annotated[
            bool,
            Query(description="pass over missing positions at once (a reader that waited and saw no progress)"),
        ] = False,
    ) -> Any:  # a Response: NDJSON, not a model
        end, _ = store.log_head()
        if to is not None and to > end:
            raise Rejected(f"the log ends at position {end}", field="query.to")
        last = end if to is None else to
        if from_ > last + 1:
            raise Rejected(f"after the last position asked for ({last})", field="query.from")
        count = min(limit, last - from_ + 1)
        settled = clock() if holes else clock() - SETTLED
        records = store.read_records(from_ - 1, count, settled_before=settled).records if count else []
        records = [r for r in records if r["position"] <= last]
        next_from = records[-1]["position"] + 1 if records else from_
        body = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
        return Response(
            status_code=200,
            content_type=NDJSON,
            body=body,
            headers={"X-Next-From": str(next_from), "X-Export-To": str(last)},
        )

    reader = checkpoints

    @app.get("/audit/checkpoints", tags=["auditors"], summary="Signed checkpoints of the log, by position")
    def checkpoint_list(
        after: Annotated[int, Query(ge=0, description="last position already listed; 0 to start")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        listed = reader.list(after, limit)
        return {"checkpoints": listed, "complete": len(listed) < limit}

    @app.get(
        "/audit/checkpoints/<position>",
        tags=["auditors"],
        summary="One checkpoint as stored: the signed statement, its signature (base64 DER), algorithm and key",
    )
    def checkpoint_get(position: Annotated[int, Path(ge=1)]) -> dict[str, Any]:
        found = reader.get(position)
        if found is None:
            raise NotFound(f"no checkpoint at position {position}", field="path.position")
        return found

    @app.get("/audit/public-key", tags=["auditors"], summary="The public key that verifies the checkpoints (PEM)")
    def public_key() -> dict[str, Any]:
        return reader.public_key()
