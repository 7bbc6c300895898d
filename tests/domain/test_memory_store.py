# Proves the in-memory event store keeps the store contract: optimistic versions, atomic appends,
# idempotent command ids, gapless positions.
from __future__ import annotations

import threading

import pytest
from domain_builders import T0

from notfall.domain import events as ev
from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Metadata
from notfall.domain.errors import Rejected, VersionConflict
from notfall.store.base import iter_log
from notfall.store.memory import MemoryEventStore


def routed(n: int) -> ev.CallRouted:
    return ev.CallRouted(call_id=f"pbx-{n}", case_id="c1")


def decision(*appends: tuple[str, int, int], result: dict | None = None) -> Decision:
    """appends: (stream, expected version, number of events)."""
    return Decision(
        tuple(Append(s, v, tuple(routed(i) for i in range(n)), T0) for s, v, n in appends),
        result or {"ok": True},
    )


def meta(command_id: str) -> Metadata:
    return Metadata(command_id=command_id, actor="test", correlation_id="corr")


def log_positions(store: MemoryEventStore) -> list[int]:
    return [e.position for e in iter_log(store)]


def test_versions_and_positions_run_from_one_without_gaps() -> None:
    store = MemoryEventStore()
    store.append(decision(("a", 0, 2), ("b", 0, 1)), meta("1"))
    store.append(decision(("b", 1, 2)), meta("2"))
    store.append(decision(("a", 2, 1)), meta("3"))
    assert [e.version for e in store.load("a")] == [1, 2, 3]
    assert [e.version for e in store.load("b")] == [1, 2, 3]
    assert log_positions(store) == [1, 2, 3, 4, 5, 6]
    # the global log is in commit order, streams interleaved
    assert [(e.stream_id, e.version) for e in iter_log(store)] == [
        ("a", 1),
        ("a", 2),
        ("b", 1),
        ("b", 2),
        ("b", 3),
        ("a", 3),
    ]


def test_a_stale_expected_version_conflicts_and_writes_nothing() -> None:
    store = MemoryEventStore()
    store.append(decision(("a", 0, 1)), meta("1"))
    with pytest.raises(VersionConflict) as err:
        store.append(decision(("a", 0, 1)), meta("2"))
    assert err.value.stream_id == "a" and err.value.status == 409
    with pytest.raises(VersionConflict):
        store.append(decision(("a", 5, 1)), meta("3"))  # ahead of the stream is no better
    assert log_positions(store) == [1]
    assert store.command_result("2") is None  # a failed command is not remembered


def test_an_append_over_several_streams_is_all_or_nothing() -> None:
    store = MemoryEventStore()
    store.append(decision(("caller-x", 0, 1)), meta("1"))
    with pytest.raises(VersionConflict) as err:
        store.append(decision(("case-new", 0, 2), ("caller-x", 0, 1)), meta("2"))
    assert err.value.stream_id == "caller-x"
    assert store.load("case-new") == [] and log_positions(store) == [1]


def test_a_repeated_command_id_returns_the_first_answer_and_writes_nothing() -> None:
    store = MemoryEventStore()
    first = store.append(decision(("a", 0, 1), result={"case_id": "c1"}), meta("k"))
    assert (first.result, first.duplicate) == ({"case_id": "c1"}, False)
    # even a different decision, even one that would conflict: the first answer wins
    again = store.append(decision(("a", 0, 3), result={"case_id": "other"}), meta("k"))
    assert (again.result, again.duplicate) == ({"case_id": "c1"}, True)
    assert log_positions(store) == [1]
    assert store.command_result("k") == {"case_id": "c1"}


def test_events_carry_the_command_metadata() -> None:
    store = MemoryEventStore()
    m = Metadata(command_id="cmd-7", actor="hotline-schulz", correlation_id="corr-7", causation_id="cmd-6")
    store.append(decision(("a", 0, 2)), m)
    for env in store.load("a"):
        assert (env.command_id, env.actor, env.correlation_id, env.causation_id) == (
            "cmd-7",
            "hotline-schulz",
            "corr-7",
            "cmd-6",
        )
        assert env.occurred_at == T0 and env.event_type == "CallRouted" and env.schema_version == 1
    assert len({e.event_id for e in store.load("a")}) == 2


def test_read_all_pages_by_position() -> None:
    store = MemoryEventStore()
    for n in range(7):
        store.append(decision((f"s{n % 3}", n // 3, 1)), meta(str(n)))
    first = store.read_all(0, 3)
    assert [e.position for e in first.events] == [1, 2, 3] and first.next_position == 3
    rest = store.read_all(first.next_position, 10)
    assert [e.position for e in rest.events] == [4, 5, 6, 7] and rest.next_position == 7
    end = store.read_all(7, 10)
    assert end.events == [] and end.next_position == 7
    assert [e.position for e in iter_log(store, page_size=2)] == list(range(1, 8))


def test_concurrent_writers_to_one_stream_one_wins_per_version() -> None:
    store = MemoryEventStore()
    wins, conflicts = [], []
    barrier = threading.Barrier(8)

    def writer(n: int) -> None:
        barrier.wait()
        try:
            store.append(decision(("case-c1", 0, 1)), meta(f"w{n}"))
            wins.append(n)
        except VersionConflict:
            conflicts.append(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(conflicts) == 7
    assert [e.version for e in store.load("case-c1")] == [1] and log_positions(store) == [1]


def keyed(command_id: str, fingerprint: str) -> Metadata:
    """A command sent with a client's Idempotency-Key: the request's fingerprint comes along."""
    return Metadata(command_id=command_id, actor="test", correlation_id="corr", request_fingerprint=fingerprint)


def test_a_key_replayed_with_another_request_is_refused_and_writes_nothing() -> None:
    store = MemoryEventStore()
    first = store.append(decision(("case-a", 0, 1), result={"case_id": "a"}), keyed("k", "close case a"))
    # the same request again: the first answer
    again = store.append(decision(("case-a", 1, 1), result={"case_id": "a"}), keyed("k", "close case a"))
    assert (again.result, again.duplicate) == (first.result, True)
    # the same key with another request: refused, naming the header, and nothing written
    with pytest.raises(Rejected) as err:
        store.append(decision(("case-b", 0, 1), result={"case_id": "b"}), keyed("k", "close case b"))
    assert err.value.status == 422 and err.value.field == "header.Idempotency-Key"
    assert store.load("case-b") == [] and log_positions(store) == [1]
    # looking the first answer up (a retry whose decision failed) checks the request too
    assert store.command_result("k", fingerprint="close case a") == {"case_id": "a"}
    with pytest.raises(Rejected):
        store.command_result("k", fingerprint="close case b")
    # commands without a client's key (phone defaults, internal ids) carry no fingerprint: as before
    assert store.command_result("k") == {"case_id": "a"}
