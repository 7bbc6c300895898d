"""One place that configures every API: validation, OpenAPI, and the shape of errors.

Every 4xx answers `{"message": ..., "errors": [{"field": ..., "problem": ...}]}`, naming each
offending field, so a client can show the problem next to the input that caused it.

Access comes first, before anything of the request is read, as API Gateway authorizes before it
integrates: the caller is the identity API Gateway's Cognito authorizer verified
(`requestContext.authorizer.claims`), and `notfall.api.access` decides whether it may call the
route the function matched, with the path parameters the route will get. No identity answers
401, a role or tenant the route does not admit 403 naming the rule; either is logged with the
principal, the route and the rule (never a claim such as an e-mail or a name), and no route runs.

Then the edge check: a request that carries a body must say
`Content-Type: application/json` (a charset, if named, is UTF-8), else 415; the body must be
UTF-8, JSON, one object, nested at most MAX_DEPTH deep, with numbers of at most MAX_NUMBER_LENGTH
characters, else 400. So no malformed input reaches a model, a store or a 5xx.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel

from notfall.api.access import Refusal, authorize
from notfall.api.request import identity_of
from notfall.domain.errors import DomainError

log = logging.getLogger(__name__)


class ProblemField(BaseModel):
    field: str
    problem: str


class Problem(BaseModel):
    """The body of every 4xx and 5xx answer."""

    message: str
    errors: list[ProblemField]


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


MAX_DEPTH = 64  # far beyond any model's nesting, far below the parser's recursion limit
MAX_NUMBER_LENGTH = 32  # no amount, count or age needs more; Python refuses ints over 4,300 digits
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")


class MalformedBody(Exception):
    """A body that is not UTF-8 JSON within the bounds: 400."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _nesting(text: str) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings not counted."""
    depth = deepest = 0
    for char in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        depth += 1 if char in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _number(parse: type) -> Any:
    def bounded(token: str) -> Any:
        if len(token) > MAX_NUMBER_LENGTH:
            raise MalformedBody(f"a number has more than {MAX_NUMBER_LENGTH} characters")
        return parse(token)

    return bounded


def _json_object(body: str) -> Any:
    """Every body is one JSON object; powertools would take the first item of a JSON array."""
    if _nesting(body) > MAX_DEPTH:
        raise MalformedBody(f"JSON nested deeper than {MAX_DEPTH} levels")
    value = json.loads(body, parse_int=_number(int), parse_float=_number(float))
    if value is not None and not isinstance(value, dict):
        raise RequestValidationError(
            [{"type": "model_type", "loc": ("body",), "msg": "the body must be a JSON object"}]
        )
    return value


def _is_json(content_type: str) -> bool:
    """application/json, any case, with no parameter but an optional UTF-8 charset."""
    media, *params = [p.strip().lower() for p in content_type.split(";")]
    return media == "application/json" and all(p.replace(" ", "") in ("charset=utf-8", "") for p in params)


_PARAM = re.compile(r"<(\w+)>")


def _refused(app: Any) -> Response | None:
    """The answer to a caller the declaration does not admit to the matched route, else None."""
    route = app.context["_route"]
    if route not in app._static_routes and route not in app._dynamic_routes:
        return None  # no route matched: the 404 names the unknown route, nothing runs
    template = _PARAM.sub(r"{\1}", route.path)  # "/cases/<case_id>" -> "/cases/{case_id}"
    params = {k: str(v) for k, v in app.context.get("_route_args", {}).items()}
    method = app.current_event.http_method.upper()
    decision = authorize(identity_of(app), method, template, params)
    if not isinstance(decision, Refusal):
        return None
    log.warning(
        "refused %s %s for %s: %s",
        method,
        template,
        decision.principal or "nobody signed in",
        decision.rule,
        extra={
            "status": decision.status,
            "principal": decision.principal,
            "route": f"{method} {template}",
            "rule": decision.rule,
        },
    )
    body = decision.body()
    return problem(decision.status, body["message"], body["errors"])


