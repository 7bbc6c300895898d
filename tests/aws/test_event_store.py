"""DynamoEventStore against moto, on the tables template.yaml declares.

Proves the contract of notfall.store.base on DynamoDB: append/load round-trips envelopes;
a stale or guessed-ahead expected version raises VersionConflict and writes nothing (not
even the other stream of a two-stream decision, not the global counter); a retried command
id writes nothing and returns the first answer (also through Intake); concurrent writers in
real threads: one winner per stream version, and gapless global positions across streams;
read_all pages in global order across index pages and stops at a gap. It also pins the
number of DynamoDB requests each kind of command costs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from race import run_together

import notfall.store.dynamodb as dynamodb_store
from notfall.domain import case as c
from notfall.domain import events as ev
from notfall.domain.commands import CallEventIn, CloseIn, ConsultationIn, NeedIn
from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Metadata
from notfall.domain.errors import DomainError, Rejected, VersionConflict
from notfall.store import chain
from notfall.store.base import envelopes_for, iter_log

NUMBER = "+49 30 1234567"


def meta(command_id: str, actor: str = "tester") -> Metadata:
    return Metadata(command_id=command_id, actor=actor, correlation_id=f"corr-{command_id}")


def call(type_: str, call_id: str, at: str, number: str | None = NUMBER, **extra) -> CallEventIn:
    return CallEventIn(type=type_, call_id=call_id, line="hotline-1", caller_number=number, at=at, **extra)


def decide_call(store, cmd: CallEventIn, new_case_id: str = "case0001") -> Decision:
    """What Intake.call_event decides, from the store's current state."""
    routing_id = c.caller_stream(cmd.caller_number, cmd.call_id)
    routing = c.fold_routing(routing_id, store.load(routing_id))
    target = routing.case_for(cmd.call_id)
    case = c.fold_case(store.load(c.case_stream(target))) if target else None
    return c.decide_call_event(cmd, routing, case, new_case_id)


def need_in(start: str = "2026-10-30T17:00:00Z", end: str = "2026-11-02T07:00:00Z") -> NeedIn:
    return NeedIn(
        persons=[{"kind": "child", "age": 4}],
        location={"kind": "home"},
        window={"start": start, "expected_end": end},
        reasons=["accident"],
        municipality="Berlin",
    )


def consultation(agent: str) -> ConsultationIn:
    return ConsultationIn(agent=agent, started_at="2026-10-30T08:00:00Z", ended_at="2026-10-30T08:30:00Z")


def open_case(aws, case_id: str = "case0001", number: str | None = NUMBER, call_id: str = "c1"):
    store = aws.store()
    cmd = call("started", call_id, "2026-10-30T07:55:00Z", number)
    store.append(decide_call(store, cmd, case_id), meta(f"open-{case_id}"))
    return c.fold_case(store.load(c.case_stream(case_id)))


def snapshot(aws):
    """Everything both tables hold, to show a failed append changed nothing."""
    events = aws.client.scan(TableName=aws.events_table, ConsistentRead=True)["Items"]
    commands = aws.client.scan(TableName=aws.commands_table, ConsistentRead=True)["Items"]
    key = lambda i: sorted((k, str(v)) for k, v in i.items())  # noqa: E731
    return sorted(map(key, events)), sorted(map(key, commands))


# --- append and load --------------------------------------------------------------------------


