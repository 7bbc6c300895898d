"""Faults injected into the event store's DynamoDB calls on moto; each test names the invariant
it asserts (see faults.log_violations and docs/event-store.md, "Faults and invariants").

Invariants: every accepted command's events are in the log exactly once; versions per stream
and global positions gapless. The variants marked "broken store" run the same scenario against
a store without one guarantee and expect the checker to report the violation.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from faults import (
    Inject,
    OverlapConflicts,
    StoreWithoutCommandCondition,
    StoreWithoutCounterCondition,
    StoreWithoutExpectedVersion,
    conflict,
    first_time_per_command,
    log_violations,
)
from race import run_threads

from notfall.app.execute import execute
from notfall.domain import case as c
from notfall.domain.commands import CallEventIn, ConsultationIn
from notfall.domain.envelope import Metadata
from notfall.domain.errors import VersionConflict
from notfall.store.dynamodb import DynamoEventStore

CASES = [f"case{i:04d}" for i in range(6)]
ATTEMPTS = 30  # a client retrying a command with the same Idempotency-Key


def meta(command_id: str) -> Metadata:
    return Metadata(command_id=command_id, actor="tester", correlation_id=f"corr-{command_id}")


def open_cases(aws, cases: list[str] = CASES) -> dict[str, int]:
    """Opens each case by a started call (4 events: case and caller ledger, 2 each); no faults."""
    store, accepted = aws.store(), {}
    for n, case_id in enumerate(cases):
        cmd = CallEventIn(
            type="started",
            call_id=f"c{n}",
            line="hotline-1",
            caller_number=f"+49 30 5550{n:03d}",
            at="2026-10-30T07:55:00Z",
        )
        routing_id = c.caller_stream(cmd.caller_number, cmd.call_id)
        decision = c.decide_call_event(cmd, c.fold_routing(routing_id, store.load(routing_id)), None, case_id)
        store.append(decision, meta(f"open-{case_id}"))
        accepted[f"open-{case_id}"] = 4
    return accepted


def consult(store: DynamoEventStore, case_id: str, command_id: str) -> dict[str, Any]:
    """One staff command: a consultation on a case (1 event), decided from the stream as it is now."""
    cmd = ConsultationIn(agent="anna", started_at="2026-10-30T08:00:00Z", ended_at="2026-10-30T08:30:00Z")

    def decide():
        return c.decide_consultation(c.fold_case(store.load(c.case_stream(case_id))), case_id, cmd)

    return execute(store, meta(command_id), decide)


def until_accepted(command: Any, attempts: int = ATTEMPTS) -> tuple[Any, int]:
    """What a client does with a 5xx or 409: send the same command (same key) again."""
    for attempt in range(1, attempts + 1):
        try:
            return command(), attempt
        except (ClientError, VersionConflict):
            continue
    raise AssertionError(f"not accepted after {attempts} attempts")


def workload(store: DynamoEventStore) -> tuple[dict[str, int], list[int]]:
    """Two consultations on each case, each retried by its client until accepted."""
    accepted, attempts = {}, []
    for round_ in range(2):
        for case_id in CASES:
            command_id = f"consult-{case_id}-{round_}"
            _, tries = until_accepted(lambda case_id=case_id, cid=command_id: consult(store, case_id, cid))
            accepted[command_id] = 1
            attempts.append(tries)
    return accepted, attempts


# --- throttling before the write ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("TransactWriteItems", "ProvisionedThroughputExceededException"),
        ("Query", "ThrottlingException"),  # loading the stream to decide
        ("GetItem", "ProvisionedThroughputExceededException"),  # reading the global counter
    ],
)
def test_throttled_appends_each_command_once_versions_and_positions_gapless(aws, operation, code) -> None:
    """Invariant: every accepted command's events once; versions and positions gapless, while
    30 % of the store's writes (or stream loads, or counter reads) are throttled."""
    accepted = open_cases(aws)
    store = aws.store()
    with Inject(aws.client, operation, code) as fault:
        more, attempts = workload(store)
    assert fault.injected > 0 and max(attempts) > 1  # the fault really hit commands
    assert log_violations(aws, {**accepted, **more}) == []
    assert [e.version for e in store.load(c.case_stream(CASES[0]))] == [1, 2, 3, 4]  # by hand: opened (2), 2 consults


# --- the answer lost after the write ------------------------------------------------------------


@pytest.mark.parametrize(
    ("store_class", "holds"),
    [(DynamoEventStore, True), (StoreWithoutCommandCondition, False)],
    ids=["store", "broken-store-without-command-id-condition"],
)
def test_lost_answers_after_the_write_each_command_once(aws, store_class, holds) -> None:
    """Invariant: every accepted command's events in the log exactly once, although the answer
    of each command's first write is lost (throttled after it committed) and the client sends
    the command again: the command id recognises the retry and answers as the first time."""
    accepted = open_cases(aws)
    store = store_class(aws.client, aws.events_table, aws.commands_table)
    lose_first = Inject(
        aws.client, "TransactWriteItems", "ThrottlingException", after=True, hit=first_time_per_command()
    )
    with lose_first as fault:
        more, attempts = workload(store)
    assert fault.injected == len(more)  # each command's first write committed and its answer was lost
    assert attempts == [2] * len(more)

    violations = log_violations(aws, {**accepted, **more})
    if holds:
        assert violations == []
        # the retry got the first answer: the consultation recorded once, at version 3
        assert [e.event_type for e in store.load(c.case_stream(CASES[0]))][2:] == ["ConsultationRecorded"] * 2
    else:
        assert len(violations) == len(more), violations
        assert violations[0] == f"command consult-{CASES[0]}-0: 2 events in the log, decided 1"


