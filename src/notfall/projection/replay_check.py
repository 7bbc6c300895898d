"""Replays the log in memory and compares it with the live read model, row by row and field by field.

The live rows are read first and the log after them: the projector only ever writes what the
log already holds, so the rebuild covers everything the live rows could reflect, and every
difference is either damage or a projector that has not caught up yet (which repair fixes the
same way the projector would).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notfall.projection.projector import rebuild_from
from notfall.projection.readmodel import Key, MemoryReadModel, ReadModel
from notfall.store.base import EventStore, iter_log

MISSING, EXTRA, CHANGED = "missing", "extra", "changed"


@dataclass(frozen=True)
class Difference:
    """One difference: a row only the rebuild has (missing live), only live has (extra), or a
    field whose values differ (changed; `field` is a dotted path into the row)."""

    key: Key
    kind: str
    field: str | None = None
    live: Any = None
    rebuilt: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": "/".join(self.key),
            "kind": self.kind,
            "field": self.field,
            "live": self.live,
            "rebuilt": self.rebuilt,
        }


def _fields(live: dict[str, Any], rebuilt: dict[str, Any], path: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted field, live value, rebuilt value) of every field that differs; None stands for absent."""
    out: list[tuple[str, Any, Any]] = []
    for name in sorted(live.keys() | rebuilt.keys()):
        have, want = live.get(name), rebuilt.get(name)
        if isinstance(have, dict) and isinstance(want, dict):
            out += _fields(have, want, f"{path}{name}.")
        elif have != want or (name in live) != (name in rebuilt):
            out.append((f"{path}{name}", have, want))
    return out


def differences(live: list[dict[str, Any]], rebuilt: list[dict[str, Any]]) -> list[Difference]:
    """Every difference between two sets of rows, in key order."""
    have = {(r["pk"], r["sk"]): r for r in live}
    want = {(r["pk"], r["sk"]): r for r in rebuilt}
    out: list[Difference] = []
    for key in sorted(have.keys() | want.keys()):
        if key not in have:
            out.append(Difference(key, MISSING, rebuilt=want[key]))
        elif key not in want:
            out.append(Difference(key, EXTRA, live=have[key]))
        else:
            out += [Difference(key, CHANGED, f, a, b) for f, a, b in _fields(have[key], want[key])]
    return out


@dataclass(frozen=True)
class Comparison:
    stats: dict[str, int]
    live: list[dict[str, Any]]
    rebuilt: MemoryReadModel
    differences: list[Difference]

    @property
    def differing(self) -> list[Key]:
        return sorted({d.key for d in self.differences})

    def report(self) -> dict[str, Any]:
        """Counts and row keys only (keys carry no personal data): what the nightly check logs."""
        return {
            **self.stats,
            "rows": len(self.rebuilt.dump()),
            "differing": ["/".join(k) for k in self.differing],
            "differences": len(self.differences),
        }


def comparison(store: EventStore, live: ReadModel) -> Comparison:
    """Rebuild from the log alone and set it against the live rows."""
    have = live.dump()  # first: see the module's docstring
    replayed = MemoryReadModel()
    stats = rebuild_from(iter_log(store), replayed)
    return Comparison(stats, have, replayed, differences(have, replayed.dump()))


def compare(store: EventStore, live: ReadModel) -> dict[str, Any]:
    """Rebuild from the log alone and list the rows where the live state differs."""
    return comparison(store, live).report()
