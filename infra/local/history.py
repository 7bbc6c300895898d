"""The generated history (`notfall.history`, docs/history.md) on this machine.

`python -m infra.local --history` starts the local stack with it: the commands run in this process
through the use cases against an in-memory store, whose log is then copied into the stack's
tables, and the read model is rebuilt from it. `python -m infra.local.history`
writes it into memory only and prints what was written, how long it took and the log's digest
(the same seed gives the same digest). Posting the commands over HTTP would cost a request each
(about 73,000 for the published years).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from notfall.history.plan import PUBLISHED, Totals

# The rest is imported where it is used: `python -m infra.local token ...` reads this module for
# its options and should stay quick.
if TYPE_CHECKING:
    from infra.local.stack import LocalStack
    from infra.local.stream_pump import StreamPump
    from notfall.domain.envelope import Envelope
    from notfall.history.generate import HistoryClock, Written
    from notfall.store.base import EventStore
    from notfall.store.memory import MemoryEventStore

DEFAULT_SEED = 2014
# The projector may still be reading the stream when the last command is written.
DRAIN_TIMEOUT = 3600.0


def _bar(total: int, desc: str, unit: str = "request"):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, smoothing=0.05)


def write(store: EventStore, totals: Totals, seed: int, clock: HistoryClock, desc: str) -> Written:
    from notfall.history.generate import write_history

    with _bar(totals.consultations, desc) as bar:
        return write_history(store, totals, seed=seed, clock=clock, progress=bar.update)


def load_into_stack(stack: LocalStack, totals: Totals = PUBLISHED, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Loads the history into the running stack, whose tables must be empty; answers what was
    written and the seconds each part took.

    The commands run through the use cases against an in-memory store (the same guarantees,
    see notfall.store.base); its log is copied into the events and commands tables, 25 items a
    request, as a restore would, and the read model is built from the log by the auditors'
    rebuild (notfall.projection.projector.rebuild), one transaction per stream. The stream
    pumps stand still meanwhile and then go on from the stream's end: delivering the history's
    120,000 records one by one took the local projector about 20 minutes, the rebuild writes
    each stream's rows once. Commands after the load are projected from the stream as usual."""
    from notfall.history.generate import HistoryClock
    from notfall.projection.projector import rebuild
    from notfall.projection.readmodel import DynamoReadModel
    from notfall.settings import Settings
    from notfall.store.dynamodb import DynamoEventStore
    from notfall.store.memory import MemoryEventStore
    from notfall.wiring import Wiring

    assert stack.resources is not None, "start the stack first"
    tables = stack.resources.resolve(stack.template.globals_function["Environment"]["Variables"])
    settings = Settings.model_validate(tables)
    wiring = Wiring(settings)
    dynamo = DynamoEventStore(wiring.client, settings.events_table, settings.commands_table)
    if dynamo.read_all(0, 1).events:
        raise RuntimeError("the history loads into an empty stack (start it with --history, without the demo)")
    stack.drain()
    for pump in stack.pumps:
        pump.stop()
    started = time.perf_counter()
    clock = HistoryClock()  # the store stamps each event at the history's moment
    memory = MemoryEventStore(clock=clock)
    written = write(memory, totals, seed, clock, "writing the history")
    wrote = time.perf_counter()
    events = copy_log(memory, wiring.client, settings.events_table, settings.commands_table)
    copied = time.perf_counter()
    sys.stderr.write("building the read model from the log...\n")
    projected = rebuild(memory, DynamoReadModel(wiring.client, settings.read_model_table))
    stack.pumps = [_from_the_end(pump) for pump in stack.pumps]
    return {
        "written": asdict(written),
        "events": events,
        "streams_projected": projected["projected"],
        "seed": seed,
        "span": [totals.first_day.isoformat(), totals.last_day.isoformat()],
        "write_seconds": round(wrote - started, 1),
        "copy_seconds": round(copied - wrote, 1),
        "project_seconds": round(time.perf_counter() - copied, 1),
    }


def _from_the_end(pump: StreamPump) -> StreamPump:
    """A stopped pump's successor that starts after the last record now in the stream."""
    from infra.local.stream_pump import StreamPump

    fresh = StreamPump(replace(pump.source, starting_position="LATEST"), pump.poll_interval, pump.retry_delay)
    fresh.start()
    return fresh


BATCH = 25  # items per BatchWriteItem, DynamoDB's limit


def copy_log(store: MemoryEventStore, client: Any, events_table: str, commands_table: str) -> int:
    """Copies the whole log of `store` into empty DynamoDB tables, in log order: each event as
    the DynamoDB store writes it, each command's item with its first answer, and last the log's counter.
    Answers the number of events."""
    from notfall.store.base import iter_log
    from notfall.store.dynamodb import LOG_COUNTER, command_item, event_item

    envelopes = list(iter_log(store))
    records = store.read_records(0, len(envelopes)).records  # as stored, hashes included
    last_position, last_hash = store.log_head()
    firsts: dict[str, Envelope] = {}
    for env in envelopes:
        firsts.setdefault(env.command_id, env)
    commands = []
    for command_id, env in firsts.items():
        result = store.command_result(command_id)
        assert result is not None
        commands.append(command_item(command_id, result, env.recorded_at.isoformat(), env.actor))
    with _bar(len(envelopes) + len(commands), "copying the log", unit="item") as bar:
        for table, items in ((events_table, [event_item(r) for r in records]), (commands_table, commands)):
            for i in range(0, len(items), BATCH):
                _batch_write(client, table, items[i : i + BATCH])
                bar.update(len(items[i : i + BATCH]))
    counter = {
        "stream_id": {"S": LOG_COUNTER},
        "version": {"N": "0"},
        "last_position": {"N": str(last_position)},
        "last_hash": {"S": last_hash},
    }
    client.put_item(TableName=events_table, Item=counter)
    return len(envelopes)


def _batch_write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    requests: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items]}
    while requests:
        requests = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}


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
