"""A bounded load test of the local stack: phone-system clients on loopback post call events,
a share of them sent twice (as a phone system retries), for a fixed count and at most a fixed
time. It reports requests per second, latency percentiles, errors, the latency and the memory
of each thousand requests, and checks in the audit log that every distinct call was recorded
exactly once.

    .venv/bin/python -m infra.local.load                      # 10,000 events, 16 clients, 10 % twice
    .venv/bin/python -m infra.local.load --calls 2000 --clients 4 --duplicates 0.2

Without `--url` it starts its own empty stack in this process, so the memory it reports is the
stack's. Not part of `make test`: it runs for minutes.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import requests

from infra.local.tokens import Tokens

Headers = Callable[[str], dict[str, str]]  # role -> headers of a caller of that role
LINES = ("hotline-1", "hotline-2")


def rss_mb() -> float:
    """This process's resident memory (Linux), in MB; 0 where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Sent:
    index: int  # the request's place in the whole run
    call_id: str
    seconds: float
    status: int


@dataclass
class Plan:
    """Which event each request sends: new calls, and a share of resends of calls already sent."""

    calls: int
    duplicates: float
    run: str
    start: datetime
    rng: random.Random
    _next: int = 0
    _sent: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            if self._next >= self.calls:
                return None
            index = self._next
            self._next += 1
            if self._sent and self.rng.random() < self.duplicates:
                return index, self.rng.choice(self._sent)
            n = len(self._sent)
            body = {
                "type": "started",
                "call_id": f"load-{self.run}-{n:06d}",
                "line": LINES[n % len(LINES)],
                "caller_number": f"+49 511 {7_000_000 + n}",
                "at": (self.start + timedelta(seconds=n)).isoformat(),
            }
            self._sent.append(body)
            return index, body


@dataclass
class Result:
    sent: list[Sent]
    seconds: float
    memory: list[float]  # RSS after each thousand requests
    distinct: int
    recorded: Counter[str]

    def report(self) -> str:
        ok = [s for s in self.sent if s.status < 300]
        errors = Counter(s.status for s in self.sent if s.status >= 300)
        ms = sorted(s.seconds * 1000 for s in self.sent)
        q = statistics.quantiles(ms, n=100) if len(ms) > 1 else ms * 99
        twice = sum(1 for n in self.recorded.values() if n > 1)
        missing = self.distinct - len(self.recorded)
        lines = [
            f"{len(self.sent)} requests ({self.distinct} distinct calls) from the clients in {self.seconds:.1f} s: "
            f"{len(self.sent) / self.seconds:.1f} requests/s",
            f"latency p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, p99 {q[98]:.1f} ms; "
            f"errors {sum(errors.values())} {dict(errors) if errors else ''}".rstrip(),
            f"answered 2xx: {len(ok)}; calls recorded once: {sum(1 for n in self.recorded.values() if n == 1)}, "
            f"twice or more: {twice}, missing: {missing}",
            "per thousand requests (median latency ms / RSS MB after it):",
        ]
        by_thousand = sorted(self.sent, key=lambda s: s.index)
        for k in range(0, len(by_thousand), 1000):
            chunk = [s.seconds * 1000 for s in by_thousand[k : k + 1000]]
            mem = self.memory[k // 1000] if k // 1000 < len(self.memory) else float("nan")
            lines.append(f"  {k + 1:>6}-{k + len(chunk):<6} {statistics.median(chunk):7.1f} ms  {mem:8.0f} MB")
        return "\n".join(lines)

    @property
    def exactly_once(self) -> bool:
        return len(self.recorded) == self.distinct and all(n == 1 for n in self.recorded.values())


def run_load(
    url: str,
    calls: int = 10_000,
    clients: int = 16,
    duplicates: float = 0.1,
    max_seconds: float = 1800,
    headers_for: Headers | None = None,
    seed: int = 0,
    start: datetime | None = None,
    events_table: str | None = None,
) -> Result:
    headers_for = headers_for or Tokens(url).headers  # the stack's demo users: phone system, auditor
    rng = random.Random(seed)
    run = f"{rng.randrange(16**6):06x}"
    plan = Plan(calls, duplicates, run, start or datetime(2026, 3, 2, 7, 0, tzinfo=UTC), rng)
    sent: list[Sent] = []
    memory: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds
    phone = {"Content-Type": "application/json", **headers_for("phone-system")}

    def client() -> None:
        session = requests.Session()  # keep-alive, as a phone system's bridge would
        while time.monotonic() < deadline and (job := plan.take()) is not None:
            index, body = job
            began = time.monotonic()
            try:
                status = session.post(f"{url}/calls/events", json=body, headers=phone, timeout=60).status_code
            except requests.RequestException:
                status = 599  # no answer at all: counted as an error
            with lock:
                sent.append(Sent(index, body["call_id"], time.monotonic() - began, status))
                if len(sent) % 1000 == 0:
                    memory.append(rss_mb())

    began = time.monotonic()
    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - began
    if len(sent) % 1000:
        memory.append(rss_mb())
    distinct = len({s.call_id for s in sent})
    prefix = f"load-{run}-"
    if events_table:
        recorded = recorded_in(events_table, prefix)
    else:
        recorded = recorded_calls(url, prefix, headers_for("auditor"))
    return Result(sent, seconds, memory, distinct, recorded)


def recorded_in(events_table: str, prefix: str) -> Counter[str]:
    """How often the event table holds each call's CallStarted, read by a Scan of the table
    itself: with the stack in this process, the audit route's index query (moto sorts the
    whole index for every page) is not needed to count."""
    counts: Counter[str] = Counter()
    pages = (
        boto3.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=events_table,
            FilterExpression="event_type = :t",
            ExpressionAttributeValues={":t": {"S": "CallStarted"}},
            ProjectionExpression="#d",
            ExpressionAttributeNames={"#d": "data"},
        )
    )
    for page in pages:
        for item in page["Items"]:
            call_id = json.loads(item["data"]["S"]).get("call", {}).get("call_id", "")
            if call_id.startswith(prefix):
                counts[call_id] += 1
    return counts


