"""Cases by month: the read model that lets the statistics report and the partner statements read
only the cases a period can hold, instead of the whole log.

Rows of a case (part of the case's row set, written with its other rows, see case_rows):
- cases#<YYYY-MM> / case#<id>           one per Berlin month the case's figures can touch: the
                                        case's events as stored (`log`: compressed JSON records)
- places / <municipality>#case#<id>     the household municipality of the case's latest need, so
                                        the report knows every municipality a case names

The months a case touches are the Berlin months of every date and time in its events' payloads,
and of the time each event happened (`occurred_at`: when an outcome was recorded or a caregiver
assigned), and every month between the earliest and the latest. Corrections after the fact
(`SessionCorrected`, `SessionVoided`) and the closing of a case count by their payload only, so a
session corrected years later does not spread its case over the years in between; the months of
the session's first record stay listed, so the report of that period still sees the correction.
A case whose times lie more than MAX_SPAN_MONTHS apart is listed in the months of its times only.
Nothing is read from `recorded_at`: it says when the log learned of a fact, not when it happened.

A case's events are stored in each of its month rows (a case spans one to three months as a
rule). Compressed, a case of a few dozen events takes a few kilobytes; a case whose log would
exceed MAX_LOG_CHARS (hundreds of events) is listed without its log (`log` null), and the
readers load its stream from the event store: slower, never wrong.

The readers put the streams together for the pure folds: the cases of some months, every
partner stream, and any other streams by id. The figures stay those of the folds over the log
(notfall.reports.statistics, notfall.domain.statements), which tests compare with the whole log.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from notfall.domain.case import CASE_PREFIX
from notfall.domain.envelope import Envelope
from notfall.domain.hours import month_of
from notfall.domain.partners import PARTNER_PREFIX
from notfall.projection.partner_rows import PARTNERS_PK
from notfall.projection.readmodel import ReadModel
from notfall.store.base import EventStore

PLACES_PK = "places"
MAX_SPAN_MONTHS = 24
# Well under DynamoDB's 400 KB per item, and a few such rows stay under the 4 MB of one transaction.
MAX_LOG_CHARS = 100_000
# Their times are those of the facts they correct (payload) or of earlier events.
AFTER_THE_FACT = frozenset({"SessionCorrected", "SessionVoided", "CaseClosed"})


def month_pk(month: str) -> str:
    return f"cases#{month}"


def place_key(municipality: str) -> str:
    return municipality.strip().lower()


# --- rows (pure) ------------------------------------------------------------------------


def _times(value: Any) -> Iterator[date]:
    """Every date and datetime in a payload (datetimes and dates are both `date`s)."""
    if isinstance(value, date):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _times(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _times(v)


def _month(value: date) -> str:
    return month_of(value) if isinstance(value, datetime) else value.strftime("%Y-%m")


def _next(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    return f"{year + 1:04d}-01" if mon == 12 else f"{year:04d}-{mon + 1:02d}"


def case_months(envelopes: Iterable[Envelope]) -> list[str]:
    """The Berlin months the case's figures can touch (see the module docstring)."""
    touched: set[str] = set()
    for env in envelopes:
        touched.update(_month(t) for t in _times(env.data.model_dump()))
        if env.event_type not in AFTER_THE_FACT:
            touched.add(month_of(env.occurred_at))
    if not touched:
        return []
    first, last = min(touched), max(touched)
    span = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:]) + 1
    if span > MAX_SPAN_MONTHS:
        return sorted(touched)
    months = [first]
    while months[-1] < last:
        months.append(_next(months[-1]))
    return months


def pack(envelopes: Iterable[Envelope]) -> str | None:
    """The events as compact JSON records, compressed; None when too large for a row."""
    text = json.dumps([e.to_record() for e in envelopes], separators=(",", ":"), sort_keys=True)
    packed = base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")
    return packed if len(packed) <= MAX_LOG_CHARS else None


def unpack(packed: str) -> list[Envelope]:
    records = json.loads(zlib.decompress(base64.b64decode(packed)))
    return [Envelope.from_record(r) for r in records]


def case_log_rows(case_id: str, municipality: str | None, envelopes: list[Envelope]) -> list[dict[str, Any]]:
    """The month rows and the place row of one case (`envelopes`: its whole stream)."""
    ordered = sorted(envelopes, key=lambda e: e.version)
    months = case_months(ordered)
    log = pack(ordered)
    rows: list[dict[str, Any]] = [
        {"pk": month_pk(m), "sk": f"case#{case_id}", "case_id": case_id, "months": months, "log": log} for m in months
    ]
    if municipality:
        rows.append({"pk": PLACES_PK, "sk": f"{place_key(municipality)}#case#{case_id}", "case_id": case_id})
    return rows


# --- readers ----------------------------------------------------------------------------


def case_streams(readmodel: ReadModel, store: EventStore, months: Iterable[str]) -> dict[str, list[Envelope]]:
    """The streams of the cases listed in `months`, as the read model last saw them."""
    out: dict[str, list[Envelope]] = {}
    for month in months:
        for row in readmodel.query(month_pk(month)):
            stream_id = CASE_PREFIX + row["case_id"]
            if stream_id not in out:
                out[stream_id] = unpack(row["log"]) if row["log"] else store.load(stream_id)
    return out


def partner_streams(readmodel: ReadModel, store: EventStore) -> dict[str, list[Envelope]]:
    """Every partner's stream (the register is small), ids from the read model's partner list."""
    ids = sorted({row["partner_id"] for row in readmodel.query(PARTNERS_PK)})
    return {PARTNER_PREFIX + pid: store.load(PARTNER_PREFIX + pid) for pid in ids}


def named_place(readmodel: ReadModel, municipality: str) -> bool:
    """Whether the latest need of any case names `municipality`."""
    return bool(readmodel.query(PLACES_PK, f"{place_key(municipality)}#case#"))
