"""API Gateway REST (v1) imitation: route matching, the Lambda proxy event, and the proxy response."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from infra.local.aws import ACCOUNT_ID
from infra.local.functions import LoadedFunction
from infra.local.template import Template

API_ID = "local"


@dataclass(frozen=True)
class Route:
    method: str  # upper case; ANY matches every method
    resource: str  # the template's path, e.g. /cases/{case_id}
    function: LoadedFunction
    event_name: str
    authorizer: str | None = None  # the template's authorizer of the route; None: public
    scopes: tuple[str, ...] = ()  # its AuthorizationScopes: then only an access token with one opens it

    @property
    def segments(self) -> list[str]:
        return [s for s in self.resource.split("/") if s]

    def specificity(self) -> tuple[int, ...]:
        """API Gateway prefers literal segments over {param} over {greedy+}: lower sorts first."""
        return tuple(2 if s.endswith("+}") else 1 if s.startswith("{") else 0 for s in self.segments)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in (method, "ANY"):
            return None
        parts = [unquote(s) for s in path.split("/") if s]
        params: dict[str, str] = {}
        for i, seg in enumerate(self.segments):
            if seg.startswith("{") and seg.endswith("+}"):
                if i >= len(parts):
                    return None
                params[seg[1:-2]] = "/".join(parts[i:])  # greedy: the rest of the path
                return params
            if i >= len(parts):
                return None
            if seg.startswith("{"):
                params[seg[1:-1]] = parts[i]
            elif seg != parts[i]:
                return None
        return params if len(parts) == len(self.segments) else None


def routes_from(functions: dict[str, LoadedFunction], template: Template) -> list[Route]:
    routes = [
        Route(e.properties["Method"].upper(), e.properties["Path"], fn, e.name, *template.route_auth(e))
        for fn in functions.values()
        for e in fn.spec.events_of("Api")
    ]
    return sorted(routes, key=Route.specificity)


def find_route(routes: list[Route], method: str, path: str, stage: str) -> tuple[Route, dict[str, str], str] | None:
    """(route, path parameters, path without stage); routes are served at / and at /<stage>/."""
    candidates = [path]
    if path == f"/{stage}" or path.startswith(f"/{stage}/"):
        # The stage form first, as on the execute-api URL; else a greedy root route would swallow it.
        candidates.insert(0, path[len(stage) + 1 :] or "/")
    for candidate in candidates:
        for route in routes:
            params = route.match(method, candidate)
            if params is not None:
                return route, params, candidate
    return None


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """API Gateway gives the last value in the single map and all of them in the multi map; None if empty."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return (single or None, multi or None)


def proxy_event(
    route: Route,
    params: dict[str, str],
    method: str,
    raw_target: str,
    stage_path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    stage: str,
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The event a Lambda proxy integration receives (REST API, payload format 1.0)."""
    query = urlsplit(raw_target).query
    single_h, multi_h = _single_and_multi(headers)
    single_q, multi_q = _single_and_multi(parse_qsl(query, keep_blank_values=True))
    now = datetime.now(UTC)
    try:
        text, is_b64 = (body.decode("utf-8"), False) if body else (None, False)
    except UnicodeDecodeError:
        # The template declares no BinaryMediaTypes; bytes that are not text arrive base64-encoded.
        text, is_b64 = base64.b64encode(body).decode("ascii"), True
    user_agent = (single_h or {}).get("User-Agent") or (single_h or {}).get("user-agent")
    return {
        "resource": route.resource,
        "path": stage_path,
        "httpMethod": method,
        "headers": single_h,
        "multiValueHeaders": multi_h,
        "queryStringParameters": single_q,
        "multiValueQueryStringParameters": multi_q,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": route.event_name,
            "resourcePath": route.resource,
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{stage_path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": API_ID,
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": user_agent,
                "caller": None,
                "user": None,
                "userArn": None,
                "accessKey": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
            },
            "domainName": f"{API_ID}.execute-api.localhost",
            "apiId": API_ID,
            # What the Cognito authorizer verified; a public route has no authorizer context.
            **({"authorizer": {"claims": claims}} if claims is not None else {}),
        },
        "body": text,
        "isBase64Encoded": is_b64,
    }


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def proxy_response(result: Any) -> HttpResponse:
    """Turn the handler's answer into HTTP the way API Gateway does; a malformed one is a 502."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpResponse(502, [("Content-Type", "application/json")], b'{"message": "Internal server error"}')
    # Both maps may be given: API Gateway merges them, and for a name in both the multi values win.
    merged: dict[str, list[str]] = {k: [str(v)] for k, v in (result.get("headers") or {}).items()}
    merged.update({k: [str(v) for v in vs] for k, vs in (result.get("multiValueHeaders") or {}).items()})
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
    return HttpResponse(int(result["statusCode"]), [(k, v) for k, vs in merged.items() for v in vs], body)


def no_route(method: str, path: str) -> HttpResponse:
    # AWS answers 403 {"message": "Missing Authentication Token"} here, which misleads; say what is wrong.
    body = {"message": f"no route {method} {path}", "errors": [{"field": "path", "problem": "unknown route"}]}
    return HttpResponse(404, [("Content-Type", "application/json")], json.dumps(body).encode())
