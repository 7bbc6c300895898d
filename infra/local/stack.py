"""The whole local stack in one object: moto, the template's resources, functions, HTTP, stream pumps."""

from __future__ import annotations

import logging
import os
import re
from typing import Any
from urllib.parse import urlsplit

import boto3

from infra.local import moto_disk, moto_streams
from infra.local.apigw import HttpResponse, Route, find_route, no_route, proxy_event, proxy_response, routes_from
from infra.local.authorizer import CognitoAuthorizer, Unauthorized, as_request_claims, unauthorized
from infra.local.aws import REGION, Moto, process_environment
from infra.local.cognito import PHONE_SYSTEM, TokenEndpoint, UserPool, add_demo_users, create_user_pool
from infra.local.functions import LoadedFunction, load_all
from infra.local.resources import Resources, create_all
from infra.local.schedules import Schedule, schedules_from
from infra.local.server import HttpServer, json_response
from infra.local.stream_pump import StreamPump, StreamSource
from infra.local.template import BUCKET, QUEUE, TABLE, Template

log = logging.getLogger("infra.local")

# Seconds a stream record stays after every stream pump has read it (real streams: 24 hours,
# whoever read them). Long enough to look at a record that just went by, short enough that a
# stack under load holds only the last minute of its streams.
STREAM_RETENTION = 60.0
_SCHEDULE_PATH = re.compile(r"^/_local/schedules/([A-Za-z0-9]+)$")


