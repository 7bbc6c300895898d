"""Replays the whole log in memory and compares it with the live read model."""

from __future__ import annotations

from typing import Any

from notfall.projection.projector import rebuild
from notfall.projection.readmodel import MemoryReadModel, ReadModel
from notfall.store.base import EventStore


def compare(store: EventStore, live: ReadModel) -> dict[str, Any]:
    """Rebuild from the log alone and list the rows where the live state differs."""
    replayed = MemoryReadModel()
    stats = rebuild(store, replayed)
    want = {(r["pk"], r["sk"]): r for r in replayed.dump()}
    have = {(r["pk"], r["sk"]): r for r in live.dump()}
    differing = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
    return {**stats, "rows": len(want), "differing": [f"{pk}/{sk}" for pk, sk in differing]}
