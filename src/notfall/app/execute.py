"""The one command path: decide (pure), then append in one conditional write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from notfall.domain.decision import REFUSAL, Decision
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, Rejected
from notfall.store.base import EventStore


def _answer(result: dict[str, Any]) -> dict[str, Any]:
    """The command's answer; a recorded refusal is raised, the first time and on every retry."""
    refused = result.get(REFUSAL)
    if refused is not None:
        raise Rejected(refused["problem"], field=refused["field"])
    return result


def execute(store: EventStore, meta: Metadata, decide: Callable[[], Decision]) -> dict[str, Any]:
    try:
        decision = decide()
    except DomainError:
        # A retry of a command that already succeeded may now break a rule (the case it
        # closed is closed): answer as the first time.
        first = store.command_result(meta.command_id, meta.request_fingerprint)  # another request: 422
        if first is not None:
            return _answer(first)
        raise
    return _answer(store.append(decision, meta).result)
