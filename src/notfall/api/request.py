"""What every command route reads off the request: who acts, the command id, the version seen."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from notfall.api.access import speaks_for
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


def identity_of(app: APIGatewayRestResolver) -> Identity | None:
    """The caller as API Gateway's Cognito authorizer verified it (`requestContext.authorizer.claims`,
    see `notfall.api.identity.Identity.from_claims`); None without such claims. Nothing else of the
    request names a caller: no header, no IAM identity, no custom authorizer's principalId."""
    claims = app.current_event.request_context.authorizer.claims
    return Identity.from_claims(claims if isinstance(claims, Mapping) else None)


def signed_in(app: APIGatewayRestResolver) -> Identity:
    """The verified caller; 401 without one (the resolver refused such a call before any route ran)."""
    identity = identity_of(app)
    if identity is None:
        raise Unauthenticated("sign in first: this route needs a valid token", field="header.Authorization")
    return identity


def actor_of(app: APIGatewayRestResolver) -> str:
    """Who acts: the verified identity's pseudonymous principal, `user:<sub>` or `client:<client_id>`."""
    return signed_in(app).principal


def own_agent(app: APIGatewayRestResolver, agent: str | None) -> str:
    """The `agent` of a consultation or callback is the person recording it: filled from their
    principal when left out; naming anybody else answers 422."""
    actor = actor_of(app)
    if agent is not None and agent != actor:
        raise Rejected(f"agent must be the signed-in person ({actor}) or left out", field="agent")
    return actor


def requested_by(app: APIGatewayRestResolver, by: str | None) -> str:
    """`by` of a cancellation or reassignment as the caller may state it (`access.speaks_for`):
    left out, the caller's own party; a party the caller does not speak for answers 422."""
    parties = speaks_for(signed_in(app))
    if by is None and parties:
        return parties[0]
    if by not in parties:
        may = ", ".join(parties) or "nobody"
        raise Rejected(f"you may record a change asked for by {may}, not by {by}", field="by")
    return by


def command_meta(app: APIGatewayRestResolver, default_command: str | None = None) -> Metadata:
    """The actor is the verified identity (`actor_of`), always. With an `Idempotency-Key` the command id
    is the key scoped to that actor, and the request's fingerprint comes along, so the store
    answers a replay of the same request and refuses the key for another one."""
    ctx = app.current_event.request_context
    actor = actor_of(app)
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
