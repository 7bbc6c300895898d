"""The auditors' log paging on the local stack's moto: CPU time of one `read_all` page (500
events, a Query on the GlobalOrder index) with a small and a large event log.

Run: .venv/bin/python -m bench.log_paging [--sizes 10000 100000] [--store disk|memory] [--own-index]
The log is filled straight into moto's tables (bench.local_stack.fill), in the stack's table
store (`disk`, as `make run`, by default). `--own-index` runs index queries as moto's own
query does (the whole table, sorted, for every page): the local stack before index queries
read one partition.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.harness import stack, table
from bench.local_stack import fill
from infra.local import moto_disk, moto_dynamodb

PAGES = 5  # read_all pages timed per size, each in another log page


def measure(filled: int, store_kind: str) -> dict[str, Any]:
    store = moto_disk.Store() if store_kind == "disk" else None
    previous = moto_disk.use(store)
    try:
        with stack() as (wiring, _, names):
            started = time.perf_counter()
            fill(names, filled)
            fill_s = time.perf_counter() - started
            times, counts = [], []
            for page in range(PAGES):
                after = (filled - 500) * page // PAGES  # spread over the log
                started = time.process_time()
                events = wiring.store.read_all(after=after, limit=500).events
                times.append(time.process_time() - started)
                counts.append(len(events))
            assert counts == [500] * PAGES, counts
    finally:
        moto_disk.use(previous)
        if store:
            store.close()
    return {
        "filled": filled,
        "median_ms": statistics.median(times) * 1000,
        "max_ms": max(times) * 1000,
        "fill_s": fill_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--store", choices=["disk", "memory"], default="disk")
    parser.add_argument("--own-index", action="store_true", help="index queries as moto's own (before)")
    args = parser.parse_args()

    moto_dynamodb.install()
    moto_disk.install()
    if args.own_index:
        moto_dynamodb._index_partition = lambda *_: None  # type: ignore[assignment]
    label = f"{args.store}, " + ("moto's own index query" if args.own_index else "one index partition")
    rows = []
    for filled in args.sizes:
        m = measure(filled, args.store)
        rows.append((label, f"{filled:,}", f"{m['median_ms']:.1f}", f"{m['max_ms']:.1f}", f"{m['fill_s']:.0f}"))
        print(table(rows[-1:], ("store, query", "events", "median ms CPU", "max ms CPU", "fill s")), flush=True)
    print()
    print(table(rows, ("store, query", "events", "median ms CPU", "max ms CPU", "fill s")))


if __name__ == "__main__":
    main()