def test_a_retry_whose_answer_is_lost_again_still_appends_once(aws) -> None:
    """Invariant: every accepted command's events once, when the retry's answer is lost too
    (the retry's cancelled transaction answers with the stored result)."""
    accepted = open_cases(aws, CASES[:1])
    store = aws.store()
    lose_all = Inject(
        aws.client, "TransactWriteItems", "ProvisionedThroughputExceededException", after=True, hit=lambda *_: True
    )
    with lose_all, pytest.raises(ClientError):
        consult(store, CASES[0], "consult-once")
    first = consult(store, CASES[0], "consult-once")  # the cancellation is an error answer: not lost
    assert first == consult(store, CASES[0], "consult-once")
    assert log_violations(aws, {**accepted, "consult-once": 1}) == []


# --- TransactionConflict -----------------------------------------------------------------------


def test_transaction_conflicts_are_retried_never_half_written(aws) -> None:
    """Invariant: every accepted command's events once, versions and positions gapless, while
    DynamoDB cancels 30 % of the transactions with TransactionConflict: the store tries again
    by itself (no answer reaches the client), and nothing of a cancelled transaction is written."""
    accepted = open_cases(aws)
    store = aws.store()
    with Inject(aws.client, "TransactWriteItems", lambda p: conflict(aws.client, len(p["TransactItems"]))) as fault:
        more, attempts = workload(store)
    assert fault.injected > 0 and attempts == [1] * len(more)
    assert log_violations(aws, {**accepted, **more}) == []


def test_a_transaction_conflict_that_never_ends_answers_409_and_writes_nothing(aws, monkeypatch) -> None:
    """Invariant: a refused command wrote nothing (409 VersionConflict), the log stays gapless."""
    import notfall.store.dynamodb as dynamodb_store

    monkeypatch.setattr(dynamodb_store, "_COUNTER_ATTEMPTS", 4)
    accepted = open_cases(aws, CASES[:1])
    with (
        Inject(
            aws.client,
            "TransactWriteItems",
            lambda p: conflict(aws.client, len(p["TransactItems"])),
            hit=lambda *_: True,
        ) as fault,
        pytest.raises(VersionConflict),
    ):
        consult(aws.store(), CASES[0], "consult-refused")
    assert fault.injected == 4
    assert log_violations(aws, accepted, refused={"consult-refused"}) == []


# --- real concurrent transactions on the global counter ----------------------------------------


@pytest.mark.parametrize(
    ("store_class", "overlap", "holds"),
    [
        (DynamoEventStore, True, True),
        (DynamoEventStore, False, True),
        (StoreWithoutCounterCondition, False, False),
    ],
    ids=[
        "store-dynamodb-cancels-overlaps",
        "store-all-read-the-counter-first",
        "broken-store-without-counter-condition",
    ],
)
def test_concurrent_appends_to_different_streams_positions_gapless_each_command_once(
    aws, store_class, overlap, holds
) -> None:
    """Invariant: global positions 1..n without gap or duplicate, every command's events once,
    with 6 threads appending to 6 streams at once. Every thread reads the counter before any
    writes; with `overlap`, a transaction arriving while another is in flight is cancelled with
    TransactionConflict (as DynamoDB does), so the store's conflict path runs for real."""
    accepted = open_cases(aws)
    store = store_class(aws.client, aws.events_table, aws.commands_table)

    def work(i: int) -> dict[str, Any]:
        return consult(store, CASES[i], f"together-{i}")

    conflicts = OverlapConflicts(aws.client)
    if overlap:
        with conflicts:
            outcomes = run_threads(aws.client, len(CASES), work, all_read_first=True)
    else:
        outcomes = run_threads(aws.client, len(CASES), work, all_read_first=True)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert conflicts.injected > 0 if overlap else conflicts.injected == 0

    violations = log_violations(aws, {**accepted, **{f"together-{i}": 1 for i in range(len(CASES))}})
    if holds:
        assert violations == []
    else:
        # all six committed from the same counter value: positions 25..25 six times
        assert violations == [f"positions not 1..25: {4 * len(CASES) + len(CASES)} events, duplicates [25]"]


@pytest.mark.parametrize(
    ("store_class", "holds"),
    [(DynamoEventStore, True), (StoreWithoutExpectedVersion, False)],
    ids=["store", "broken-store-without-expected-version"],
)
def test_concurrent_commands_on_one_stream_each_once_versions_gapless(aws, store_class, holds) -> None:
    """Invariant: every accepted command's events exactly once, versions and positions gapless,
    when 6 threads decide on the same version of one case at once: the losers get 409 and
    their clients send the command again."""
    accepted = open_cases(aws, CASES[:1])
    store = store_class(aws.client, aws.events_table, aws.commands_table)

    def work(i: int) -> int:
        return until_accepted(lambda: consult(store, CASES[0], f"same-{i}"))[1]

    attempts = run_threads(aws.client, 6, work, all_read_first=True)
    assert not [a for a in attempts if isinstance(a, BaseException)], attempts

    violations = log_violations(aws, {**accepted, **{f"same-{i}": 1 for i in range(6)}})
    if holds:
        assert violations == []
        assert sorted(attempts)[-1] > 1  # the losers really were refused and came again
        assert [e.version for e in store.load(c.case_stream(CASES[0]))] == list(range(1, 9))  # by hand: 2 + 6
    else:
        # five consultations were overwritten by the sixth, at version 3: accepted, but lost
        assert sum("0 events in the log" in v for v in violations) == 5, violations
