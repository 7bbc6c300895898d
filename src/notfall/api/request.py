"""What every command route reads off the request: who acts, the command id, the version seen."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from notfall.api.identity import Identity
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, Rejected

MAX_KEY_LENGTH = 255
_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")  # printable ASCII


def header(app: APIGatewayRestResolver, name: str) -> str | None:
    return app.current_event.headers.get(name)  # powertools' headers ignore case


class Unauthenticated(DomainError):
    """The request carries no identity the service can name."""

    status = 401


_CLAIMS_FIELD = "requestContext.authorizer.claims"


def verified_actor(claims: Mapping[str, Any]) -> str:
    """The actor of a token API Gateway's Cognito user pools authorizer verified (see
    `notfall.api.identity.Identity.from_claims`): `user:<sub>` for a person, `client:<client_id>`
    for a machine client of the client credentials grant. Stable and pseudonymous, never an
    e-mail or a name."""
    identity = Identity.from_claims(claims)
    if identity is None:
        raise Unauthenticated("the token names no user subject and no client", field=_CLAIMS_FIELD)
    return identity.principal


def actor_of(app: APIGatewayRestResolver, default_actor: str) -> str:
    """Who acts: the verified identity whenever API Gateway ran an authorizer. Only without any
    authorizer context (the local stack, which does not verify tokens yet) the `X-Actor` header
    or the route's default names the actor; in the cloud every route has the authorizer."""
    authorizer = app.current_event.request_context.authorizer
    if authorizer.raw_event:
        if not authorizer.claims:  # e.g. a custom authorizer's principalId: not an identity we trust
            raise Unauthenticated("no verified identity: sign in with the user pool", field=_CLAIMS_FIELD)
        return verified_actor(authorizer.claims)
    return header(app, "X-Actor") or default_actor  # local only


def command_meta(app: APIGatewayRestResolver, default_actor: str, default_command: str | None = None) -> Metadata:
    """The actor is the verified identity (`actor_of`). With an `Idempotency-Key` the command id
    is the key scoped to that actor, and the request's fingerprint comes along, so the store
    answers a replay of the same request and refuses the key for another one."""
    ctx = app.current_event.request_context
    actor = actor_of(app, default_actor)
    key = header(app, "Idempotency-Key")
    fingerprint = None
    if key is not None:
        if not _KEY.fullmatch(key):
            raise Rejected(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
                field="header.Idempotency-Key",
            )
        command_id, fingerprint = keyed_command_id(actor, key), request_fingerprint(app)
    else:
        command_id = default_command or f"cmd-{uuid.uuid4()}"
    return Metadata(
        command_id=command_id,
        actor=actor,
        correlation_id=header(app, "X-Correlation-Id") or ctx.request_id or command_id,
        causation_id=command_id,
        request_fingerprint=fingerprint,
    )


def keyed_command_id(actor: str, key: str) -> str:
    """A client's key is its own: scoped to the caller, hashed to a fixed length (fits any table key)."""
    return "key-" + _sha256([actor, key])


def request_fingerprint(app: APIGatewayRestResolver) -> str:
    """What makes a request the same request: method, path with its parameters, the JSON body
    in canonical form (key order and spacing do not count)."""
    event = app.current_event
    try:
        body = event.json_body
    except (TypeError, ValueError):
        body = event.decoded_body  # no body, or not JSON: as sent
    return _sha256([event.http_method, event.path, body])


def _sha256(value: object) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def expected_version(app: APIGatewayRestResolver) -> int | None:
    """`If-Match`: the version the person saw; None when the client does not care."""
    raw = header(app, "If-Match")
    if raw is None:
        return None
    try:
        return int(raw.strip('"W/'))
    except ValueError:
        raise Rejected("If-Match must be the case version, a whole number", field="header.If-Match") from None
