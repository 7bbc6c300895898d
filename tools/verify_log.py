#!/usr/bin/env python3
"""Verify an export of the notfall event log on your own: hash chain, gaps, order, signed checkpoints.

Needs Python 3.11+ and the `cryptography` package only (pip install cryptography); it does not
import anything of the notfall code base, so an auditor can read and run it alone.

    python verify_log.py log.ndjson --key public-key.pem --checkpoint checkpoints/
    python verify_log.py log.ndjson --from 101 --to 200

The export: one JSON object a line, in position order, as `GET /audit/export` gives it. The
checkpoints: the JSON objects `GET /audit/checkpoints/{position}` gives (files, or directories
of *.json). The key: the PEM text, or the JSON `GET /audit/public-key` gives.

It recomputes every event's hash (the canonical form of docs/event-store.md, "The hash chain"),
checks that each event's prev_hash is the hash of the event before it (GENESIS before position
1), that positions run without a gap or a step back, that each checkpoint's signature verifies
and that the event at its position carries the hash it sealed. It stops at the first failure,
names the line, the position and why, and exits 1; 0 means everything checked holds; 2 means
it could not start (bad arguments, unreadable files).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

GENESIS = "0" * 64
FIELDS = (
    "position",
    "stream_id",
    "version",
    "event_type",
    "schema_version",
    "event_id",
    "occurred_at",
    "recorded_at",
    "actor",
    "correlation_id",
    "causation_id",
    "command_id",
    "data",
)
INTEGERS = ("position", "version", "schema_version")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def canonical(record: dict[str, Any], prev_hash: str) -> bytes:
    """`name:<byte length>:value` lines in FIELDS order, then prev_hash; UTF-8; null is empty."""
    out = bytearray()
    for name, value in [*((n, record[n]) for n in FIELDS), ("prev_hash", prev_hash)]:
        raw = ("" if value is None else str(value)).encode("utf-8")
        out += f"{name}:{len(raw)}:".encode() + raw + b"\n"
    return bytes(out)


def event_hash(record: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical(record, prev_hash)).hexdigest()


class Failure(Exception):
    """The first thing that does not hold: kind and what it names."""

    def __init__(self, kind: str, where: str, detail: str) -> None:
        super().__init__(f"{where}: {kind}: {detail}")
        self.kind = kind


@dataclass(frozen=True)
class Checkpoint:
    source: str
    position: int
    hash: str
    sealed_at: str


# --- reading ------------------------------------------------------------------------------------


def malformed(line_no: int, text: str) -> str | None:
    """Why a line is not an event record, or None."""
    try:
        record = json.loads(text)
    except ValueError as err:
        return f"not JSON ({err.msg} at column {err.colno})"
    if not isinstance(record, dict):
        return "not a JSON object"
    missing = [f for f in (*FIELDS, "hash", "prev_hash") if f not in record]
    if missing:
        return "lacks " + ", ".join(missing)
    for name in INTEGERS:
        value = record[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"{name} is not a whole number from 1: {value!r}"
    for name in FIELDS:
        if (
            name not in INTEGERS
            and not isinstance(record[name], str)
            and not (name == "causation_id" and record[name] is None)
        ):
            return f"{name} is not a string"
    for name in ("hash", "prev_hash"):
        if not isinstance(record[name], str) or not HEX64.match(record[name]):
            return f"{name} is not 64 lowercase hex digits"
    return None


def read_export(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    """(line number, record) per line, or (line number, why it is malformed); a final newline ends the file."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out: list[tuple[int, dict[str, Any] | str]] = []
    for n, text in enumerate(lines, start=1):
        problem = "an empty line" if not text.strip() else malformed(n, text)
        out.append((n, problem if problem else json.loads(text)))
    return out


def load_key(path: Path) -> ec.EllipticCurvePublicKey:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        text = json.loads(text)["public_key_pem"]
    key = serialization.load_pem_public_key(text.encode("ascii"))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("the key is not an elliptic-curve public key")
    return key


def checkpoint_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
    return files


