"""What every command route reads off the request: who acts, the command id, the version seen."""

from __future__ import annotations

import hashlib
import json
import re
import uuid

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from notfall.domain.envelope import Metadata
from notfall.domain.errors import Rejected

MAX_KEY_LENGTH = 255
_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")  # printable ASCII


def header(app: APIGatewayRestResolver, name: str) -> str | None:
    return app.current_event.headers.get(name)  # powertools' headers ignore case


def command_meta(app: APIGatewayRestResolver, default_actor: str, default_command: str | None = None) -> Metadata:
    """The actor is the authorised principal, else `X-Actor`. With an `Idempotency-Key` the
    command id is the key scoped to that actor, and the request's fingerprint comes along, so
    the store answers a replay of the same request and refuses the key for another one."""
    ctx = app.current_event.request_context
    # IAM authorisation puts the caller's ARN in identity; a custom authorizer its principalId.
    principal = (
        ctx.identity.user_arn
        or (ctx.authorizer.get("principalId") if ctx.authorizer else None)
        or header(app, "X-Actor")
    )
    actor = principal or default_actor
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
