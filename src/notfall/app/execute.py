"""The one command path: decide (pure), then append in one conditional write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from notfall.domain.decision import Decision
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError
from notfall.store.base import EventStore


def execute(store: EventStore, meta: Metadata, decide: Callable[[], Decision]) -> dict[str, Any]:
    try:
        decision = decide()
    except DomainError:
        # A retry of a command that already succeeded may now break a rule (the case it
        # closed is closed): answer as the first time.
        first = store.command_result(meta.command_id, meta.request_fingerprint)  # another request: 422
        if first is not None:
            return first
        raise
    return store.append(decision, meta).result
