"""The demand report: how many emergencies there were, how many got a caregiver, how many
within the target time, and how long that took, grouped by one dimension.

Input are the demand rows of one or more Berlin months (`demand#<YYYY-MM>` / `case#<id>`,
see notfall.projection.case_rows.demand_row). Conventions:

- `needs` counts emergencies; `refused` counts cases whose care was refused because the
  household was not entitled and that never became an emergency: demand the service could
  not meet, in the Berlin month of the first refusal. Refused cases are in no other count.
- `filled`: the need got a caregiver at some point; `unfilled`: the sweep flagged it as
  still without one after the target time; `open`: neither (yet). A need flagged unfilled
  and assigned later counts as both filled and unfilled, so filled + unfilled + open may
  exceed needs.
- `within_target`: assigned within the default target time of 90 minutes
  (notfall.domain.care.CareRules().target_time, as DEFAULT_TARGET_MINUTES in the rows).
- `minutes_to_assignment` figures cover the filled needs only; None when there are none:
  median (for an even count the mean of the two middle values), mean, and p90 (nearest
  rank: the value at rank ceil(0.9 n) of the sorted values), each rounded half up to a whole
  minute; max.
- A need with several age groups or reasons counts once in each of its groups, so groups
  may add up to more than the total. Grouping by unfilled_reason puts needs never flagged
  unfilled under the key None. A None key sorts after all others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from notfall.projection.case_rows import DEFAULT_TARGET_MINUTES

__all__ = [
    "DEFAULT_TARGET_MINUTES",
    "DIMENSIONS",
    "MAX_MONTHS",
    "demand_report",
    "minutes_summary",
    "months_between",
    "summarise",
]

MAX_MONTHS = 24
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _one(field: str) -> Callable[[dict[str, Any]], list[Any]]:
    return lambda row: [row.get(field)]


def _each(field: str) -> Callable[[dict[str, Any]], list[Any]]:
    return lambda row: list(dict.fromkeys(row.get(field) or []))


DIMENSIONS: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
    "municipality": _one("municipality"),
    "weekday": _one("weekday"),  # 0 Monday ... 6 Sunday, Berlin
    "hour": _one("hour"),  # 0 ... 23, Berlin
    "age_group": _each("age_groups"),
    "reason": _each("reasons"),
    "unfilled_reason": _one("unfilled_reason"),
}


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def minutes_summary(values: list[int]) -> dict[str, int | None]:
    if not values:
        return {"median": None, "mean": None, "p90": None, "max": None}
    ordered = sorted(values)
    n = len(ordered)
    middle = n // 2
    median = ordered[middle] if n % 2 else _round(Decimal(ordered[middle - 1] + ordered[middle]) / 2)
    return {
        "median": median,
        "mean": _round(Decimal(sum(ordered)) / n),
        "p90": ordered[math.ceil(Decimal(9) * n / 10) - 1],
        "max": ordered[-1],
    }


def summarise(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    every = list(rows)
    rows = [r for r in every if not r.get("refused")]  # rows written before refusals were recorded lack it
    filled = [r for r in rows if r["filled"]]
    return {
        "needs": len(rows),
        "refused": len(every) - len(rows),
        "filled": len(filled),
        "unfilled": sum(1 for r in rows if r["unfilled"]),
        "open": sum(1 for r in rows if not r["filled"] and not r["unfilled"]),
        "within_target": sum(1 for r in rows if r["within_target"] is True),
        "minutes_to_assignment": minutes_summary(
            [r["minutes_to_assignment"] for r in filled if r["minutes_to_assignment"] is not None]
        ),
    }


def demand_report(rows: list[dict[str, Any]], by: str) -> dict[str, Any]:
    """{"by", "total", "groups": [{"key", **summary}]}; groups sorted by key."""
    keys_of = DIMENSIONS.get(by)
    if keys_of is None:
        raise ValueError(f"by must be one of {', '.join(DIMENSIONS)}")
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        for key in keys_of(row):
            groups.setdefault(key, []).append(row)
    ordered = sorted(groups, key=lambda k: (k is None, k if k is not None else 0))
    return {"by": by, "total": summarise(rows), "groups": [{"key": k, **summarise(groups[k])} for k in ordered]}


def _parse(month: str, name: str) -> tuple[int, int]:
    match = _MONTH.match(month)
    if not match:
        raise ValueError(f"{name} must be a month YYYY-MM")
    return int(match[1]), int(match[2])


def months_between(from_month: str, to_month: str) -> list[str]:
    """Every month from `from_month` to `to_month`, both included; at most MAX_MONTHS."""
    year, month = _parse(from_month, "from")
    to_year, to_month_no = _parse(to_month, "to")
    count = (to_year - year) * 12 + (to_month_no - month) + 1
    if count < 1:
        raise ValueError("to must not be before from")
    if count > MAX_MONTHS:
        raise ValueError(f"a report covers at most {MAX_MONTHS} months")
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
