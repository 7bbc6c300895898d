"""One place that configures every API: validation, OpenAPI, and the shape of errors.

Every 4xx answers `{"message": ..., "errors": [{"field": ..., "problem": ...}]}`, naming each
offending field, so a client can show the problem next to the input that caused it.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from notfall.domain.errors import DomainError


def problem(status: int, message: str, errors: list[dict[str, Any]]) -> Response:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message, "errors": errors}
    )


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'need', 'persons', 0, 'age') -> 'need.persons[0].age'; path and query keep their source."""
    parts = list(loc)
    source = parts.pop(0) if parts and parts[0] in ("body", "path", "query", "header") else None
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    if source in ("path", "query", "header"):
        return f"{source}.{out}" if out else source
    return out or "body"


def _json_object(body: str) -> Any:
    """Every body is one JSON object; powertools would take the first item of a JSON array."""
    value = json.loads(body)
    if value is not None and not isinstance(value, dict):
        raise RequestValidationError(
            [{"type": "model_type", "loc": ("body",), "msg": "the body must be a JSON object"}]
        )
    return value


def make_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=_json_object)

    @app.exception_handler(RequestValidationError)
    def _invalid(err: RequestValidationError) -> Response:
        errors = err.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(400, "the body is not valid JSON", [{"field": "body", "problem": "malformed JSON"}])
        named = [
            {"field": _field(e.get("loc", ())), "problem": str(e.get("msg", "invalid")).removeprefix("Value error, ")}
            for e in errors
        ]
        return problem(422, "the request is invalid", named)

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(_: RequestUnsupportedContentType) -> Response:
        return problem(
            415, "the body must be JSON", [{"field": "header.Content-Type", "problem": "use application/json"}]
        )

    @app.exception_handler(DomainError)
    def _domain(err: DomainError) -> Response:
        return problem(err.status, err.problem, [{"field": err.field or "request", "problem": err.problem}])

    @app.not_found
    def _not_found(_: Exception) -> Response:
        path = app.current_event.path
        return problem(
            404, f"no route {app.current_event.http_method} {path}", [{"field": "path", "problem": "unknown route"}]
        )

    return app
