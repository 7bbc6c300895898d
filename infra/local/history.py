"""The generated history (`notfall.history`, docs/history.md) on this machine.

`python -m infra.local --history` starts the local stack with it: the commands run in this process
through the use cases against an in-memory store, whose log is then copied into the stack's
tables; the stack's projector follows the stream as in the cloud. `python -m infra.local.history`
writes it into memory only and prints what was written, how long it took and the log's digest
(the same seed gives the same digest). Posting the commands over HTTP would cost a request each
(about 73,000 for the published years).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Any

from notfall.history.plan import PUBLISHED, Totals

# The rest is imported where it is used: `python -m infra.local token ...` reads this module for
# its options and should stay quick.
if TYPE_CHECKING:
    from infra.local.stack import LocalStack
    from notfall.domain.decision import Decision
    from notfall.domain.envelope import Envelope, Metadata
    from notfall.history.generate import HistoryClock, Written
    from notfall.store.base import AppendResult, EventStore, LogPage
    from notfall.store.memory import MemoryEventStore

DEFAULT_SEED = 2014
# The projector may still be reading the stream when the last command is written.
DRAIN_TIMEOUT = 3600.0


class WriterCache:
    """The store as the history's writer sees it: each stream is read once, later reads come from
    what the writer appended. Valid while the writer is the only one writing (the stack is
    loading); halves the DynamoDB requests per command. The cached copies carry the right stream
    versions, times and payloads, which is all a decision reads; not their global positions."""

    def __init__(self, store: EventStore, clock: HistoryClock) -> None:
        self._store = store
        self._clock = clock
        self._streams: dict[str, list[Envelope]] = {}

    def load(self, stream_id: str) -> list[Envelope]:
        if stream_id not in self._streams:
            self._streams[stream_id] = self._store.load(stream_id)
        return list(self._streams[stream_id])

    def append(self, decision: Decision, meta: Metadata) -> AppendResult:
        from notfall.store.base import envelopes_for

        result = self._store.append(decision, meta)
        if not result.duplicate:
            for env in envelopes_for(decision.appends, meta, 1, self._clock()):
                self._streams.setdefault(env.stream_id, []).append(env)
        return result

    def command_result(self, command_id: str, fingerprint: str | None = None) -> dict[str, Any] | None:
        return self._store.command_result(command_id, fingerprint)

    def read_all(self, after: int = 0, limit: int = 500) -> LogPage:
        return self._store.read_all(after, limit)


def _bar(total: int, desc: str, unit: str = "request"):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, smoothing=0.05)


def write(store: EventStore, totals: Totals, seed: int, clock: HistoryClock, desc: str) -> Written:
    from notfall.history.generate import write_history

    with _bar(totals.consultations, desc) as bar:
        return write_history(store, totals, seed=seed, clock=clock, progress=bar.update)


def load_into_stack(
    stack: LocalStack, totals: Totals = PUBLISHED, seed: int = DEFAULT_SEED, through_store: bool = False
) -> dict[str, Any]:
    """Writes the history into the running stack's tables and waits for the projection; answers
    what was written and the seconds each part took.

    By default the commands run against an in-memory store (the same guarantees, see
    notfall.store.base) and its log is then copied into the empty events and commands tables,
    25 items a request, as a restore would: the stream carries every event to the projector as
    in the cloud. `through_store` runs every command against the stack's DynamoDB instead (the
    DynamoDB event store's own path; about 25 ms a command here, half an hour for the published
    years)."""
    from notfall.history.generate import HistoryClock
    from notfall.settings import Settings
    from notfall.store.dynamodb import DynamoEventStore
    from notfall.store.memory import MemoryEventStore
    from notfall.wiring import Wiring

    assert stack.resources is not None, "start the stack first"
    tables = stack.resources.resolve(stack.template.globals_function["Environment"]["Variables"])
    settings = Settings.model_validate(tables)
    clock = HistoryClock()
    wiring = Wiring(settings, clock=clock)  # the store stamps each event at the history's moment
    dynamo = DynamoEventStore(wiring.client, settings.events_table, settings.commands_table, clock)
    if dynamo.read_all(0, 1).events:
        raise RuntimeError("the history loads into an empty stack (start it with --history, without the demo)")
    started = time.perf_counter()
    if through_store:
        written = write(WriterCache(dynamo, clock), totals, seed, clock, "writing the history")
    else:
        memory = MemoryEventStore(clock=clock)
        written = write(memory, totals, seed, clock, "writing the history")
        copy_log(memory, wiring.client, settings.events_table, settings.commands_table)
    wrote = time.perf_counter() - started
    sys.stderr.write("projecting the history (the read model follows the stream)...\n")
    stack.drain(timeout=DRAIN_TIMEOUT)
    return {
        "written": asdict(written),
        "events": _last_position(wiring.client, settings.events_table),
        "seed": seed,
        "span": [totals.first_day.isoformat(), totals.last_day.isoformat()],
        "write_seconds": round(wrote, 1),
        "project_seconds": round(time.perf_counter() - started - wrote, 1),
    }


BATCH = 25  # items per BatchWriteItem, DynamoDB's limit


def copy_log(store: MemoryEventStore, client: Any, events_table: str, commands_table: str) -> int:
    """Copies the whole log of `store` into empty DynamoDB tables, in log order: each event as
    the DynamoDB store writes it, each command's item with its first answer, and last the log's counter.
    Answers the number of events."""
    from notfall.store.base import iter_log
    from notfall.store.dynamodb import LOG_COUNTER, command_item, event_item

    envelopes = list(iter_log(store))
    firsts: dict[str, Envelope] = {}
    for env in envelopes:
        firsts.setdefault(env.command_id, env)
    commands = []
    for command_id, env in firsts.items():
        result = store.command_result(command_id)
        assert result is not None
        commands.append(command_item(command_id, result, env.recorded_at.isoformat(), env.actor))
    with _bar(len(envelopes) + len(commands), "copying the log", unit="item") as bar:
        for table, items in ((events_table, [event_item(e) for e in envelopes]), (commands_table, commands)):
            for i in range(0, len(items), BATCH):
                _batch_write(client, table, items[i : i + BATCH])
                bar.update(len(items[i : i + BATCH]))
    counter = {"stream_id": {"S": LOG_COUNTER}, "version": {"N": "0"}, "last_position": {"N": str(len(envelopes))}}
    client.put_item(TableName=events_table, Item=counter)
    return len(envelopes)


def _batch_write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    requests: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items]}
    while requests:
        requests = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}


def _last_position(client: Any, events_table: str) -> int:
    from notfall.store.dynamodb import LOG_COUNTER

    key = {"stream_id": {"S": LOG_COUNTER}, "version": {"N": "0"}}
    return int(client.get_item(TableName=events_table, Key=key)["Item"]["last_position"]["N"])


def totals_from(args: argparse.Namespace) -> Totals:
    return Totals(
        consultations=args.consultations,
        care_minutes=args.care_hours * 60,
        emergencies=args.emergencies,
        transports=args.transports,
        first_day=args.first,
        last_day=args.last,
    )


def add_totals(parser: argparse.ArgumentParser) -> None:
    """The span and totals, the published ones by default."""
    t = PUBLISHED
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="same seed, same history")
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default=t.first_day, metavar="DAY")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, default=t.last_day, metavar="DAY")
    parser.add_argument("--consultations", type=int, default=t.consultations)
    parser.add_argument("--care-hours", type=int, default=t.care_minutes // 60)
    parser.add_argument("--emergencies", type=int, default=t.emergencies)
    parser.add_argument("--transports", type=int, default=t.transports)


def main(argv: list[str] | None = None) -> int:
    from notfall.history.generate import HistoryClock, log_digest
    from notfall.store.base import iter_log
    from notfall.store.memory import MemoryEventStore

    parser = argparse.ArgumentParser(
        prog="python -m infra.local.history",
        description="write the generated history into memory and report it (python -m infra.local --history: "
        "into the local stack)",
    )
    add_totals(parser)
    args = parser.parse_args(argv)
    try:
        totals = totals_from(args)
    except ValueError as err:
        parser.error(str(err))
    clock = HistoryClock()
    store = MemoryEventStore(clock=clock)
    started = time.perf_counter()
    written = write(store, totals, args.seed, clock, "writing the history")
    seconds = time.perf_counter() - started
    events = sum(1 for _ in iter_log(store))
    report = {
        "written": asdict(written),
        "events": events,
        "seconds": round(seconds, 1),
        "digest": log_digest(store),
    }
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
