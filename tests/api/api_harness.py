# Helpers of the API tests: load the events/api samples, read template.yaml's routes, run requests in memory.
"""Helpers of the API tests.

`sample(name, ...)` loads `events/api/<name>.json` (an API Gateway REST proxy request as it
reaches the Lambda behind the Cognito authorizer, signed in as a role that may call the route)
and adjusts it the way a different request would differ: another case id or path parameter
(path, pathParameters and requestContext.path move together), another body, extra headers
(headers and multiValueHeaders together), other query parameters, another caller (`claims=`).
A caregiver's or partner user's sample follows its path: asked for another `caregiver_id`, it
is that caregiver who calls, unless `claims=` names the caller.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infra.local.template import Template
from notfall.documents.storage import Stored
from notfall.projection.projector import Projector
from notfall.projection.readmodel import MemoryReadModel
from notfall.store import checkpoints
from notfall.store.base import iter_log
from notfall.store.memory import MemoryEventStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "events" / "api"

_KEEP = object()


@cache
def _raw(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def sample_names() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.json"))


def sample_body(name: str) -> dict[str, Any]:
    """The sample's JSON body as a fresh dict, to change and pass back as `body=`."""
    return json.loads(_raw(name)["body"])


def sample(
    name: str,
    *,
    case_id: str | None = None,
    path_params: dict[str, str] | None = None,
    body: Any = _KEEP,
    headers: dict[str, str | None] | None = None,
    query: Any = _KEEP,
    method: str | None = None,
    path: str | None = None,
    claims: Any = _KEEP,
) -> dict[str, Any]:
    """A copy of a sample request, changed as asked.

    body: a dict/list (sent as JSON), a str (sent as is), or None (no body).
    headers: added or replaced; a value of None removes the header.
    query: a dict of single values, or None for no query string.
    method/path: send the request to a route that may not exist (resource stays the sample's).
    claims: the verified claims of another caller (see `person_claims`, `role_claims`), or None
    for a request without sign-in.
    """
    event = copy.deepcopy(_raw(name))
    params = dict(event["pathParameters"] or {})
    if case_id is not None:
        params["case_id"] = case_id
    params.update(path_params or {})
    if params:
        event["pathParameters"] = params
        event["path"] = re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], event["resource"])
    if path is not None:
        event["path"] = path
    if method is not None:
        event["httpMethod"] = method
        event["requestContext"]["httpMethod"] = method
    event["requestContext"]["path"] = f"/{event['requestContext']['stage']}{event['path']}"
    if body is not _KEEP:
        event["body"] = body if body is None or isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    for key, value in (headers or {}).items():
        if value is None:
            event["headers"].pop(key, None)
            event["multiValueHeaders"].pop(key, None)
        else:
            event["headers"][key] = value
            event["multiValueHeaders"][key] = [value]
    if query is not _KEEP:
        event["queryStringParameters"] = dict(query) if query else None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    if claims is None:
        signed_out(event)
    elif claims is not _KEEP:
        signed_in(event, claims)
    else:
        own = (event["requestContext"].get("authorizer") or {}).get("claims") or {}
        for claim, param in _TENANT_PARAMS:
            if claim in own and param in params:
                own[claim] = params[param]  # the caregiver (partner) of the path is the one calling
    return event


_TENANT_PARAMS = (
    ("custom:caregiver_id", "caregiver_id"),
    ("custom:partner_id", "partner_id"),
    ("custom:partner_id", "debtor_id"),
)


def person_claims(sub: str, *groups: str, **custom: str) -> dict[str, str]:
    """The claims of a person's id token as API Gateway's Cognito user pools authorizer puts
    them in `requestContext.authorizer.claims` of a REST API: every value a string."""
    return {
        "sub": sub,
        "cognito:groups": ",".join(groups),
        "cognito:username": "anna",  # the sign-in name: personal, never the actor
        "email": "anna@example.org",
        "email_verified": "true",
        "iss": f"https://cognito-idp.eu-central-1.amazonaws.com/{USER_POOL_ID}",
        "aud": USER_CLIENT_ID,
        "token_use": "id",
        "auth_time": "1772433000",
        "iat": "Mon Mar 02 06:30:00 UTC 2026",
        "exp": "Mon Mar 02 07:30:00 UTC 2026",
        **{f"custom:{name}": value for name, value in custom.items()},
    }


