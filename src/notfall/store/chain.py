"""The log's hash chain: an event's record as stored, its canonical form, and its hash.

Every event's hash covers its stored content and the hash of the event before it in the global
log (GENESIS before position 1), so changing, removing or reordering any event breaks the chain
from there on. The form is written down in docs/event-store.md, "The hash chain", for programs
outside this code base (tools/verify_log.py is one); change neither without the other.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from notfall.domain.envelope import Envelope

GENESIS = "0" * 64  # the prev_hash of position 1
# The canonical form's fields, in this order; prev_hash comes last.
FIELDS = (
    "position",
    "stream_id",
    "version",
    "event_type",
    "schema_version",
    "event_id",
    "occurred_at",
    "recorded_at",
    "actor",
    "correlation_id",
    "causation_id",
    "command_id",
    "data",
)


def stored_record(env: Envelope) -> dict[str, Any]:
    """The event as the store keeps it: plain values, the payload as its JSON string."""
    record = env.to_record()
    return {
        "position": env.position,
        "stream_id": env.stream_id,
        "version": env.version,
        "event_type": env.event_type,
        "schema_version": env.schema_version,
        "event_id": str(record["event_id"]),
        "occurred_at": str(record["occurred_at"]),
        "recorded_at": str(record["recorded_at"]),
        "actor": str(record["actor"]),
        "correlation_id": str(record["correlation_id"]),
        "causation_id": env.causation_id or None,
        "command_id": str(record["command_id"]),
        "data": json.dumps(record["data"], separators=(",", ":"), sort_keys=True),
    }


def canonical(record: dict[str, Any], prev_hash: str) -> bytes:
    """`name:<byte length>:value` lines, one per field in FIELDS order, then prev_hash; UTF-8."""
    out = bytearray()
    for name, value in [*((n, record[n]) for n in FIELDS), ("prev_hash", prev_hash)]:
        raw = ("" if value is None else str(value)).encode("utf-8")
        out += f"{name}:{len(raw)}:".encode() + raw + b"\n"
    return bytes(out)


def event_hash(record: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical(record, prev_hash)).hexdigest()


def seal(records: list[dict[str, Any]], prev_hash: str) -> str:
    """Give each record its prev_hash and hash, in order; the last hash."""
    for record in records:
        record["prev_hash"] = prev_hash
        record["hash"] = prev_hash = event_hash(record, prev_hash)
    return prev_hash