def test_append_then_load_round_trips_envelopes(aws):
    recorded = datetime(2026, 10, 30, 7, 55, 2, 250000, tzinfo=UTC)
    store = aws.store(clock=lambda: recorded)
    # An offset timestamp: the store must keep it in UTC.
    cmd = call("started", "c1", "2026-10-30T08:55:00+01:00")
    decision = decide_call(store, cmd, "case0001")
    result = store.append(decision, meta("cmd-1", "phone-system"))

    assert result.duplicate is False
    assert result.result == {"case_id": "case0001", "call_id": "c1", "opened": True}
    ledger_id = c.caller_stream(NUMBER, "c1")
    ledger, case = store.load(ledger_id), store.load("case-case0001")
    assert [e.event_type for e in ledger] == ["CallerCaseOpened", "CallRouted"]
    assert [e.event_type for e in case] == ["CaseOpened", "CallStarted"]
    assert [e.version for e in ledger] == [1, 2] and [e.version for e in case] == [1, 2]
    # Positions follow the decision's order: the ledger's append first, then the case's.
    assert [e.position for e in ledger + case] == [1, 2, 3, 4]
    wanted = [e for a in decision.appends for e in a.events]
    assert [e.data for e in ledger + case] == wanted
    for env in ledger + case:
        assert env.occurred_at == datetime(2026, 10, 30, 7, 55, tzinfo=UTC)
        assert env.occurred_at.utcoffset() == timedelta(0) and env.recorded_at.utcoffset() == timedelta(0)
        assert env.recorded_at == recorded  # the store's clock stamps it
        assert (env.actor, env.command_id, env.correlation_id) == ("phone-system", "cmd-1", "corr-cmd-1")
    assert len({e.event_id for e in ledger + case}) == 4
    assert aws.counter() == 4

    # The next event of the call goes to the case only, at version 3, position 5.
    store.append(decide_call(store, call("answered", "c1", "2026-10-30T07:56:00Z", agent="anna")), meta("cmd-2"))
    case = store.load("case-case0001")
    assert [(e.event_type, e.version, e.position) for e in case][-1] == ("CallAnswered", 3, 5)
    assert c.fold_case(case).calls[0].agent == "anna"
    # The raw item: payload as JSON text, the log page derived from the position.
    item = aws.event_items()[-1]
    assert item["log_page"]["N"] == str(5 // dynamodb_store.LOG_PAGE_SIZE)
    assert item["occurred_at"]["S"].endswith("+00:00") or item["occurred_at"]["S"].endswith("Z")
    assert '"agent":"anna"' in item["data"]["S"]


def test_second_append_at_same_expected_version_conflicts(aws):
    state = open_case(aws)
    store = aws.store()
    first = c.decide_need(state, "case0001", need_in(), datetime(2026, 10, 30, 8, tzinfo=UTC))
    second = c.decide_consultation(state, "case0001", consultation("bert"))  # decided on the same state
    store.append(first, meta("need-1"))
    before, counter = snapshot(aws), aws.counter()

    with pytest.raises(VersionConflict) as err:
        store.append(second, meta("consult-1"))
    assert err.value.stream_id == "case-case0001"
    assert snapshot(aws) == before and aws.counter() == counter
    assert store.command_result("consult-1") is None
    assert [e.event_type for e in store.load("case-case0001")][-1] == "NeedClarified"


def test_conflict_on_one_stream_leaves_the_other_stream_untouched(aws):
    open_case(aws)
    store = aws.store()
    # Decided while the case is at version 2 and the caller's ledger at version 2.
    stale = decide_call(store, call("started", "c2", "2026-10-30T09:00:00Z"))
    assert [(a.stream_id.split("-")[0], a.expected_version) for a in stale.appends] == [("caller", 2), ("case", 2)]
    # Meanwhile staff record a consultation: only the case moves.
    state = c.fold_case(store.load("case-case0001"))
    store.append(c.decide_consultation(state, "case0001", consultation("anna")), meta("consult"))
    before, counter = snapshot(aws), aws.counter()
    ledger_before = store.load(c.caller_stream(NUMBER, "c2"))

    with pytest.raises(VersionConflict) as err:
        store.append(stale, meta("call-c2"))

    assert err.value.stream_id == "case-case0001"
    # The ledger's part of the decision was valid on its own, and still nothing was written.
    assert store.load(c.caller_stream(NUMBER, "c2")) == ledger_before
    assert snapshot(aws) == before
    assert aws.counter() == counter == 5
    assert store.command_result("call-c2") is None


def test_condition_check_rejects_an_expected_version_ahead_of_the_stream(aws):
    open_case(aws)  # the case is at version 2
    store = aws.store()
    at = datetime(2026, 10, 30, 9, tzinfo=UTC)
    ahead = Decision((Append("case-case0001", 5, (ev.CaseClosed(reason="guess", closed_at=at),), at),), {"ok": True})
    before = snapshot(aws)

    with pytest.raises(VersionConflict) as err:
        store.append(ahead, meta("ahead"))

    assert err.value.stream_id == "case-case0001"
    assert snapshot(aws) == before
    assert [e.version for e in store.load("case-case0001")] == [1, 2]
    # Behind the stream is refused as well (the version is taken).
    behind = Decision((Append("case-case0001", 1, (ev.CaseClosed(reason="old", closed_at=at),), at),))
    with pytest.raises(VersionConflict):
        store.append(behind, meta("behind"))
    assert snapshot(aws) == before


def test_an_append_without_events_only_requires_its_stream_to_be_at_the_version(aws):
    """How an invoice requires the tariffs it was priced with: it writes nothing to that stream."""
    open_case(aws)  # the case is at version 2
    store = aws.store()
    at = datetime(2026, 10, 30, 9, tzinfo=UTC)
    close = (ev.CaseClosed(reason="done", closed_at=at),)

    def guarded(command_id: str, version: int) -> None:
        store.append(
            Decision((Append("case-other", 0, close, at), Append("case-case0001", version, (), at)), {"ok": True}),
            meta(command_id),
        )

    for stale in (1, 3):  # behind and ahead of the stream
        with pytest.raises(VersionConflict) as err:
            guarded(f"stale-{stale}", stale)
        assert err.value.stream_id == "case-case0001"
    assert store.load("case-other") == []
    guarded("current", 2)
    assert [e.version for e in store.load("case-case0001")] == [1, 2]  # nothing written to the guarded stream
    assert [e.version for e in store.load("case-other")] == [1]


# --- idempotent retries -------------------------------------------------------------------------


def test_same_command_id_appends_nothing_and_returns_the_first_answer(aws):
    state = open_case(aws)
    store = aws.store()
    at = datetime(2026, 10, 30, 8, tzinfo=UTC)
    decision = c.decide_need(state, "case0001", need_in(), at)
    first = store.append(decision, meta("need-1"))
    before, counter = snapshot(aws), aws.counter()
    positions = [e.position for e in store.load("case-case0001")]

    again = store.append(decision, meta("need-1"))
    assert again.duplicate is True and first.duplicate is False
    assert again.result == first.result == {"case_id": "case0001", "version": 3}
    # Even a different decision under the same command id gets the first answer.
    later = c.decide_consultation(c.fold_case(store.load("case-case0001")), "case0001", consultation("x"))
    third = store.append(later, meta("need-1"))
    assert third.duplicate is True and third.result == first.result
    assert snapshot(aws) == before and aws.counter() == counter
    assert [e.position for e in store.load("case-case0001")] == positions


def test_intake_call_event_retried_with_same_command_id(aws):
    intake = aws.intake()
    store = intake.store
    cmd = call("started", "c9", "2026-10-30T07:55:00Z")
    m = meta("phone:c9:started")
    first = intake.call_event(cmd, m)
    case_id = first["case_id"]
    lengths = {s: [e.position for e in store.load(s)] for s in (f"case-{case_id}", c.caller_stream(NUMBER, "c9"))}
    before = snapshot(aws)

    second = intake.call_event(cmd, m)

    assert first["opened"] is True and second == first
    assert {s: [e.position for e in store.load(s)] for s in lengths} == lengths
    assert snapshot(aws) == before


def test_staff_retry_that_would_now_break_a_rule_gets_the_first_answer(aws):
    intake = aws.intake()
    case_id = intake.call_event(call("started", "c1", "2026-10-30T07:55:00Z"), meta("open"))["case_id"]
    close = CloseIn(reason="solved on the phone", at="2026-10-30T08:10:00Z")
    first = intake.close(case_id, close, meta("close-1"))
    before = snapshot(aws)

    again = intake.close(case_id, close, meta("close-1"))  # the case is closed by now

    assert again == first == {"case_id": case_id, "version": 3, "status": "closed"}
    assert snapshot(aws) == before
    with pytest.raises(DomainError):  # a new command id is a new command: the rule applies
        intake.close(case_id, close, meta("close-2"))


def keyed(command_id: str, fingerprint: str) -> Metadata:
    """A command sent with a client's Idempotency-Key: the request's fingerprint comes along."""
    return Metadata(
        command_id=command_id, actor="tester", correlation_id=f"corr-{command_id}", request_fingerprint=fingerprint
    )


def test_a_key_replayed_with_another_request_is_refused_and_writes_nothing(aws, count_requests):
    intake = aws.intake()
    store = intake.store
    case_a = intake.call_event(call("started", "c1", "2026-10-30T07:55:00Z"), meta("open-a"))["case_id"]
    case_b = intake.call_event(call("started", "c2", "2026-10-30T07:56:00Z", "+49 511 7654321"), meta("open-b"))[
        "case_id"
    ]
    close = CloseIn(reason="solved on the phone", at="2026-10-30T08:10:00Z")
    first = intake.close(case_a, close, keyed("key-k", "close a"))
    before = snapshot(aws)

    # The same key for case B: B's decision passes, the transaction fails on the command item.
    with count_requests(aws.client) as calls, pytest.raises(Rejected) as err:
        intake.close(case_b, close, keyed("key-k", "close b"))
    assert err.value.status == 422 and err.value.field == "header.Idempotency-Key"
    assert snapshot(aws) == before
    assert c.fold_case(store.load(c.case_stream(case_b))).status == "open"
    # no extra read: the stored fingerprint comes back with the cancelled transaction
    assert dict(calls) == {"Query": 1, "GetItem": 1, "TransactWriteItems": 1}

    # Case A is closed now, so a replay's decision fails and the store looks the key up: one read.
    with count_requests(aws.client) as calls:
        assert intake.close(case_a, close, keyed("key-k", "close a")) == first
    assert dict(calls) == {"Query": 1, "GetItem": 1}
    with pytest.raises(Rejected):
        intake.close(case_a, CloseIn(reason="another reason", at="2026-10-30T08:10:00Z"), keyed("key-k", "other"))
    assert snapshot(aws) == before


# --- concurrent writers (real threads) ------------------------------------------------------------


def test_threads_on_the_same_stream_version_one_wins(aws):
    state = open_case(aws)
    store = aws.store()
    counter = aws.counter()

    def write(i: int):
        return store.append(c.decide_consultation(state, "case0001", consultation(f"agent{i}")), meta(f"w{i}"))

    outcomes = run_together(aws, 8, write, all_read_first=False)

    wins = [o for o in outcomes if not isinstance(o, Exception)]
    conflicts = [o for o in outcomes if isinstance(o, VersionConflict)]
    assert len(wins) == 1 and len(conflicts) == 7, outcomes
    case = store.load("case-case0001")
    assert [e.version for e in case] == [1, 2, 3]
    assert aws.counter() == counter + 1
    assert [int(i["position"]["N"]) for i in aws.event_items()] == list(range(1, counter + 2))


def test_threads_on_different_streams_get_gapless_positions(aws, count_requests):
    store = aws.store()
    n = 8

    def write(i: int):
        cmd = call("started", f"c{i}", "2026-10-30T07:55:00Z", number=f"+49 30 55500{i:02d}")
        return store.append(decide_call(store, cmd, f"case{i:04d}"), meta(f"open-{i}"))

    # Every writer reads the counter before anybody commits: the first round has one winner
    # and n - 1 writers whose only failed condition is the moved counter.
    with count_requests(aws.client) as calls:
        outcomes = run_together(aws, n, write, all_read_first=True)

    assert all(o.duplicate is False for o in outcomes), outcomes
    items = aws.event_items()
    positions = [int(i["position"]["N"]) for i in items]
    assert positions == list(range(1, 4 * n + 1))  # no gap, no duplicate
    assert aws.counter() == 4 * n
    for i in range(n):
        case = store.load(f"case-case{i:04d}")
        ledger = store.load(c.caller_stream(f"+49 30 55500{i:02d}", f"c{i}"))
        assert [e.version for e in case] == [1, 2] and [e.version for e in ledger] == [1, 2]
        # One command's events take consecutive positions: it committed in one piece.
        assert [e.position for e in ledger + case] == list(range(ledger[0].position, ledger[0].position + 4))
    assert calls["TransactWriteItems"] >= n + (n - 1)  # the store retried on the moved counter
    print(
        f"\n{n} writers on different streams: {calls['TransactWriteItems']} TransactWriteItems "
        f"({calls['TransactWriteItems'] - n} counter retries)"
    )


# --- reading the global log -------------------------------------------------------------------------


def _fill(aws, cases: int = 3):
    """cases x (open: 4 events, consultation: 1 event)"""
    store = aws.store()
    for i in range(cases):
        state = open_case(aws, f"case{i:04d}", f"+49 30 7770{i:03d}", f"c{i}")
        store.append(c.decide_consultation(state, f"case{i:04d}", consultation("anna")), meta(f"consult-{i}"))
    return 5 * cases


def test_read_all_pages_in_global_order(aws):
    total = _fill(aws)
    store = aws.store()
    seen, after, pages = [], 0, 0
    while True:
        page = store.read_all(after, limit=4)
        assert len(page.events) <= 4
        seen += [e.position for e in page.events]
        if not page.events:
            assert page.next_position == after
            break
        assert page.next_position == page.events[-1].position
        after, pages = page.next_position, pages + 1
    assert seen == list(range(1, total + 1))
    assert pages == -(-total // 4)
    assert [e.position for e in iter_log(store, page_size=4)] == seen
    # The same events as the streams hold, in commit order.
    by_stream = {(e.stream_id, e.version): e.event_id for e in iter_log(store)}
    assert len(by_stream) == total


def test_read_all_crosses_log_index_pages(aws, monkeypatch):
    monkeypatch.setattr(dynamodb_store, "LOG_PAGE_SIZE", 3)
    total = _fill(aws)  # 15 events over log pages 0..5
    items = aws.event_items()
    assert {int(i["log_page"]["N"]) for i in items} == set(range(0, 6))
    assert all(int(i["log_page"]["N"]) == int(i["position"]["N"]) // 3 for i in items)
    store = aws.store()

    assert [e.position for e in store.read_all(0, 100).events] == list(range(1, total + 1))
    assert [e.position for e in store.read_all(1, 2).events] == [2, 3]  # across the 2|3 boundary
    assert [e.position for e in store.read_all(2, 4).events] == [3, 4, 5, 6]
    assert [e.position for e in store.read_all(5, 7).events] == list(range(6, 13))
    assert [e.position for e in iter_log(store, page_size=2)] == list(range(1, total + 1))


@pytest.mark.parametrize("missing", [5, 6], ids=["inside-a-log-page", "first-of-a-log-page"])
def test_read_all_stops_at_a_gap(aws, monkeypatch, missing):
    monkeypatch.setattr(dynamodb_store, "LOG_PAGE_SIZE", 3)
    total = _fill(aws)
    store = aws.store()
    # The index has not caught up with one event yet: take it out of the table (and index).
    item = next(i for i in aws.event_items() if int(i["position"]["N"]) == missing)
    key = {"stream_id": item["stream_id"], "version": item["version"]}
    aws.client.delete_item(TableName=aws.events_table, Key=key)

    page = store.read_all(0, 100)
    assert [e.position for e in page.events] == list(range(1, missing))
    assert page.next_position == missing - 1
    stuck = store.read_all(page.next_position, 100)
    assert stuck.events == [] and stuck.next_position == missing - 1  # never a later event
    assert [e.position for e in iter_log(store, page_size=2)] == list(range(1, missing))

    aws.client.put_item(TableName=aws.events_table, Item=item)  # the index catches up
    rest = store.read_all(page.next_position, 100)
    assert [e.position for e in rest.events] == list(range(missing, total + 1))


def test_read_all_fills_its_page_past_a_1mb_response(aws):
    """DynamoDB cuts a Query response at 1 MB (moto too). A page cut short that way is no
    gap and no end of the log: read_all must read on, or iter_log - and with it rebuild and
    the replay check - would stop early."""
    at = datetime(2026, 10, 30, 8, tzinfo=UTC)
    n = 450  # events of ~2.3 KB (long consultation notes): more than 1 MB in all
    consult = ev.ConsultationRecorded(agent="anna", started_at=at, ended_at=at + timedelta(hours=1), notes="x" * 2000)
    appends = [Append(f"case-big{i:04d}", 0, (consult,), at) for i in range(n)]
    records = [chain.stored_record(e) for e in envelopes_for(appends, meta("bulk"), 1, at)]
    chain.seal(records, chain.GENESIS)
    items = [dynamodb_store.event_item(r) for r in records]
    for i in range(0, n, 25):  # written directly: appending one by one is slow on moto
        aws.client.batch_write_item(
            RequestItems={aws.events_table: [{"PutRequest": {"Item": item}} for item in items[i : i + 25]]}
        )
    raw = aws.client.query(
        TableName=aws.events_table,
        IndexName="GlobalOrder",
        Limit=500,
        KeyConditionExpression="log_page = :p",
        ExpressionAttributeValues={":p": {"N": "0"}},
    )
    assert len(raw["Items"]) < n and "LastEvaluatedKey" in raw  # the 1 MB cut happens

    page = aws.store().read_all(0, 500)
    assert [e.position for e in page.events] == list(range(1, n + 1)) and page.next_position == n
    assert sum(1 for _ in iter_log(aws.store())) == n


# --- cost of a command ------------------------------------------------------------------------------


def test_requests_per_command(aws, count_requests):
    intake = aws.intake()
    counts = {}
    with count_requests(aws.client) as calls:
        case_id = intake.call_event(call("started", "c1", "2026-10-30T07:55:00Z"), meta("a"))["case_id"]
    counts["new call (opens a case)"] = dict(calls)
    with count_requests(aws.client) as calls:
        attached = intake.call_event(call("started", "c2", "2026-10-30T09:00:00Z"), meta("b"))
    assert attached == {"case_id": case_id, "call_id": "c2", "opened": False}
    counts["call attaching to the open case"] = dict(calls)
    with count_requests(aws.client) as calls:
        intake.need(case_id, need_in(), meta("c"))
    counts["staff command (need)"] = dict(calls)
    with count_requests(aws.client) as calls:
        intake.need(case_id, need_in(), meta("c"))
    counts["staff command retried (same command id)"] = dict(calls)

    print("\nDynamoDB requests per command:")
    for name, ops in counts.items():
        print(f"  {name}: {sum(ops.values())} {ops}")
    assert counts == {
        # load the caller's ledger; read the counter; one transaction
        "new call (opens a case)": {"Query": 1, "GetItem": 1, "TransactWriteItems": 1},
        # load ledger and case; read the counter; one transaction
        "call attaching to the open case": {"Query": 2, "GetItem": 1, "TransactWriteItems": 1},
        # load the case; read the counter; one transaction
        "staff command (need)": {"Query": 1, "GetItem": 1, "TransactWriteItems": 1},
        # the retry's transaction fails on the command id, whose old item comes back with it
        "staff command retried (same command id)": {"Query": 1, "GetItem": 1, "TransactWriteItems": 1},
    }
