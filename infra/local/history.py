"""The generated history (`notfall.history`, docs/history.md) on this machine.

`python -m infra.local --history` starts the local stack with it: the commands run in this process
through the use cases against the stack's DynamoDB tables (moto), the stack's projector follows the
stream as in the cloud. `python -m infra.local.history` writes it into an in-memory store and prints
what was written, how long it took and the log's digest (the same seed gives the same digest).
Writing through HTTP would cost a request per command (about 73,000 for the published years).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Any

from notfall.domain.decision import Decision
from notfall.domain.envelope import Envelope, Metadata
from notfall.history.generate import HistoryClock, Written, log_digest, write_history
from notfall.history.plan import PUBLISHED, Totals
from notfall.store.base import AppendResult, EventStore, LogPage, envelopes_for

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

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
        result = self._store.append(decision, meta)
        if not result.duplicate:
            for env in envelopes_for(decision.appends, meta, 1, self._clock()):
                self._streams.setdefault(env.stream_id, []).append(env)
        return result

    def command_result(self, command_id: str, fingerprint: str | None = None) -> dict[str, Any] | None:
        return self._store.command_result(command_id, fingerprint)

    def read_all(self, after: int = 0, limit: int = 500) -> LogPage:
        return self._store.read_all(after, limit)


def _bar(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="request", smoothing=0.05)


def write(store: EventStore, totals: Totals, seed: int, clock: HistoryClock, desc: str) -> Written:
    with _bar(totals.consultations, desc) as bar:
        return write_history(store, totals, seed=seed, clock=clock, progress=bar.update)


def load_into_stack(stack: LocalStack, totals: Totals = PUBLISHED, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Writes the history into the running stack's tables and waits for the projection; answers
    what was written and the seconds each part took."""
    from notfall.settings import Settings
    from notfall.store.dynamodb import DynamoEventStore
    from notfall.wiring import Wiring

    assert stack.resources is not None, "start the stack first"
    tables = stack.resources.resolve(stack.template.globals_function["Environment"]["Variables"])
    settings = Settings.model_validate(tables)
    clock = HistoryClock()
    wiring = Wiring(settings, clock=clock)  # the store stamps each event at the history's moment
    store = WriterCache(DynamoEventStore(wiring.client, settings.events_table, settings.commands_table, clock), clock)
    started = time.perf_counter()
    written = write(store, totals, seed, clock, "writing the history")
    wrote = time.perf_counter() - started
    sys.stderr.write("projecting the history (the read model follows the stream)...\n")
    stack.drain(timeout=DRAIN_TIMEOUT)
    return {
        "written": asdict(written),
        "seed": seed,
        "span": [totals.first_day.isoformat(), totals.last_day.isoformat()],
        "write_seconds": round(wrote, 1),
        "project_seconds": round(time.perf_counter() - started - wrote, 1),
    }


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
