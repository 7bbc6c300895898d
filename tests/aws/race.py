"""Runs work in several threads at once against moto: the harness of the race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_together(aws, n: int, work: Callable[[int], Any], *, all_read_first: bool) -> list[Any]:
    """Start `work(i)` in n threads at once; return each result or exception.

    all_read_first: every thread's first TransactWriteItems waits until all threads got
    there, so all of them decided on the same caregiver version - the closest possible race."""
    start = threading.Barrier(n, timeout=30)
    writes = threading.Barrier(n, timeout=30)
    local = threading.local()

    def hold_first_transaction(**_: Any) -> None:
        if not getattr(local, "held", False):
            local.held = True
            writes.wait()

    outcomes: list[Any] = [None] * n

    def run(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = work(i)
        except Exception as exc:
            outcomes[i] = exc

    if all_read_first:
        aws.client.meta.events.register("before-call.dynamodb.TransactWriteItems", hold_first_transaction)
    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
    finally:
        aws.client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", hold_first_transaction)
    return outcomes
