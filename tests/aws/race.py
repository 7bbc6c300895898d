"""Runs work in several threads at once against moto: the harness of the race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_together(aws, n: int, work: Callable[[int], Any], *, all_read_first: bool) -> list[Any]:
    """Start `work(i)` in n threads at once; return each result or exception.

    all_read_first: every thread's first TransactWriteItems waits until all threads got
    there, so all of them decided on the same caregiver version - the closest possible race."""
    return run_threads(aws.client, n, work, all_read_first=all_read_first)


def run_threads(client: Any, n: int, work: Callable[[int], Any], *, all_read_first: bool) -> list[Any]:
    """`work(i)` in n threads started together; each result or exception. all_read_first: every
    thread's first TransactWriteItems waits until all threads got there (hooks registered on
    `client` afterwards run after that wait)."""
    start, writes = threading.Barrier(n, timeout=30), threading.Barrier(n, timeout=30)
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

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    if all_read_first:
        client.meta.events.register_first(
            "before-parameter-build.dynamodb.TransactWriteItems", hold_first_transaction, unique_id="notfall-hold"
        )
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.TransactWriteItems", unique_id="notfall-hold")
    return outcomes