def machine_claims(client_id: str, scope: str = "notfall/call-events") -> dict[str, str]:
    """The claims of an access token of the client credentials grant (the phone system): the
    subject is the app client itself, there is no user name."""
    return {
        "sub": client_id,
        "client_id": client_id,
        "token_use": "access",
        "scope": scope,
        "iss": f"https://cognito-idp.eu-central-1.amazonaws.com/{USER_POOL_ID}",
        "version": "2",
        "auth_time": "1772433000",
        "iat": "Mon Mar 02 06:30:00 UTC 2026",
        "exp": "Mon Mar 02 07:30:00 UTC 2026",
        "jti": "2b8c5e0a-4f1d-4d1e-9a7b-3c6f0e9d8a21",
    }


USER_POOL_ID = "eu-central-1_Nf4llDemo"
USER_CLIENT_ID = "5q1m2n3o4p5q6r7s8t9u0v1w2x"


def signed_in(event: dict[str, Any], claims: dict[str, str]) -> dict[str, Any]:
    """The request as it arrives behind the Cognito authorizer: the verified claims in the
    request context, the token in the Authorization header, no IAM caller identity."""
    event["requestContext"]["authorizer"] = {"claims": claims}
    event["requestContext"]["identity"].update(userArn=None, user=None, caller=None, accessKey=None)
    for key in ("Authorization", "authorization"):
        event["headers"].pop(key, None)
        event["multiValueHeaders"].pop(key, None)
    token = "eyJraWQiOiJkdW1teSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"  # opaque to the function: API Gateway checked it
    event["headers"]["Authorization"] = token
    event["multiValueHeaders"]["Authorization"] = [token]
    return event


def signed_out(event: dict[str, Any]) -> dict[str, Any]:
    """The request without sign-in: no authorizer claims, no token."""
    event["requestContext"].pop("authorizer", None)
    for key in ("Authorization", "authorization"):
        event["headers"].pop(key, None)
        event["multiValueHeaders"].pop(key, None)
    return event


# One signed-in person per role (their Cognito subjects), and the phone system's app client.
ROLE_SUBS = {
    "hotline": "9b1d4f2e-6a3c-4e8b-b5d7-1c0f2a9e8d61",
    "accounting": "2f6a8c1e-4b3d-4f9a-9e7c-5d1b0a3c6e42",
    "admin": "6e3b9d0a-1f4c-4a7e-8b2d-9c5f1e0a7b33",
    "caregiver": "c4a7e2b9-5d1f-4c3a-a8e6-0b9d2f7c1e55",
    "partner": "8d2f5b1c-9e0a-4b6d-b3f7-4a1c8e2d9f66",
    "auditor": "1a9c3e7f-2b5d-4d8a-9f1e-6c0b4a2d8e77",
}
PHONE_CLIENT = "3k9p2q7r1s5t8u4v6w0x2y3z1a"


def role_claims(role: str, *, caregiver_id: str | None = None, partner_id: str | None = None) -> dict[str, str]:
    """The claims of the samples' signed-in person of `role` (a caregiver or partner user with
    the given tenant), or of the phone system for "phone-system"."""
    if role == "phone-system":
        return machine_claims(PHONE_CLIENT)
    tenant = {"caregiver_id": caregiver_id} if caregiver_id else {}
    tenant |= {"partner_id": partner_id} if partner_id else {}
    return person_claims(ROLE_SUBS[role], role, **tenant)


# --- template.yaml ----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    function: str
    code_uri: str
    path: str
    method: str


@cache
def template_routes() -> tuple[Route, ...]:
    """Every Api event of every function in template.yaml, as the local stack reads them."""
    return tuple(
        Route(fn.logical_id, fn.properties["CodeUri"], e.properties["Path"], e.properties["Method"].upper())
        for fn in Template.load().functions
        for e in fn.events_of("Api")
    )


# --- running requests -------------------------------------------------------------------


