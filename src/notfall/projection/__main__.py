"""Operators' command for the read models: as of a past day, compared with the log, repaired from it.

    python -m notfall.projection as-of --date 2021-03-05 [--view open-cases|callbacks|rows] [--into TABLE]
    python -m notfall.projection as-of --position 1200
    python -m notfall.projection compare [--json]
    python -m notfall.projection repair --actor ops:<your user> [--json]

It reads the tables of EVENTS_TABLE, COMMANDS_TABLE and READ_MODEL_TABLE with the AWS
credentials of the shell (AWS_ENDPOINT_URL for the local stack). `compare` exits 1 when the
live read model differs from the rebuild; `repair` logs one JSON line (who, when, how many
rows, which keys) on stderr and exits 1 when it left a stream alone that the projector moved
on meanwhile (run compare again).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from notfall.clock import berlin_today
from notfall.domain.errors import DomainError
from notfall.projection.point_in_time import as_of, parse_day
from notfall.projection.projector import write_rows
from notfall.projection.readmodel import STATE_SK, DynamoReadModel
from notfall.projection.repair import logged_repair
from notfall.projection.replay_check import Difference, comparison
from notfall.wiring import Wiring

QUEUES = {"open-cases": "open", "callbacks": "callback"}


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _show(d: Difference) -> str:
    key = "/".join(d.key)
    if d.kind == "changed":
        return f"changed  {key}  {d.field}  live: {json.dumps(d.live)}  rebuilt: {json.dumps(d.rebuilt)}"
    return f"{d.kind:<8} {key}"


def _as_of(args: argparse.Namespace, wiring: Wiring) -> int:
    day = parse_day(args.date, "--date") if args.date else None
    rebuilt = as_of(wiring.store, berlin_today(wiring.clock), args.position, day)
    out: dict[str, Any] = {"as_of": {"date": args.date, **rebuilt.describe()}, "view": args.view}
    if args.view == "rows":
        out["rows"] = rebuilt.readmodel.dump()
    else:
        out["cases"] = rebuilt.readmodel.queue(QUEUES[args.view], limit=10_000)
    if args.into:
        target = DynamoReadModel(wiring.client, args.into)
        rows = {(r["pk"], r["sk"]): r for r in rebuilt.readmodel.dump()}
        for state in (r for r in rows.values() if r["sk"] == STATE_SK):
            owned = [state, *(rows[(pk, sk)] for pk, sk in state["row_keys"])]
            write_rows(target, state["pk"], state["version"], owned)
        out["into"] = {"table": args.into, "rows": len(rows)}
    _out(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


def _compare(args: argparse.Namespace, wiring: Wiring) -> int:
    compared = comparison(wiring.store, wiring.readmodel)
    if args.json:
        _out(json.dumps({**compared.report(), "differences": [d.to_dict() for d in compared.differences]}, indent=2))
    else:
        for d in compared.differences:
            _out(_show(d))
        report = compared.report()
        _out(
            f"{len(compared.differences)} differences in {len(report['differing'])} rows "
            f"({report['rows']} rows rebuilt from {report['events']} events)"
        )
    return 1 if compared.differences else 0


def _repair(args: argparse.Namespace, wiring: Wiring) -> int:
    compared = comparison(wiring.store, wiring.readmodel)
    for d in compared.differences:
        _out(_show(d))
    logged = logged_repair(compared, wiring.readmodel, args.actor, wiring.clock)
    sys.stderr.write(logged["line"] + "\n")  # the operator's log: keys and counts only
    report = logged["report"]
    if args.json:
        _out(json.dumps(report, indent=2))
    else:
        _out(f"put {report['put']} rows, deleted {report['deleted']}, left {report['skipped']} to the projector")
    return 1 if report["skipped"] else 0


def main(argv: list[str] | None = None, wiring: Wiring | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notfall.projection", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    past = commands.add_parser("as-of", help="the read models as of a log position or the end of a Berlin day")
    cut = past.add_mutually_exclusive_group(required=True)
    cut.add_argument("--date", help="a Berlin day YYYY-MM-DD: everything recorded up to 23:59:59 that day")
    cut.add_argument("--position", type=int, help="the last log position to include")
    past.add_argument("--view", choices=[*QUEUES, "rows"], default="open-cases")
    past.add_argument("--into", metavar="TABLE", help="also write the rows into this empty read model table")
    check = commands.add_parser("compare", help="list every difference between the live read model and the log")
    check.add_argument("--json", action="store_true")
    fix = commands.add_parser("repair", help="write the rebuilt rows over the live read model (logged)")
    fix.add_argument("--actor", required=True, help="who repairs: an operator id, no name (it is logged)")
    fix.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    wiring = wiring or Wiring()
    run = {"as-of": _as_of, "compare": _compare, "repair": _repair}[args.command]
    try:
        return run(args, wiring)
    except DomainError as err:
        field = (err.field or "").replace("query.", "--")
        sys.stderr.write((f"{field}: {err.problem}" if field else err.problem) + "\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
