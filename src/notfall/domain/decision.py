"""What a pure decide-function returns: the appends to make and the answer to give."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notfall.domain.envelope import Event


@dataclass(frozen=True)
class Append:
    """Events for one stream, valid only if the stream is still at `expected_version`. Without
    events it writes nothing and only requires that (an invoice priced with the tariffs)."""

    stream_id: str
    expected_version: int
    events: tuple[Event, ...]
    occurred_at: datetime


@dataclass(frozen=True)
class Decision:
    """All appends of one command (written atomically) and its JSON answer."""

    appends: tuple[Append, ...]
    result: dict[str, Any] = field(default_factory=dict)


REFUSAL = "refusal"  # the key of a refusal in a command's stored answer


def refusal(appends: tuple[Append, ...], problem: str, field: str) -> Decision:
    """A command refused (422) whose refusal is itself a fact worth keeping: its events are
    appended, then `notfall.app.execute` raises. The refusal is the command's stored answer,
    so a retry with the same command id answers the same 422 and appends nothing."""
    return Decision(appends, {REFUSAL: {"problem": problem, "field": field}})
