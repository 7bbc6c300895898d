"""An in-process event store with the same guarantees as the DynamoDB one, for fast tests."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from notfall.clock import Clock, system_clock
from notfall.domain.decision import Decision
from notfall.domain.envelope import Envelope, Metadata
from notfall.domain.errors import VersionConflict
from notfall.store import chain
from notfall.store.base import AppendResult, LogPage, RecordPage, envelopes_for, same_request


class MemoryEventStore:
    def __init__(self, clock: Clock = system_clock) -> None:
        self._clock = clock  # stamps recorded_at
        self._streams: dict[str, list[Envelope]] = {}
        self._log: list[Envelope] = []
        self._records: list[dict[str, Any]] = []  # the log as stored, hashes included
        self._last_hash = chain.GENESIS
        self._commands: dict[str, tuple[dict[str, Any], str | None]] = {}  # id -> answer, request fingerprint
        self._lock = threading.Lock()

    def load(self, stream_id: str) -> list[Envelope]:
        return list(self._streams.get(stream_id, []))

    def append(self, decision: Decision, meta: Metadata) -> AppendResult:
        with self._lock:
            if meta.command_id in self._commands:
                return AppendResult(self._first(meta.command_id, meta.request_fingerprint), duplicate=True)
            for append in decision.appends:
                if len(self._streams.get(append.stream_id, [])) != append.expected_version:
                    raise VersionConflict(append.stream_id)
            envelopes = envelopes_for(decision.appends, meta, len(self._log) + 1, self._clock())
            records = [chain.stored_record(env) for env in envelopes]
            self._last_hash = chain.seal(records, self._last_hash)
            self._records.extend(records)
            for env in envelopes:
                self._streams.setdefault(env.stream_id, []).append(env)
                self._log.append(env)
            self._commands[meta.command_id] = (decision.result, meta.request_fingerprint)
            return AppendResult(decision.result, duplicate=False)

    def command_result(self, command_id: str, fingerprint: str | None = None) -> dict[str, Any] | None:
        return self._first(command_id, fingerprint) if command_id in self._commands else None

    def _first(self, command_id: str, fingerprint: str | None) -> dict[str, Any]:
        result, stored = self._commands[command_id]
        same_request(stored, fingerprint)
        return result

    def read_all(self, after: int = 0, limit: int = 500) -> LogPage:
        events = self._log[after : after + limit]
        return LogPage(events, events[-1].position if events else after)

    def read_records(self, after: int = 0, limit: int = 500, settled_before: datetime | None = None) -> RecordPage:
        records = [dict(r) for r in self._records[after : after + limit]]
        return RecordPage(records, records[-1]["position"] if records else after)

    def log_head(self) -> tuple[int, str]:
        with self._lock:
            return len(self._records), self._last_hash
