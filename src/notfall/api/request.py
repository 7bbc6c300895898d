"""What every command route reads off the request: who acts, the command id, the version seen."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from notfall.domain.envelope import Metadata
from notfall.domain.errors import Rejected


def header(app: APIGatewayRestResolver, name: str) -> str | None:
    return app.current_event.headers.get(name)  # powertools' headers ignore case


def command_meta(app: APIGatewayRestResolver, default_actor: str, default_command: str | None = None) -> Metadata:
    """`Idempotency-Key` is the command id; the actor is the authorised principal, else `X-Actor`."""
    ctx = app.current_event.request_context
    # IAM authorisation puts the caller's ARN in identity; a custom authorizer its principalId.
    principal = (
        ctx.identity.user_arn
        or (ctx.authorizer.get("principalId") if ctx.authorizer else None)
        or header(app, "X-Actor")
    )
    command_id = header(app, "Idempotency-Key") or default_command or f"cmd-{uuid.uuid4()}"
    return Metadata(
        command_id=command_id,
        actor=principal or default_actor,
        correlation_id=header(app, "X-Correlation-Id") or ctx.request_id or command_id,
        causation_id=command_id,
    )


def expected_version(app: APIGatewayRestResolver) -> int | None:
    """`If-Match`: the version the person saw; None when the client does not care."""
    raw = header(app, "If-Match")
    if raw is None:
        return None
    try:
        return int(raw.strip('"W/'))
    except ValueError:
        raise Rejected("If-Match must be the case version, a whole number", field="header.If-Match") from None