class _EdgeCheck(OpenAPIRequestValidationMiddleware):
    """What every route runs first: access, the edge check of the body, request validation."""

    def handler(self, app: Any, next_middleware: Any) -> Response:
        refused = _refused(app)
        if refused is not None:
            return refused
        event = app.current_event
        if event.body:
            if not _is_json(event.headers.get("content-type") or ""):
                raise RequestUnsupportedContentType("Unsupported content type", errors=[])
            try:
                event.decoded_body  # noqa: B018 - decodes base64 and UTF-8 once, cached for the parse
            except UnicodeDecodeError as err:
                raise MalformedBody("the body is not UTF-8 text") from err
        return super().handler(app, next_middleware)

    def _get_body(self, app: Any) -> Any:
        # The edge check let only JSON through: never read a body as a form.
        return self._parse_json_data(app)


_ERRORS = {
    400: "the body is not UTF-8 JSON within the bounds",
    401: "no valid token: sign in first",
    403: "the caller's role or tenant may not call this route (the error names the rule)",
    404: "an unknown case, partner, caregiver, invoice or other record",
    409: "the current state does not allow the command, or another writer came first",
    415: "the body is not declared as application/json",
    422: "a field is missing or invalid, or the input breaks a business rule",
}
_COMMANDS = ("post", "put", "patch", "delete")


def _document_errors(doc: dict[str, Any]) -> dict[str, Any]:
    """Every operation's error statuses with the Problem body, from what access, the edge and the
    domain answer: 401 and 403 for all (the document lists no public route); 400, 415 and 422 with
    a body; 404 with path parameters or a body naming records; 409 for commands; 422 for all
    (query and header parameters are validated, too)."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs"))
    schemas["Problem"] = problem_schema
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            statuses = {401, 403, 422}
            if "requestBody" in operation:
                statuses |= {400, 404, 415}
            if "{" in path:
                statuses.add(404)
            if method in _COMMANDS:
                statuses.add(409)
            for status in sorted(statuses):
                operation.setdefault("responses", {})[str(status)] = {
                    "description": _ERRORS[status],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
    for unused in ("HTTPValidationError", "ValidationError"):  # powertools' own 422 body, never sent
        schemas.pop(unused, None)
    return doc


class Resolver(APIGatewayRestResolver):
    """powertools' REST resolver whose OpenAPI document lists the errors each operation answers."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        described = _document_errors(schema.model_dump(mode="json", by_alias=True, exclude_none=True))
        return type(schema).model_validate(described)


def make_resolver() -> APIGatewayRestResolver:
    app = Resolver(enable_validation=True, json_body_deserializer=_json_object)
    # powertools keeps its request validation here and runs it before every route's middlewares
    app._request_validation_middleware = _EdgeCheck()

    @app.exception_handler(MalformedBody)
    def _malformed(err: MalformedBody) -> Response:
        return problem(400, "the body is not valid JSON", [{"field": "body", "problem": err.problem}])

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
            415,
            "the body must be JSON",
            [{"field": "header.Content-Type", "problem": "use application/json (charset, if named, utf-8)"}],
        )

    @app.exception_handler(DomainError)
    def _domain(err: DomainError) -> Response:
        return problem(err.status, err.problem, [{"field": err.field or "request", "problem": err.problem}])

    @app.exception_handler(Exception)
    def _unexpected(err: Exception) -> Response:
        # A bug, not the client's fault: logged in full, answered without the exception's text.
        log.error("unexpected %s", type(err).__name__, exc_info=err)
        return problem(500, "internal error", [{"field": "request", "problem": "internal error, not your input"}])

    @app.not_found
    def _not_found(_: Exception) -> Response:
        path = app.current_event.path
        return problem(
            404, f"no route {app.current_event.http_method} {path}", [{"field": "path", "problem": "unknown route"}]
        )

    return app
