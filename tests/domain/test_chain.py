"""The hash chain of the log: the canonical form of docs/event-store.md, worked out by hand with
hashlib, and the memory store chaining every event it appends to the one before it."""

from __future__ import annotations

import hashlib

from domain_builders import T0

from notfall.domain import events as ev
from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Metadata
from notfall.store import chain
from notfall.store.memory import MemoryEventStore

RECORD = {
    "position": 1,
    "stream_id": "case-c1",
    "version": 1,
    "event_type": "CallRouted",
    "schema_version": 1,
    "event_id": "e-1",
    "occurred_at": "2026-11-03T07:00:00Z",
    "recorded_at": "2026-11-03T07:00:01Z",
    "actor": "user:abc",
    "correlation_id": "corr-1",
    "causation_id": None,
    "command_id": "cmd-1",
    "data": '{"call_id":"pbx-1","case_id":"c1"}',
}


def test_the_canonical_form_is_name_length_value_lines_in_a_fixed_order():
    # Written out by hand from docs/event-store.md, "The hash chain".
    message = (
        "position:1:1\n"
        "stream_id:7:case-c1\n"
        "version:1:1\n"
        "event_type:10:CallRouted\n"
        "schema_version:1:1\n"
        "event_id:3:e-1\n"
        "occurred_at:20:2026-11-03T07:00:00Z\n"
        "recorded_at:20:2026-11-03T07:00:01Z\n"
        "actor:8:user:abc\n"
        "correlation_id:6:corr-1\n"
        "causation_id:0:\n"
        "command_id:5:cmd-1\n"
        'data:34:{"call_id":"pbx-1","case_id":"c1"}\n'
        "prev_hash:64:" + "0" * 64 + "\n"
    ).encode()
    assert chain.canonical(RECORD, chain.GENESIS) == message
    assert chain.event_hash(RECORD, chain.GENESIS) == hashlib.sha256(message).hexdigest()


def test_lengths_count_utf8_bytes_and_every_field_counts():
    named = {**RECORD, "actor": "user:Jörg"}
    assert b"actor:10:user:J\xc3\xb6rg\n" in chain.canonical(named, chain.GENESIS)
    base = chain.event_hash(RECORD, chain.GENESIS)
    for name, other in [("version", 2), ("data", '{"call_id":"pbx-2","case_id":"c1"}'), ("causation_id", "x")]:
        assert chain.event_hash({**RECORD, name: other}, chain.GENESIS) != base, name
    assert chain.event_hash(RECORD, "1" * 64) != base


def routed(n: int) -> ev.CallRouted:
    return ev.CallRouted(call_id=f"pbx-{n}", case_id="c1")


def test_the_memory_store_chains_each_event_to_the_one_before():
    store = MemoryEventStore(lambda: T0)
    meta = lambda i: Metadata(command_id=f"cmd-{i}", actor="user:abc", correlation_id="corr")  # noqa: E731
    store.append(Decision((Append("case-c1", 0, (routed(1), routed(2)), T0),), {}), meta(1))
    store.append(Decision((Append("case-c2", 0, (routed(3),), T0),), {}), meta(2))

    page = store.read_records(0, 10)
    records = page.records
    assert [r["position"] for r in records] == [1, 2, 3]
    assert records[0]["prev_hash"] == chain.GENESIS
    for before, record in zip([None, *records], records, strict=False):
        if before is not None:
            assert record["prev_hash"] == before["hash"]
        assert record["hash"] == chain.event_hash(record, record["prev_hash"])
    assert records[2]["data"] == '{"call_id":"pbx-3","case_id":"c1"}'
    assert store.log_head() == (3, records[2]["hash"])