def verify_checkpoint(path: Path, key: ec.EllipticCurvePublicKey) -> Checkpoint:
    where = f"checkpoint {path.name}"
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        text, signature = body["statement"], base64.b64decode(body["signature"], validate=True)
        algorithm = body.get("algorithm")
    except (ValueError, KeyError, TypeError, binascii.Error) as err:
        raise Failure("malformed checkpoint", where, f"not a checkpoint object ({err})") from None
    if algorithm != "ECDSA_SHA_256":
        raise Failure("bad signature", where, f"unknown algorithm {algorithm!r}")
    try:
        key.verify(signature, text.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Failure("bad signature", where, "the signature does not verify with the public key") from None
    sealed = json.loads(text)
    return Checkpoint(path.name, int(sealed["position"]), str(sealed["hash"]), str(sealed["sealed_at"]))


# --- the walk -------------------------------------------------------------------------------------


def describe(record: dict[str, Any]) -> str:
    return f"{record['event_type']} of {record['stream_id']} version {record['version']}"


def verify(
    lines: list[tuple[int, dict[str, Any] | str]],
    checkpoints: list[Checkpoint],
    first: int | None = None,
    last: int | None = None,
) -> str:
    """A summary if everything holds; raises Failure at the first thing that does not."""
    if first is not None and last is not None and first > last:
        raise Failure("out of range", "arguments", f"--from {first} is after --to {last}")
    sealed = {c.position: c for c in checkpoints}
    later: dict[int, int] = {}  # position -> line number, of the well-formed lines
    for n, item in lines:
        if isinstance(item, dict):
            later.setdefault(item["position"], n)
    if not lines:
        raise Failure("missing", "export", "the export holds no events")
    expected: int | None = first
    prev: dict[str, Any] | None = None
    for n, item in lines:
        if isinstance(item, str):
            raise Failure("malformed line", f"line {n}", item)
        record, position = item, item["position"]
        where = f"line {n}, position {position}"
        if (first is not None and position < first) or (last is not None and position > last):
            raise Failure("out of range", where, f"outside the range asked for ({first or 1}..{last or 'end'})")
        if expected is None:
            expected = position  # an export of a range starts where it starts
        if position < expected:
            again = "appears twice" if later.get(position, n) < n else "comes back"
            raise Failure("reordered", where, f"position {position} {again} after position {expected - 1}")
        if position > expected:
            if expected in later:
                raise Failure(
                    "reordered", where, f"comes before position {expected} (line {later[expected]}): lines out of order"
                )
            gap = f"{expected}" if position == expected + 1 else f"{expected}..{position - 1}"
            raise Failure(
                "missing",
                where,
                f"position {gap} is not in the export: the log jumps from {expected - 1} to {position}; "
                "an event was removed",
            )
        if event_hash(record, record["prev_hash"]) != record["hash"]:
            raise Failure(
                "changed", where, f"{describe(record)} does not match its hash: it was changed after it was written"
            )
        anchor = prev["hash"] if prev else GENESIS if position == 1 else None
        if anchor is None and position - 1 in sealed:
            anchor = sealed[position - 1].hash
        if anchor is not None and record["prev_hash"] != anchor:
            why = (
                f"prev_hash is not the hash of position {position - 1}: that event was changed, its hash rewritten"
                if position > 1
                else "its prev_hash is not the genesis value: the log does not start here"
            )
            raise Failure("changed", where, why)
        seal = sealed.get(position)
        if seal and record["hash"] != seal.hash:
            raise Failure(
                "changed",
                where,
                f"the hash differs from checkpoint {seal.source} (sealed {seal.sealed_at}): an event at or before "
                f"position {position} was changed and the chain rewritten after the seal",
            )
        prev, expected = record, position + 1
    assert prev is not None
    end = prev["position"]
    if last is not None and end < last:
        raise Failure("missing", "end of export", f"the export ends at position {end}, the range asked for at {last}")
    for c in sorted(checkpoints, key=lambda c: c.position):
        if c.position > end and (last is None or c.position <= last):
            raise Failure(
                "missing",
                "end of export",
                f"the export ends at position {end}, but checkpoint {c.source} (sealed {c.sealed_at}) seals "
                f"position {c.position}: events after {end} are missing",
            )
    start = lines[0][1]["position"] if isinstance(lines[0][1], dict) else "?"
    covered = [c for c in checkpoints if c.position <= end]
    return (
        f"OK: positions {start}..{end}, {len(lines)} events, every hash and link holds; "
        f"{len(covered)} checkpoint(s) verified" + (f" (last at {max(c.position for c in covered)})" if covered else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an export of the notfall event log (hash chain, checkpoints).")
    parser.add_argument("export", type=Path, help="the NDJSON export")
    parser.add_argument("--key", type=Path, help="the public key (PEM, or the JSON of GET /audit/public-key)")
    parser.add_argument(
        "--checkpoint", type=Path, action="append", default=[], help="a checkpoint file or a directory of them"
    )
    parser.add_argument("--from", dest="first", type=int, help="the first position the export must hold")
    parser.add_argument("--to", dest="last", type=int, help="the last position the export must hold")
    args = parser.parse_args(argv)
    files = checkpoint_files(args.checkpoint)
    if files and args.key is None:
        parser.error("checkpoints need --key to verify their signatures")
    try:
        lines = read_export(args.export)
        key = load_key(args.key) if args.key else None
    except (OSError, ValueError, KeyError) as err:
        print(f"cannot read the input: {err}", file=sys.stderr)
        return 2
    try:
        checkpoints = [verify_checkpoint(f, key) for f in files] if key else []
        print(verify(lines, checkpoints, args.first, args.last))
    except Failure as failure:
        print(f"FAILED at {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
