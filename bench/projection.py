"""Items read and requests per projection update, redelivery cost, and rebuild throughput.

Run: make bench   (or .venv/bin/python -m bench.projection)
Records are fed one per event right after each command commits, as the stream delivers
them (KEYS_ONLY); then the whole log is delivered again, as after a retried batch.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from bench.harness import stack, table
from notfall.app.intake import Intake
from notfall.domain.commands import CallEventIn, ConsultationIn, NeedIn, OutcomeIn
from notfall.domain.envelope import Metadata
from notfall.projection.projector import Projector, rebuild
from notfall.projection.readmodel import DynamoReadModel, MemoryReadModel
from notfall.store.base import iter_log

CASES = 40
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
NEED = {
    "persons": [{"kind": "child", "age": 2}, {"kind": "child", "age": 7}],
    "location": {"kind": "home"},
    "window": {"start": "2026-11-30T18:00:00+01:00", "expected_end": "2026-12-01T01:00:00+01:00"},
    "reasons": ["hospital_stay"],
    "municipality": "garbsen",
}


def meta(cid: str) -> Metadata:
    return Metadata(command_id=cid, actor="bench", correlation_id=cid)


def run_case(intake: Intake, i: int) -> Iterator[None]:
    """One case: started, answered, consultation, need, care need, ended (7 case events);
    pauses after each command so that its stream records can be delivered."""
    call = {"call_id": f"p-{i}", "line": "hotline", "caller_number": f"+49 511 {8000000 + i}", "at": T0}

    def phone(kind: str, seconds: int, **more) -> dict:
        event = CallEventIn(type=kind, **{**call, "at": T0 + timedelta(seconds=seconds)}, **more)
        return intake.call_event(event, meta(f"{kind}{i}"))

    case_id = phone("started", 0)["case_id"]
    yield
    phone("answered", 9, agent="ben")
    yield
    intake.consultation(
        case_id, ConsultationIn(agent="ben", started_at=T0, ended_at=T0 + timedelta(minutes=9)), meta(f"c{i}")
    )
    yield
    intake.need(case_id, NeedIn.model_validate(NEED), meta(f"n{i}"))
    yield
    intake.outcome(case_id, OutcomeIn(outcome="care_need"), meta(f"o{i}"))
    yield
    phone("ended", 600)
    yield


def main() -> None:
    with stack() as (wiring, counter, names):
        intake = Intake(wiring.store)
        projector = Projector(wiring.store, wiring.readmodel)
        by_outcome: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
        delivered = 0

        def deliver(label: str, events) -> None:
            for env in events:
                counter.reset()
                started = time.perf_counter()
                outcome = projector.project(env.stream_id, env.version)
                by_outcome[f"{label}: {outcome}"].append(
                    (counter.total, counter.items_read, time.perf_counter() - started)
                )

        for i in range(CASES):
            for _ in run_case(intake, i):
                new = list(iter_log(wiring.store, after=delivered))
                delivered += len(new)
                deliver("after each command", new)
        log = list(iter_log(wiring.store))
        deliver("whole log redelivered", log)

        rows = []
        for label, runs in by_outcome.items():
            n = len(runs)
            rows.append(
                (
                    label,
                    n,
                    f"{sum(r[0] for r in runs) / n:.2f}",
                    f"{sum(r[1] for r in runs) / n:.2f}",
                    max(r[1] for r in runs),
                    f"{sum(r[2] for r in runs) / n * 1000:.1f}",
                )
            )
        print(f"Projection of {len(log)} events ({CASES} cases of 7 events, plus their caller ledgers)\n")
        print(table(rows, ("record", "records", "requests/record", "items read/record", "max items", "ms (moto)")))

        counter.reset()
        started = time.perf_counter()
        replayed = MemoryReadModel()
        stats = rebuild(wiring.store, replayed)
        elapsed = time.perf_counter() - started
        print(
            f"\nRebuild from the global log into memory: {stats['events']} events, {stats['streams']} streams, "
            f"{counter.total} requests ({', '.join(f'{k} {v}' for k, v in counter.ops.items())}), "
            f"{elapsed * 1000:.0f} ms = {stats['events'] / elapsed:.0f} events/s on moto"
        )
        live = DynamoReadModel(wiring.client, names["ReadModelTable"]).dump()
        print("Rebuild equals live read model:", replayed.dump() == live)


if __name__ == "__main__":
    main()