def lambda_context() -> SimpleNamespace:
    return SimpleNamespace(
        function_name="notfall-intake",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:eu-central-1:123456789012:function:notfall-intake",
        aws_request_id="5c1b7a2e-0d5f-4f7e-9a51-7c9c8d4b2f10",
    )


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, Any]

    def fields(self) -> list[str]:
        """The fields the error list names."""
        return [e["field"] for e in self.body["errors"]]


@dataclass
class Api:
    """One function's resolver over an in-memory store and read model."""

    app: Any
    store: MemoryEventStore
    readmodel: MemoryReadModel
    projector: Projector = field(init=False)

    def __post_init__(self) -> None:
        self.projector = Projector(self.store, self.readmodel)

    def send(self, event: dict[str, Any]) -> Reply:
        out = self.app.resolve(event, lambda_context())
        body = out["body"]
        # a REST (v1) proxy answer carries its headers as multiValueHeaders
        headers = {k: v[-1] for k, v in (out.get("multiValueHeaders") or {}).items()}
        headers = {**headers, **(out.get("headers") or {})}
        # JSON unless the route says otherwise (a CSV download stays text)
        text = headers.get("Content-Type", "").startswith(("text/", "application/x-ndjson"))
        parsed = body if text else json.loads(body) if body else None
        return Reply(out["statusCode"], parsed, headers)

    def call(self, name: str, **changes: Any) -> Reply:
        return self.send(sample(name, **changes))

    def log_length(self) -> int:
        return len(list(iter_log(self.store)))

    def log(self):
        return list(iter_log(self.store))

    def project(self) -> None:
        """What the stream Lambda does: project every stream record of the log."""
        for env in iter_log(self.store):
            self.projector.project(env.stream_id, env.version)

    def open_case(self, **changes: Any) -> str:
        reply = self.call("call_started", **changes)
        assert reply.status == 201, reply.body
        return reply.body["case_id"]

    def register_sample_employer(self) -> None:
        """The partner company the sample need names as employer (Leine Logistik GmbH), with
        its framework contract since 2015 (2 events), projected: its employees are entitled at
        the partner rate, so the samples' care needs pass eligibility at intake."""
        for name in ("partner_register", "partner_contract"):
            reply = self.call(name)
            assert reply.status == 201, reply.body
        self.project()


# --- invoicing ---------------------------------------------------------------------------


class Documents:
    """The write-once document store in memory: a key is written once; links are fake URLs."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def put_once(self, key: str, body: bytes, content_type: str, *, issue_date) -> Stored:
        created = key not in self.objects
        self.objects.setdefault(key, (body, content_type))
        return Stored("v1", created)

    def url(self, key: str, expires: int = 300) -> str:
        return f"https://documents.example/{key}?X-Amz-Expires={expires}"


class Exports:
    """The short-lived downloads in memory: what was put under which key; links are fake URLs."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = (body, content_type)

    def url(self, key: str, expires: int = 300) -> str:
        return f"https://statements.example/{key}?X-Amz-Expires={expires}"


class SignedCheckpoints:
    """The checkpoints in memory, signed by a P-256 key made here (KMS's ECDSA_SHA_256, DER signatures)."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.objects: dict[int, dict[str, Any]] = {}

    def seal(self, store: MemoryEventStore) -> int:
        position, last_hash = store.log_head()
        text = checkpoints.statement(position, last_hash, self.clock().strftime("%Y-%m-%dT%H:%M:%SZ"))
        signature = self.key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
        self.objects[position] = {
            "statement": text,
            "signature": base64.b64encode(signature).decode(),
            "algorithm": checkpoints.ALGORITHM,
            "key_id": "local-test-key",
        }
        return position

    def list(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        positions = sorted(p for p in self.objects if p > after)[:limit]
        return [{"position": p, "key": checkpoints.checkpoint_key(p)} for p in positions]

    def get(self, position: int) -> dict[str, Any] | None:
        return self.objects.get(position)

    def public_key(self) -> dict[str, Any]:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"key_id": "local-test-key", "algorithm": checkpoints.ALGORITHM, "public_key_pem": checkpoints.pem(der)}


RUN_AT = datetime(2026, 4, 2, 6, 0, tzinfo=UTC)  # the invoice runs of the API tests: 2 April 2026
