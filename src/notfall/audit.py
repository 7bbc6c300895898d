"""Auditors' command line: export the log and fetch the checkpoints and the public key over the API.

    python -m notfall.audit export --url URL --token TOKEN > log.ndjson       (progress on stderr)
    python -m notfall.audit checkpoints --url URL --token TOKEN --out checkpoints/

`export` pages through `GET /audit/export` as an auditor, keeping the log's end of the first page
(`--to`, else the end when it starts), so appends while it runs never shift the pages; a page cut
short where the index has not caught up yet is asked again after a pause. A position that stays
missing for about ten seconds is a gap in the log: the export goes on past it (with a warning),
so that verify names it. `checkpoints` saves every
checkpoint as `<position>.json` and the key as `public-key.pem`. Check both with the standalone
tools/verify_log.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

PAGE = 1000
_STALLS = 20  # empty pages in a row (about 10 s) before a missing position counts as a gap, not index lag


def _get(url: str, token: str) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Authorization": token})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.read(), dict(response.headers.items())
    except urllib.error.HTTPError as err:
        body = err.read().decode(errors="replace")
        raise SystemExit(f"GET {urllib.parse.urlsplit(url).path} answered {err.code}: {body}") from None


def export(
    url: str,
    token: str,
    out: IO[str],
    first: int = 1,
    last: int | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
    pause: float = 0.5,
    stall_limit: int = _STALLS,
) -> tuple[int, int]:
    """Write positions first..last (default: the end when it starts) to `out`; (lines, last position)."""
    position, written, stalls, holes = first, 0, 0, False
    while True:
        query: dict[str, Any] = {"from": position, "limit": PAGE, **({"to": last} if last is not None else {})}
        if holes:
            query["holes"] = "true"
        asked = position
        body, headers = _get(f"{url}/audit/export?{urllib.parse.urlencode(query)}", token)
        headers = {k.lower(): v for k, v in headers.items()}
        last = int(headers["x-export-to"])
        text = body.decode("utf-8")
        out.write(text)
        lines = text.count("\n")
        written += lines
        position = int(headers["x-next-from"])
        progress(written, last - first + 1)
        if holes:
            if not lines:
                raise SystemExit(f"positions {position}..{last} are missing from the log")
            sys.stderr.write(f"the log has a gap at position {asked}: the export goes on past it; verify names it\n")
            holes = False
        if position > last:
            return written, last
        stalls = 0 if lines else stalls + 1
        if stalls > stall_limit:
            holes = True  # no index lags that long: a missing event; pass over it so that verify names it
        elif not lines:
            time.sleep(pause)  # the index is catching up


def save_checkpoints(url: str, token: str, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    after, count = 0, 0
    while True:
        body, _ = _get(f"{url}/audit/checkpoints?after={after}&limit=1000", token)
        listed = json.loads(body)
        for c in listed["checkpoints"]:
            one, _ = _get(f"{url}/audit/checkpoints/{c['position']}", token)
            (folder / f"{c['position']}.json").write_bytes(one)
            after, count = c["position"], count + 1
        if listed["complete"]:
            break
    key, _ = _get(f"{url}/audit/public-key", token)
    (folder / "public-key.pem").write_text(json.loads(key)["public_key_pem"], encoding="ascii")
    return count


def _bar(total: int) -> Any:
    from tqdm import tqdm  # type: ignore[import-untyped]  # a tool of the dev environment, not of the functions

    return tqdm(total=total, unit="event", file=sys.stderr, smoothing=0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notfall.audit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("export", "checkpoints"):
        sub = commands.add_parser(name)
        sub.add_argument("--url", required=True, help="the API, e.g. http://127.0.0.1:3000")
        sub.add_argument(
            "--token", default=os.environ.get("NOTFALL_TOKEN"), help="an auditor's token (or NOTFALL_TOKEN)"
        )
        if name == "export":
            sub.add_argument("--from", dest="first", type=int, default=1)
            sub.add_argument("--to", dest="last", type=int)
            sub.add_argument("--out", type=Path, help="a file (default: standard output)")
        else:
            sub.add_argument("--out", type=Path, required=True, help="a folder")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or NOTFALL_TOKEN) is needed")
    url = args.url.rstrip("/")
    if args.command == "checkpoints":
        count = save_checkpoints(url, args.token, args.out)
        sys.stderr.write(f"{count} checkpoint(s) and public-key.pem in {args.out}\n")
        return 0
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = _bar(total)
        bar.update(done - bar.n)

    out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
    try:
        lines, last = export(url, args.token, out, args.first, args.last, progress)
    finally:
        if bar is not None:
            bar.close()
        if args.out:
            out.close()
    sys.stderr.write(f"{lines} events, positions {args.first}..{last}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