class LocalStack:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 3000,
        parameters: dict[str, Any] | None = None,
        template: Template | None = None,
        poll_interval: float = 0.2,
        retry_delay: float = 0.02,
        stream_retention: float = STREAM_RETENTION,
        table_store: str = "disk",
    ) -> None:
        self.template = template or Template.load()
        # No X-Ray daemon here: the template's switch turns the functions' Tracer off.
        self.parameters = {"Tracing": "Disabled", **(parameters or {})}
        self._host, self._port = host, port
        self._poll_interval, self._retry_delay = poll_interval, retry_delay
        self._stream_retention = stream_retention
        self._moto = Moto(table_store)
        self._saved_env: dict[str, str | None] = {}
        self.resources: Resources | None = None
        self.functions: dict[str, LoadedFunction] = {}
        self.routes: list[Route] = []
        self.pumps: list[StreamPump] = []
        self.schedules: dict[str, Schedule] = {}
        self.http: HttpServer | None = None
        self.user_pool: UserPool | None = None
        self.token_endpoint: TokenEndpoint | None = None
        # The template's authorizers by name: the verifier and the header it reads the token from.
        self.authorizers: dict[str, tuple[CognitoAuthorizer, str]] = {}
        self.stage = ""
        self.endpoint = ""  # moto's URL: AWS_ENDPOINT_URL of this process

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> LocalStack:
        # Bind the API's port first: a taken port fails before moto and the functions spin up.
        self.http = HttpServer(self, self._host, self._port)
        endpoint = self.endpoint = self._moto.start()
        globals_env = self.template.globals_function.get("Environment", {}).get("Variables", {})
        self._set_env(
            process_environment(
                endpoint,
                {
                    "POWERTOOLS_METRICS_NAMESPACE": str(globals_env.get("POWERTOOLS_METRICS_NAMESPACE", "Local")),
                    # Metrics would print an EMF blob per invocation: unreadable on a console, and
                    # nothing collects them locally. The namespace stays set so the code path is the cloud's.
                    "POWERTOOLS_METRICS_DISABLED": "true",
                },
            )
        )
        self.resources = create_all(self.template, self.parameters)
        self.user_pool = create_user_pool(self.template, self.resources)
        add_demo_users(self.user_pool)
        self.token_endpoint = TokenEndpoint(self.user_pool)
        for fn in self.template.functions:  # remember what load_all will overwrite, to put it back
            for name in fn.environment:
                self._saved_env.setdefault(name, os.environ.get(name))
        self.functions = load_all(self.template.functions, self.resources)
        self.routes = routes_from(self.functions, self.template)
        self.authorizers = self._authorizers()
        self.stage = self._stage_name()
        self.schedules = schedules_from(self.functions)
        moto_streams.configure(moto_streams.Retention(self._stream_retention))
        self.pumps = [
            StreamPump(StreamSource.from_event(fn, ev, self.resources), self._poll_interval, self._retry_delay)
            for fn in self.functions.values()
            for ev in fn.spec.events_of("DynamoDB")
        ]
        for pump in self.pumps:
            pump.start()
        self.http.start()
        return self

    def stop(self) -> None:
        if self.http:
            self.http.stop()
        for pump in self.pumps:
            pump.stop()
        moto_streams.configure(None)
        self._moto.stop()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    @property
    def disk(self) -> moto_disk.Store | None:
        """Where the tables keep their items while the stack runs with table_store "disk"."""
        return self._moto.disk

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def _authorizers(self) -> dict[str, tuple[CognitoAuthorizer, str]]:
        """A verifier per authorizer the routes use; each must name the template's user pool."""
        assert self.resources is not None and self.user_pool is not None
        pool = self.user_pool
        found: dict[str, tuple[CognitoAuthorizer, str]] = {}
        for route in self.routes:
            if route.authorizer is None or route.authorizer in found:
                continue
            event = next(e for e in route.function.spec.events if e.name == route.event_name)
            spec = self.template.authorizer(event, route.authorizer)
            if self.resources.resolve(spec.get("UserPoolArn")) != pool.arn:
                raise ValueError(
                    f"authorizer {route.authorizer}: the local stack verifies only the template's user pool"
                )
            header = spec.get("Identity", {}).get("Header", "Authorization")
            verifier = CognitoAuthorizer(
                f"{self.endpoint}/{pool.pool_id}/.well-known/jwks.json", pool.issuer, self._client_ids
            )
            found[route.authorizer] = (verifier, header)
        return found

    def _client_ids(self) -> list[str]:
        assert self.user_pool is not None
        idp = boto3.client("cognito-idp", region_name=REGION)
        pages = idp.get_paginator("list_user_pool_clients").paginate(UserPoolId=self.user_pool.pool_id)
        return [c["ClientId"] for page in pages for c in page["UserPoolClients"]]

    def _stage_name(self) -> str:
        assert self.resources is not None
        apis = self.template.of_type("AWS::Serverless::Api")
        stages = [self.resources.resolve(api["Properties"]["StageName"]) for api in apis.values()]
        return str(stages[0]) if stages else "Prod"  # SAM's implicit API uses the stage Prod

    # --- what tests and the demo use ------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.http is not None, "start() first"
        return self.http.url

    def drain(self, timeout: float = 10.0) -> None:
        """Return once every stream pump has delivered all it can see; TimeoutError if one cannot."""
        stuck = [p.name for p in self.pumps if not p.drain(timeout)]
        if stuck:
            raise TimeoutError(f"stream pumps not drained within {timeout}s: {', '.join(stuck)}")

    def pump(self, function: str) -> StreamPump:
        return next(p for p in self.pumps if p.source.function.spec.logical_id == function)

    def rebuild_check(self) -> dict[str, Any]:
        """Replay the whole log and compare it with the live read model (after the pumps caught up)."""
        from notfall.projection.replay_check import compare
        from notfall.settings import Settings
        from notfall.wiring import Wiring

        assert self.resources is not None
        self.drain()
        table_env = self.resources.resolve(self.template.globals_function["Environment"]["Variables"])
        wiring = Wiring(Settings.model_validate(table_env))  # the live tables, as every function sees them
        return compare(wiring.store, wiring.readmodel)

    def describe(self) -> dict[str, Any]:
        assert self.resources is not None

        def named(type_: str) -> dict[str, Any]:
            return {
                k: {"name": self.resources.refs[k], **self.resources.attributes[k]}
                for k in self.template.of_type(type_)
            }

        tables, buckets = named(TABLE), named(BUCKET)
        queues = {k: self.resources.attributes[k] for k in self.template.of_type(QUEUE)}
        return {
            "api": {
                "url": self.url,
                "stage_prefix": f"/{self.stage}",
                "openapi": f"{self.url}/openapi.json",
            },
            "aws_endpoint": self.endpoint,  # moto: for the AWS CLI's or boto3's --endpoint-url
            "auth": self.describe_auth(),
            "routes": [
                {"method": r.method, "path": r.resource, "function": r.function.spec.logical_id, "event": r.event_name}
                for r in self.routes
            ],
            "tables": tables,
            "queues": queues,
            "buckets": buckets,
            "streams": [p.describe() for p in self.pumps],
            "schedules": [s.describe() for s in self.schedules.values()],
            "tools": [
                "GET /_local",
                "POST /oauth2/token",
                "POST /_local/schedules/<EventName>",
                "POST /_local/drain",
                "POST /_local/rebuild-check",
            ],
        }

    def describe_auth(self) -> dict[str, Any]:
        """How to get a token: what `python -m infra.local token <role>` reads. The demo users'
        passwords are new and random each start; only this developer's tool tells them."""
        assert self.user_pool is not None
        pool = self.user_pool
        return {
            "how": "Authorization: <token>; python -m infra.local token <role>",
            "user_pool_id": pool.pool_id,
            "cognito_endpoint": self.endpoint,
            "jwks": f"{self.endpoint}/{pool.pool_id}/.well-known/jwks.json",
            "issuer": pool.issuer,
            "token_url": f"{self.url}/oauth2/token",
            "people_client_id": pool.people_client(self.template),
            "machine_client_id": pool.machine_client(self.template),
            "users": dict(pool.passwords),
            "roles": [*pool.passwords, PHONE_SYSTEM],
        }

    # --- HTTP -----------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
    ) -> HttpResponse:
        path = urlsplit(target).path
        if path == "/_local" or path.startswith("/_local/"):
            return self._tools(method, path)
        if path == "/oauth2/token" and method == "POST":
            assert self.token_endpoint is not None
            return self.token_endpoint.handle(headers, body)
        found = find_route(self.routes, method, path, self.stage)
        if found is None:
            return no_route(method, path)
        route, params, stage_path = found
        claims = None
        if route.authorizer is not None:
            verifier, header = self.authorizers[route.authorizer]
            token = next((v for k, v in headers if k.lower() == header.lower()), None)
            try:
                claims = as_request_claims(verifier.verify(token, route.scopes))
            except Unauthorized as refused:
                log.info("%s %s: 401, %s", method, path, refused)
                return unauthorized(str(refused))
        event = proxy_event(route, params, method, target, stage_path, headers, body, source_ip, self.stage, claims)
        return proxy_response(route.function.invoke(event))

    def _tools(self, method: str, path: str) -> HttpResponse:
        if method == "GET" and path.rstrip("/") == "/_local":
            return json_response(200, self.describe())
        if method == "POST" and path == "/_local/drain":
            self.drain()
            return json_response(200, {"drained": True, "streams": [p.describe() for p in self.pumps]})
        if method == "POST" and path == "/_local/rebuild-check":
            return json_response(200, self.rebuild_check())
        match = _SCHEDULE_PATH.match(path)
        if method == "POST" and match:
            schedule = self.schedules.get(match.group(1))
            if schedule is None:
                return json_response(
                    404,
                    {
                        "message": f"no schedule event {match.group(1)}",
                        "errors": [{"field": "path", "problem": "unknown schedule"}],
                        "schedules": sorted(self.schedules),
                    },
                )
            return json_response(200, {"schedule": schedule.describe(), "result": schedule.fire()})
        return no_route(method, path)
