"""Faults injected into real (moto) botocore clients, stores that lack one guarantee, and the
checkers of the invariants that the fault tests assert.

Faults are botocore event hooks on one client, so everything else the client does is real:
- `Inject(client, "TransactWriteItems", "ThrottlingException")` raises the error before the
  request is sent (nothing written: the error a caller sees once botocore's own retries gave up);
- `Inject(..., after=True)` raises it after a successful answer came back: the write happened,
  the answer is lost;
- `OverlapConflicts(client)` cancels a transaction that arrives while another one is in flight,
  with `TransactionConflict` on the global counter, as DynamoDB cancels concurrent transactions
  on one item (moto itself runs one request at a time).

The checkers return a list of violations (empty when the invariant holds), so a test can assert
both that the store keeps it and that a store without the guarantee breaks it.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from notfall.store.dynamodb import LOG_COUNTER, DynamoEventStore


class Killed(BaseException):
    """The function's process dies (timeout, out of memory): no `except Exception` sees it."""


def client_error(client: Any, code: str, operation: str, **extra: Any) -> ClientError:
    """The exception botocore raises for `code`: the modelled class where DynamoDB has one."""
    response = {"Error": {"Code": code, "Message": f"{code} (injected)"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    return client.exceptions.from_code(code)({**response, **extra}, operation)


def conflict(client: Any, items: int, at: int = 0) -> ClientError:
    """TransactionCanceledException with TransactionConflict on item `at` (the counter is item 0)."""
    reasons = [{"Code": "TransactionConflict" if i == at else "None"} for i in range(items)]
    return client_error(client, "TransactionCanceledException", "TransactWriteItems", CancellationReasons=reasons)


class Inject:
    """Raise `code` (an error code, or a function of the request's parameters giving the
    exception) on some calls of `operation` of `client`. `hit(n, params)` picks them (n counts
    the calls from 1); by default a `rate` of the calls, seeded. `after=True`: after a call that
    succeeded, so the write happened and only its answer is lost."""

    def __init__(
        self,
        client: Any,
        operation: str,
        code: str | Callable[[dict[str, Any]], BaseException],
        *,
        after: bool = False,
        hit: Callable[[int, dict[str, Any]], bool] | None = None,
        rate: float = 0.3,
        seed: int = 7,
        service: str = "dynamodb",
    ) -> None:
        self.client, self.operation, self.code, self.after = client, operation, code, after
        self._events = (f"before-parameter-build.{service}.{operation}", f"after-call.{service}.{operation}")
        chance = random.Random(seed)
        self.hit = hit or (lambda _n, _params: chance.random() < rate)
        self.calls = 0
        self.injected = 0
        self._lock = threading.Lock()
        self._request = threading.local()  # the parameters of this thread's call, for `after`
        self._id = f"notfall-fault-{id(self)}"

    def __enter__(self) -> Inject:
        events = self.client.meta.events
        events.register(self._events[0], self._before, unique_id=self._id)
        if self.after:
            events.register(self._events[1], self._after, unique_id=f"{self._id}-after")
        return self

    def __exit__(self, *_: Any) -> None:
        events = self.client.meta.events
        events.unregister(self._events[0], unique_id=self._id)
        events.unregister(self._events[1], unique_id=f"{self._id}-after")

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        self._request.params = params
        if not self.after:
            self._maybe_fail(params)

    def _after(self, http_response: Any, **_: Any) -> None:
        if http_response.status_code < 300:  # a call that failed by itself has no answer to lose
            self._maybe_fail(self._request.params)

    def _maybe_fail(self, params: dict[str, Any]) -> None:
        with self._lock:
            self.calls += 1
            if not self.hit(self.calls, params):
                return
            self.injected += 1
        if callable(self.code):
            raise self.code(params)
        raise client_error(self.client, self.code, self.operation)


def first_time_per_command() -> Callable[[int, dict[str, Any]], bool]:
    """A `hit` for TransactWriteItems of the event store: the first write of each command id."""
    seen: set[str] = set()

    def hit(_n: int, params: dict[str, Any]) -> bool:
        command_id = params["TransactItems"][-1]["Put"]["Item"]["command_id"]["S"]
        first = command_id not in seen
        seen.add(command_id)
        return first

    return hit


class OverlapConflicts:
    """DynamoDB's conflict detection on the global counter, which moto lacks: a TransactWriteItems
    arriving while another is in flight is cancelled with TransactionConflict. The winner keeps
    its slot for `hold` seconds, so that threads started together really overlap."""

    def __init__(self, client: Any, hold: float = 0.003) -> None:
        self.client, self.hold = client, hold
        self.in_flight = 0
        self.injected = 0
        self._lock = threading.Lock()
        self._mine = threading.local()

    def __enter__(self) -> OverlapConflicts:
        events = self.client.meta.events
        events.register(
            "before-parameter-build.dynamodb.TransactWriteItems", self._enter, unique_id="notfall-overlap-in"
        )
        events.register("after-call.dynamodb.TransactWriteItems", self._leave, unique_id="notfall-overlap-out")
        return self

    def __exit__(self, *_: Any) -> None:
        events = self.client.meta.events
        events.unregister("before-parameter-build.dynamodb.TransactWriteItems", unique_id="notfall-overlap-in")
        events.unregister("after-call.dynamodb.TransactWriteItems", unique_id="notfall-overlap-out")

    def _enter(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            if self.in_flight:
                self.injected += 1
                raise conflict(self.client, len(params["TransactItems"]))
            self.in_flight += 1
        self._mine.holding = True
        time.sleep(self.hold)

    def _leave(self, **_: Any) -> None:
        if getattr(self._mine, "holding", False):
            self._mine.holding = False
            with self._lock:
                self.in_flight -= 1


# --- stores without one guarantee (to show that the tests have teeth) ----------------------------


class StoreWithoutCommandCondition(DynamoEventStore):
    """Writes the command item unconditionally: a retried command is not recognised."""

    def _transaction(self, *args: Any) -> list[dict[str, Any]]:
        items = super()._transaction(*args)
        command = items[-1]["Put"]
        del command["ConditionExpression"], command["ReturnValuesOnConditionCheckFailure"]
        return items


class StoreWithoutExpectedVersion(DynamoEventStore):
    """Puts events without the condition that their version is free, and checks no stream's
    version: a writer that decided on an old state overwrites the event written meanwhile."""

    def _transaction(self, *args: Any) -> list[dict[str, Any]]:
        items = [i for i in super()._transaction(*args) if "ConditionCheck" not in i]
        for item in items[1:-1]:
            del item["Put"]["ConditionExpression"]
        return items


class StoreWithoutCounterCondition(DynamoEventStore):
    """Moves the global counter without checking it still holds the value read."""

    def _transaction(self, *args: Any) -> list[dict[str, Any]]:
        items = super()._transaction(*args)
        del items[0]["Update"]["ConditionExpression"]
        items[0]["Update"]["ExpressionAttributeValues"].pop(":old")
        return items


# --- invariants ---------------------------------------------------------------------------------


def log_violations(aws: Any, accepted: dict[str, int], refused: set[str] = frozenset()) -> list[str]:
    """The event log's invariants, from a scan of the events table:
    - every accepted command's events are in the log exactly once (`accepted`: command id ->
      number of events of its decision), a refused command's not at all;
    - each stream's versions are 1, 2, 3 ... without gap or duplicate;
    - global positions are 1 .. counter without gap or duplicate."""
    items = aws.event_items()
    problems: list[str] = []
    per_command = Counter(i["command_id"]["S"] for i in items)
    for command_id, events in sorted(accepted.items()):
        if per_command[command_id] != events:
            problems.append(f"command {command_id}: {per_command[command_id]} events in the log, decided {events}")
    problems += [f"refused command {c} wrote {per_command[c]} events" for c in sorted(refused) if per_command[c]]
    versions: dict[str, list[int]] = defaultdict(list)
    for i in items:
        versions[i["stream_id"]["S"]].append(int(i["version"]["N"]))
    for stream_id, found in sorted(versions.items()):
        if sorted(found) != list(range(1, len(found) + 1)):
            problems.append(f"stream {stream_id}: versions {sorted(found)}")
    positions = sorted(int(i["position"]["N"]) for i in items)
    if positions != list(range(1, aws.counter() + 1)):
        duplicates = sorted(p for p, n in Counter(positions).items() if n > 1)
        problems.append(f"positions not 1..{aws.counter()}: {len(positions)} events, duplicates {duplicates}")
    assert LOG_COUNTER not in versions
    return problems
