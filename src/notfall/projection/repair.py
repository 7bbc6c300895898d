"""Repair the live read model from a rebuild of the log: put changed and missing rows, delete extra ones.

Safe beside the stream projector, by the projector's own rule: a stream's rows are only
replaced together with its state row, on the condition that the state row is still exactly
as read (the projector's compare-and-swap is on that row's version; any write of the
projector changes it). So a stream is repaired as one write guarded by its state row:
- its live state row is newer than the rebuild (the projector moved on since): left alone;
- the state row changes between our read and our write: the write is refused, left alone
  (the projector's rows reflect the newer log);
- otherwise the rebuilt rows go in and the live rows the stream no longer has go out.
An extra row no rebuilt stream owns is deleted on the condition that it is still exactly as
compared. Rows that already equal the rebuild are not written, so a second run (or a run on
a healthy read model) writes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notfall.projection.readmodel import STATE_SK, Key, ReadModel
from notfall.projection.replay_check import Comparison

logger = logging.getLogger("notfall.repair")


@dataclass
class Repair:
    put: list[Key] = field(default_factory=list)
    deleted: list[Key] = field(default_factory=list)
    skipped: list[Key] = field(default_factory=list)  # state rows of streams the projector moved on

    def report(self, actor: str, at: datetime) -> dict[str, Any]:
        """Who, when, how many and which keys: no row contents (keys carry no personal data)."""
        return {
            "actor": actor,
            "at": at.isoformat(),
            "put": len(self.put),
            "deleted": len(self.deleted),
            "skipped": len(self.skipped),
            "put_keys": ["/".join(k) for k in self.put],
            "deleted_keys": ["/".join(k) for k in self.deleted],
            "skipped_keys": ["/".join(k) for k in self.skipped],
        }


def _owned(state: dict[str, Any]) -> list[Key]:
    return [(state["pk"], STATE_SK), *[(pk, sk) for pk, sk in state.get("row_keys", [])]]


def repair(compared: Comparison, live: ReadModel) -> Repair:
    """Make the live rows equal the rebuild of `compared`, stream by stream (see the module's docstring)."""
    want = {(r["pk"], r["sk"]): r for r in compared.rebuilt.dump()}
    have = {(r["pk"], r["sk"]): r for r in compared.live}
    differing = set(compared.differing)
    owner = {key: (r["pk"], r["sk"]) for r in want.values() if r["sk"] == STATE_SK for key in _owned(r)}
    done = Repair()
    handled: set[Key] = set()
    for state_key in sorted({owner[k] for k in differing if k in owner}):
        rows = [want[k] for k in _owned(want[state_key])]
        seen = live.snapshot(*state_key)
        if seen is not None and seen.row.get("version", 0) > want[state_key]["version"]:
            done.skipped.append(state_key)
            continue
        listed = _owned(seen.row) if seen is not None and seen.row.get("sk") == STATE_SK else []
        puts = [r for r in rows if (r["pk"], r["sk"]) in differing]
        deletes = sorted(k for k in set(listed) if k not in want and k in have)
        handled |= {*_owned(want[state_key]), *deletes}
        if not live.swap(puts, deletes, state_key, seen):
            done.skipped.append(state_key)
            continue
        done.put += [(r["pk"], r["sk"]) for r in puts]
        done.deleted += deletes
    for key in sorted(k for k in differing - handled if k not in want):
        seen = live.snapshot(*key)
        if seen is None:
            continue  # gone already
        if seen.row == have[key] and live.swap([], [key], key, seen):
            done.deleted.append(key)
        else:
            done.skipped.append(key)
    return done


def logged_repair(compared: Comparison, live: ReadModel, actor: str, clock: Callable[[], datetime]) -> dict[str, Any]:
    """Repair, and log who did it, when, and which rows (keys only) as one JSON line on the
    `notfall.repair` logger; the line is returned too."""
    report = repair(compared, live).report(actor, clock())
    line = json.dumps({"level": "INFO", "message": "read model repaired from the log", "repair": report})
    logger.info(line)
    return {"report": report, "line": line}