def recorded_calls(url: str, prefix: str, headers: dict[str, str]) -> Counter[str]:
    """How often the log holds each call's CallStarted, read through the auditors' history."""
    counts: Counter[str] = Counter()
    after = 0
    session = requests.Session()
    while True:
        page = session.get(f"{url}/audit/events", params={"after": after, "limit": 1000}, headers=headers, timeout=60)
        page.raise_for_status()
        body = page.json()
        for event in body["events"]:
            call_id = event["data"].get("call", {}).get("call_id", "") if event["event_type"] == "CallStarted" else ""
            if call_id.startswith(prefix):
                counts[call_id] += 1
        after = body["next_after"]
        if body["complete"]:
            return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.load", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="load this running stack (default: start an empty one in this process)")
    parser.add_argument("--calls", type=int, default=10_000, help="requests to send in all")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duplicates", type=float, default=0.1, help="share of requests that resend a call")
    parser.add_argument("--max-seconds", type=float, default=1800, help="stop sending after this long")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--table-store",
        choices=["disk", "memory"],
        default="disk",
        help="the started stack's tables (see python -m infra.local)",
    )
    args = parser.parse_args(argv)
    kwargs = {
        "calls": args.calls,
        "clients": args.clients,
        "duplicates": args.duplicates,
        "max_seconds": args.max_seconds,
        "seed": args.seed,
    }
    if args.url:
        result = run_load(args.url.rstrip("/"), **kwargs)
    else:
        from infra.local.stack import LocalStack

        stack = LocalStack(port=0, parameters={"LogLevel": "ERROR"}, table_store=args.table_store)
        stack.start()
        sys.stdout.write(f"local stack at {stack.url}, RSS {rss_mb():.0f} MB before the load\n")
        try:
            events = stack.resources.ref("EventStoreTable")
            result = run_load(stack.url, events_table=events, **kwargs)
        finally:
            stack.stop()
    sys.stdout.write(result.report() + "\n")
    if not result.exactly_once:
        sys.stdout.write("FAILED: not every distinct call was recorded exactly once\n")
        return 1
    sys.stdout.write("every distinct call recorded exactly once\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
