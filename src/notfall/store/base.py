"""The event store's contract, written once for every backend.

Guarantees (each backend's tests check them):
- (stream_id, version) is unique; versions of a stream run 1, 2, 3 ... without gaps.
- `append` writes all events of one command atomically, or none; it fails with
  VersionConflict if any stream is no longer at its expected version.
- every event gets a global `position` in the same atomic write; positions run 1, 2, 3 ...
  without gaps and in commit order, so a reader of the global log never skips an event.
- every event carries `hash` and `prev_hash` (notfall.store.chain), chained in global order in
  the same atomic write; `log_head` gives the last position and its hash.
- a command id is recorded atomically with its events: appending again under the same
  command id writes nothing and returns the first answer. A command id that came with a
  request fingerprint (a client's Idempotency-Key) answers only the same request: another
  fingerprint raises KeyReused (422) and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Envelope, Metadata
from notfall.domain.errors import KeyReused


@dataclass(frozen=True)
class AppendResult:
    result: dict[str, Any]
    duplicate: bool  # True when the command id had been seen: nothing was written


@dataclass(frozen=True)
class LogPage:
    events: list[Envelope]
    next_position: int  # pass as `after` to read on; equals `after` when nothing new


@dataclass(frozen=True)
class RecordPage:
    records: list[dict[str, Any]]  # events as stored (payload as its JSON string), with hash and prev_hash
    next_position: int  # pass as `after` to read on


class EventStore(Protocol):
    def load(self, stream_id: str) -> list[Envelope]: ...

    def append(self, decision: Decision, meta: Metadata) -> AppendResult: ...

    def command_result(self, command_id: str, fingerprint: str | None = None) -> dict[str, Any] | None: ...

    def read_all(self, after: int = 0, limit: int = 500) -> LogPage: ...

    def read_records(self, after: int = 0, limit: int = 500, settled_before: datetime | None = None) -> RecordPage:
        """Like read_all, as stored. A missing position is passed over only when the event after
        it was recorded before `settled_before` (too long ago for the index to lag): a hole."""
        ...

    def log_head(self) -> tuple[int, str]:
        """The last global position and its hash (0 and GENESIS for an empty log)."""
        ...


def envelopes_for(appends: Sequence[Append], meta: Metadata, first_position: int, now: datetime) -> list[Envelope]:
    """Wrap the events of a decision, numbering stream versions and global positions."""
    out: list[Envelope] = []
    position = first_position
    for append in appends:
        for offset, event in enumerate(append.events, start=1):
            out.append(
                Envelope(
                    event_id=str(uuid.uuid4()),
                    stream_id=append.stream_id,
                    version=append.expected_version + offset,
                    position=position,
                    event_type=event.event_type,
                    schema_version=event.schema_version,
                    occurred_at=append.occurred_at,
                    recorded_at=now,
                    actor=meta.actor,
                    correlation_id=meta.correlation_id,
                    causation_id=meta.causation_id,
                    command_id=meta.command_id,
                    data=event,
                )
            )
            position += 1
    return out


def same_request(stored: str | None, fingerprint: str | None) -> None:
    """A first answer goes only to the request it answered (when both sides know their request)."""
    if stored and fingerprint and stored != fingerprint:
        raise KeyReused()


def iter_log(store: EventStore, after: int = 0, page_size: int = 500) -> Iterator[Envelope]:
    """Every event in global order, page by page."""
    while True:
        page = store.read_all(after, page_size)
        yield from page.events
        if len(page.events) < page_size:
            return
        after = page.next_position
