"""What input fields accept. `Text` for names, addresses, places, ids and references; `Note`
for free text, which may also hold line breaks and tabs; `Day` and `Moment` for dates and
zoned timestamps: ISO 8601 strings (never numbers) of the years FIRST_YEAR to LAST_YEAR.

Refused everywhere: control characters (C0, DEL, C1), format characters (bidi overrides and
isolates U+202A-202E, U+2066-2069, marks, zero-width spaces, the byte order mark), lone
surrogates and line/paragraph separators. They are invisible or reorder what is printed, and
XML e-invoices cannot hold most of them. The zero-width (non-)joiners stay: some scripts and
emoji need them. Events already in the log are read as stored (`STORED` context).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ValidationInfo

STORED = "stored"  # validation context of events read from the log: never refused afterwards
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_JOINERS = {"\u200c", "\u200d"}


FIRST_YEAR, LAST_YEAR = 2000, 2100  # no partner, contract, care or invoice of this service lies outside
# A Berlin calendar month YYYY-MM of those years, as the pattern of path and query parameters.
MONTH_PATTERN = r"^(20\d\d|2100)-(0[1-9]|1[0-2])$"


def _stored(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and bool(info.context.get(STORED))


def _checker(allowed: set[str]):
    def check(value: str, info: ValidationInfo) -> str:
        if _stored(info):
            return value
        for position, char in enumerate(value):
            if char not in allowed and unicodedata.category(char) in _REFUSED_CATEGORIES:
                raise ValueError(f"holds the control or format character U+{ord(char):04X} at position {position}")
        return value

    return check


Text = Annotated[str, AfterValidator(_checker(_JOINERS))]
Note = Annotated[str, AfterValidator(_checker(_JOINERS | {"\n", "\t"}))]


def _iso(shape: re.Pattern[str], example: str):
    # pydantic would read a number, or a string of digits, as seconds since 1970: 0 became 1970-01-01
    def check(value: Any, info: ValidationInfo) -> Any:
        if _stored(info) or isinstance(value, date):
            return value
        if not isinstance(value, str) or not shape.match(value):
            raise ValueError(f"must be an ISO 8601 string such as {example}")
        return value

    return check


def _in_years(value: date, info: ValidationInfo) -> date:
    if not _stored(info) and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must lie in the years {FIRST_YEAR} to {LAST_YEAR}")
    return value


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")

Day = Annotated[date, BeforeValidator(_iso(_DAY, "2026-03-02")), AfterValidator(_in_years)]
Moment = Annotated[
    AwareDatetime,
    BeforeValidator(_iso(_MOMENT, "2026-03-02T07:30:00+01:00")),
    AfterValidator(_in_years),
    AfterValidator(_utc),
]
"""A zoned timestamp, kept in UTC (as envelope.UtcDatetime)."""
