"""The local stack's moto: time per append and per stream read, and memory per append, with a
small and a large event log. A command must cost the same with 100 or 100,000 events.

Run: make bench   (or .venv/bin/python -m bench.local_stack [--own])
Each append goes through the real event store (DynamoEventStore): the stream is read (Query on
its partition), then one event is appended (the counter read, then TransactWriteItems: counter,
event, command item). The log is filled first, straight into moto's tables (both tables, one
item per event and per command, without stream records). `--own` measures moto's own methods
as well, at sizes it can bear, to compare.

Times are this process's CPU time (moto runs in it), which other processes' load on the
machine disturbs far less than wall-clock time.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.dynamodb.models import dynamodb_backends

from bench.harness import stack, table
from infra.local import moto_dynamodb
from infra.local.aws import ACCOUNT_ID
from notfall.domain.decision import Append, Decision
from notfall.domain.envelope import Metadata
from notfall.domain.events import CaseOpened
from notfall.store.dynamodb import LOG_COUNTER, LOG_PAGE_SIZE

REGION = "eu-central-1"  # bench.harness's
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
EVENTS_PER_STREAM = 10


def rss_bytes() -> int:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def fill(names: dict[str, str], count: int) -> None:
    """`count` events in streams of ten, and their commands, put straight into moto's tables."""
    tables = dynamodb_backends[ACCOUNT_ID][REGION].tables
    events, commands = tables[names["EventStoreTable"]], tables[names["CommandsTable"]]
    shards = events.stream_shard, commands.stream_shard
    events.stream_shard = commands.stream_shard = None  # no stream records for the filling
    data = json.dumps({"case_id": "filled", "family_id": "f", "channel": "call", "opened_at": T0.isoformat()})
    for position in range(1, count + 1):
        stream, version = divmod(position - 1, EVENTS_PER_STREAM)
        events.put_item(
            {
                "stream_id": {"S": f"case-filled-{stream}"},
                "version": {"N": str(version + 1)},
                "position": {"N": str(position)},
                "log_page": {"N": str(position // LOG_PAGE_SIZE)},
                "data": {"S": data},
                "event_id": {"S": f"filled-{position}"},
                "event_type": {"S": "CaseOpened"},
                "occurred_at": {"S": T0.isoformat()},
                "recorded_at": {"S": T0.isoformat()},
                "actor": {"S": "bench"},
                "correlation_id": {"S": f"fill-{position}"},
                "command_id": {"S": f"fill-{position}"},
                "schema_version": {"N": "1"},
            }
        )
        commands.put_item({"command_id": {"S": f"fill-{position}"}, "answer": {"S": "{}"}})
    events.put_item({"stream_id": {"S": LOG_COUNTER}, "version": {"N": "0"}, "last_position": {"N": str(count)}})
    events.stream_shard, commands.stream_shard = shards


def measure(filled: int, appends: int) -> dict[str, Any]:
    with stack() as (wiring, _, names):
        gc.collect()
        rss_empty, started = rss_bytes(), time.perf_counter()
        fill(names, filled)
        fill_s = time.perf_counter() - started
        gc.collect()
        fill_kb = (rss_bytes() - rss_empty) / filled / 1024
        store = wiring.store
        gc.collect()
        rss_before = rss_bytes()
        reads, writes = [], []
        for i in range(appends):
            stream = f"case-bench-{i // EVENTS_PER_STREAM}"
            started = time.process_time()
            version = len(store.load(stream))
            loaded = time.process_time()
            event = CaseOpened(case_id=f"bench-{i}", family_id="f", channel="call", opened_at=T0)
            at = T0 + timedelta(seconds=i)
            meta = Metadata(command_id=f"bench-{i}", actor="bench", correlation_id=f"bench-{i}")
            store.append(Decision((Append(stream, version, (event,), at),)), meta)
            done = time.process_time()
            reads.append(loaded - started)
            writes.append(done - loaded)
        gc.collect()
        rss_growth = rss_bytes() - rss_before
    tenth = max(appends // 10, 1)
    return {
        "filled": filled,
        "fill_s": fill_s,
        "query_ms": statistics.median(reads) * 1000,
        "append_ms": statistics.median(writes) * 1000,
        "first_ms": statistics.mean(r + w for r, w in zip(reads[:tenth], writes[:tenth], strict=True)) * 1000,
        "last_ms": statistics.mean(r + w for r, w in zip(reads[-tenth:], writes[-tenth:], strict=True)) * 1000,
        "rss_kb": rss_growth / appends / 1024,
        "fill_kb": fill_kb,
    }


def run(label: str, sizes: tuple[int, ...], appends: int) -> list[tuple[Any, ...]]:
    rows = []
    for filled in sizes:
        m = measure(filled, appends)
        rows.append(
            (
                label,
                f"{filled:,}",
                appends,
                f"{m['query_ms']:.2f}",
                f"{m['append_ms']:.2f}",
                f"{m['first_ms']:.2f} / {m['last_ms']:.2f}",
                f"{m['rss_kb']:.1f}",
                f"{m['fill_kb']:.1f}",
                f"{m['fill_s']:.1f}",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--large", type=int, default=100_000, help="events in the large log")
    parser.add_argument("--own", action="store_true", help="also measure moto's own methods (slow)")
    args = parser.parse_args()

    rows = []
    with moto_dynamodb.patched():
        rows += run("patched", (100, args.large), args.appends)
    if args.own:
        moto_dynamodb.uninstall()
        rows += run("moto's own", (100, 2_000), 50)
    header = (
        "moto",
        "events before",
        "appends",
        "median Query ms CPU",
        "median append ms CPU",
        "first/last tenth ms CPU",
        "RSS KB per append",
        "RSS KB per filled event",
        "fill s",
    )
    print("Appending through the event store on the local stack's moto (in-process, no HTTP)\n")
    print(table(rows, header))


if __name__ == "__main__":
    main()
