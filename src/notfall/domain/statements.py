"""A partner's usage statement for a period: a pure fold over case, family, partner and tariff
states. What its employees (companies) or its residents and employees (municipalities) used,
month by month, with small counts suppressed; and the section 3 no. 34a EStG listing of the
employees who consented. The rules are in docs/domain-rules.md ("Partner usage statements").

Who counts for a partner, decided for the Berlin day of each item from the case's latest need:
an employee when the need names the partner as employer (by id or name) and a contract of the
partner covers the day; for a municipality also a resident, when the need's municipality is the
partner's and a contract covers the day. Items: consultations (day they started), emergencies
(day the care need was recorded), care sessions ended and not voided (day they started),
transports done (day of the trip).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from notfall.domain import fees as f
from notfall.domain.case import CaseState
from notfall.domain.eligibility import EligibilityRules, assess_for_invoice
from notfall.domain.errors import Rejected
from notfall.domain.events import Need, Outcome
from notfall.domain.hours import BERLIN, as_hours, whole_minutes
from notfall.domain.partners import PartnerState
from notfall.domain.tariffs import Rounding, Tariffs, Tier, amount_cents

MAX_DAYS = 366  # a statement covers at most a year
DEFAULT_THRESHOLD = 5
TAX_FREE_CAP_CENTS = 60_000  # section 3 no. 34a EStG: 600 EUR per employee and calendar year
TAX_FREE_CHILD_MAX_AGE = 13  # children under 14

COUNTS = ("consultations", "emergencies", "transports")
CARE = ("care_hours", "care_value_cents", "savings_cents", "families_charged_cents")


# --- the period -------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included
    label: str

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def months(self) -> list[str]:
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


def period_of(period: str | None, start: date | None, end: date | None) -> Period:
    """A month `2026-03`, a quarter `2026-Q1`, a year `2026`, or `from`/`to` days (both included)."""
    if period is not None:
        if start is not None or end is not None:
            raise Rejected("give either a period or from and to, not both", field="query.period")
        match = _PERIOD.match(period)
        if not match:
            raise Rejected("period is YYYY, YYYY-MM or YYYY-Qn", field="query.period")
        year = int(match[1])
        if match[2]:
            first, last = f.month_bounds(year, int(match[2]))
        elif match[3]:
            quarter = int(match[3])
            first = date(year, 3 * quarter - 2, 1)
            last = f.month_bounds(year, 3 * quarter)[1]
        else:
            first, last = date(year, 1, 1), date(year, 12, 31)
        return Period(first, last, period)
    if start is None or end is None:
        raise Rejected("give a period, or both from and to", field="query.from" if start is None else "query.to")
    if end < start:
        raise Rejected("to must not be before from", field="query.to")
    if (end - start).days + 1 > MAX_DAYS:
        raise Rejected(f"a statement covers at most {MAX_DAYS} days", field="query.to")
    return Period(start, end, f"{start.isoformat()}/{end.isoformat()}")


def check_threshold(threshold: int) -> int:
    if threshold < 1:
        raise Rejected("threshold must be 1 or more", field="query.threshold")
    return threshold


# --- who counts for the partner ---------------------------------------------------------

Basis = Literal["employee", "resident"]


def basis_on(need: Need | None, partner: PartnerState, day: date) -> Basis | None:
    """Why the need's household counts for the partner on `day`, or None."""
    if need is None or partner.contract_on(day) is None:
        return None
    p = partner.partner
    if need.employer and need.employer.strip().lower() in (p.partner_id, p.name.strip().lower()):
        return "employee"
    if p.kind == "municipality" and need.municipality.strip().lower() == p.municipality.strip().lower():
        return "resident"
    return None


def _day(at: datetime) -> date:
    return at.astimezone(BERLIN).date()


def _children_only(need: Need) -> bool:
    """Section 3 no. 34a EStG as this service applies it: care for children under 14."""
    return all(p.kind == "child" and (p.age or 0) <= TAX_FREE_CHILD_MAX_AGE for p in need.persons)


@dataclass
class _Cell:
    consultations: int = 0
    emergencies: int = 0
    transports: int = 0
    care_minutes: int = 0
    care_value_cents: int = 0
    savings_cents: int = 0
    families_charged_cents: int = 0
    care_cases: set[str] | None = None

    def cases(self) -> set[str]:
        if self.care_cases is None:
            self.care_cases = set()
        return self.care_cases


@dataclass(frozen=True)
class Context:
    partners: list[PartnerState]  # the whole register: a session's tier is decided against it
    tariffs: Tariffs
    rounding: Rounding
    eligibility: EligibilityRules


def _price(tariffs: Tariffs, tier: Tier, day: date) -> int:
    price = tariffs.price_on(tier, day)
    return price.cents_per_hour if price is not None else 0


def _fold(
    cases: Iterable[CaseState], partner: PartnerState, period: Period, ctx: Context, references: dict[str, str]
) -> tuple[dict[str, _Cell], dict[tuple[str, int], dict[str, int]]]:
    """Cells per Berlin month of the period; and per (reference, year) the consenting
    employees' care costs: in the period, and in the year up to the period's end."""
    cells = {month: _Cell() for month in period.months()}
    listing: dict[tuple[str, int], dict[str, int]] = {}
    for case in cases:
        need = case.need
        for c in case.consultations:
            day = _day(c.started_at)
            if day in period and basis_on(need, partner, day):
                cells[day.strftime("%Y-%m")].consultations += 1
        if case.outcome == Outcome.CARE_NEED and case.need_at is not None:
            day = _day(case.need_at)
            if day in period and basis_on(need, partner, day):
                cells[day.strftime("%Y-%m")].emergencies += 1
        for t in case.transports:
            day = _day(t.at)
            if t.status == "done" and day in period and basis_on(need, partner, day):
                cells[day.strftime("%Y-%m")].transports += 1
        reference = references.get(case.family_id)
        for s in case.live_sessions:
            if s.end is None or need is None:
                continue
            day = _day(s.start)
            basis = basis_on(need, partner, day)
            if basis is None or day > period.end:
                continue
            billed = ctx.rounding.billed(whole_minutes(s.start, s.end))
            verdict = assess_for_invoice(need, day, ctx.partners, ctx.eligibility)
            assert verdict.tier is not None, "care given is billed"
            charged = amount_cents(billed, _price(ctx.tariffs, verdict.tier, day))
            if reference and basis == "employee" and _children_only(need) and day.year >= period.start.year:
                entry = listing.setdefault((reference, day.year), {"period_cents": 0, "before_cents": 0})
                entry["period_cents" if day in period else "before_cents"] += charged
            if day not in period:
                continue
            standard = amount_cents(billed, _price(ctx.tariffs, Tier.STANDARD, day))
            cell = cells[day.strftime("%Y-%m")]
            cell.care_minutes += whole_minutes(s.start, s.end)
            cell.care_value_cents += standard
            cell.families_charged_cents += charged
            cell.savings_cents += standard - charged if verdict.tier == Tier.PARTNER else 0
            cell.cases().add(case.case_id)
    return cells, listing


# --- small-count suppression ------------------------------------------------------------


def _pinned(hidden: list[tuple[int, int]], total: int) -> bool:
    """Whether a reader who knows the total, the shown parts and each hidden part's bounds
    (lo, hi) can work out a hidden part exactly: its feasible range is a single value."""
    if len(hidden) == 1:
        return True
    for i, (lo, hi) in enumerate(hidden):
        others = hidden[:i] + hidden[i + 1 :]
        low = max(lo, total - sum(h for _, h in others))
        high = min(hi, total - sum(lo_ for lo_, _ in others))
        if low >= high:
            return True
    return False


def suppress(parts: list[int], total: int, threshold: int) -> tuple[list[str | None], str | None]:
    """Which parts and whether the total are hidden: None is shown; "fewer" (1 to threshold-1,
    primary); "hidden" (secondary: at least the threshold, hidden so that the total and the
    shown parts do not give a primary one away); "withheld" (any part of a total that is itself
    below the threshold: every part of it, zeros too, else the parts would add up to it).

    The total is the sum of the parts; zero is shown. A reader knows the bounds each mark
    implies. While some hidden part can be worked out from the total less the shown parts, the
    smallest shown non-zero part is hidden too; when none is left, the total is hidden."""
    if 0 < total < threshold:
        return ["withheld"] * len(parts), "fewer"
    marks: list[str | None] = ["fewer" if 0 < n < threshold else None for n in parts]
    big = 10**12
    while any(marks):
        hidden = [(1, threshold - 1) if m == "fewer" else (threshold, big) for m in marks if m]
        shown_sum = sum(n for n, m in zip(parts, marks, strict=True) if m is None)
        if not _pinned(hidden, total - shown_sum):
            break
        candidates = [i for i, (n, m) in enumerate(zip(parts, marks, strict=True)) if m is None and n > 0]
        if not candidates:
            return marks, "hidden"
        marks[min(candidates, key=lambda i: (parts[i], i))] = "hidden"
    return marks, None


def _shown(value: Any, mark: str | None, threshold: int) -> Any:
    if mark == "fewer":
        return f"fewer than {threshold}"
    if mark is not None:
        return "suppressed"
    return value


# --- the statement ----------------------------------------------------------------------


def fee_cents(partner: PartnerState, period: Period, bands: tuple[f.HeadcountBand, ...]) -> tuple[int, list[str]]:
    """The partner's contract fee for the period: each contract's fee for a month (monthly) or
    a year (yearly band, per child) times the days of it the period and contract share over
    its days, rounded half up per month or year. Notes name what could not be priced."""
    total, notes = 0, []
    for c in partner.contracts:
        if c.fee_model == "monthly":
            for month in period.months():
                year, mon = (int(x) for x in month.split("-"))
                first, last = f.month_bounds(year, mon)
                days = _shared(c, max(first, period.start), min(last, period.end))
                total += f.pro_rate(c.monthly_fee_cents or 0, days, (last - first).days + 1)
            continue
        for year in range(period.start.year, period.end.year + 1):
            first, last = date(year, 1, 1), date(year, 12, 31)
            days = _shared(c, max(first, period.start), min(last, period.end))
            if days == 0:
                continue
            if c.fee_model == "per_child":
                count = partner.child_counts.get(year)
                if count is None:
                    notes.append(f"no count of children up to age 10 for {year}: its fee is not included")
                    continue
                full = count * f.CENTS_PER_CHILD
            else:
                full = f.band_fee(c.employees_covered or 0, bands)
            total += f.pro_rate(full, days, 366 if calendar.isleap(year) else 365)
    return total, notes


def _shared(contract: Any, start: date, end: date) -> int:
    return f.covered_days(contract, start, end) if start <= end else 0


def _figures(cell: _Cell) -> dict[str, Any]:
    return {
        "consultations": cell.consultations,
        "emergencies": cell.emergencies,
        "transports": cell.transports,
        "care_hours": as_hours(cell.care_minutes),
        "care_value_cents": cell.care_value_cents,
        "savings_cents": cell.savings_cents,
        "families_charged_cents": cell.families_charged_cents,
    }


def statement(
    partner: PartnerState,
    period: Period,
    cases: Iterable[CaseState],
    references: dict[str, str],
    ctx: Context,
    threshold: int = DEFAULT_THRESHOLD,
    bands: tuple[f.HeadcountBand, ...] = f.DEFAULT_HEADCOUNT_BANDS,
) -> dict[str, Any]:
    """The statement as JSON. `references` maps a family id to its payroll reference, for
    the families whose consent stands (see notfall.domain.families)."""
    check_threshold(threshold)
    cells, listing = _fold(cases, partner, period, ctx, references)
    months = list(cells)
    total = _Cell()
    for cell in cells.values():
        for name in ("consultations", "emergencies", "transports", "care_minutes"):
            setattr(total, name, getattr(total, name) + getattr(cell, name))
        for name in ("care_value_cents", "savings_cents", "families_charged_cents"):
            setattr(total, name, getattr(total, name) + getattr(cell, name))
        total.cases().update(cell.cases())
    rows = {m: _figures(cells[m]) for m in months}
    totals = _figures(total)
    for measure in COUNTS:
        marks, total_mark = suppress([getattr(cells[m], measure) for m in months], getattr(total, measure), threshold)
        for m, mark in zip(months, marks, strict=True):
            rows[m][measure] = _shown(rows[m][measure], mark, threshold)
        totals[measure] = _shown(totals[measure], total_mark, threshold)
    # Care figures reveal what few households used: hidden where fewer than `threshold` cases
    # had care, and (amounts add up like counts) so that no hidden month follows from the total.
    care_marks, care_total = suppress([len(cells[m].cases()) for m in months], len(total.cases()), threshold)
    for measure in CARE:
        for m, mark in zip(months, care_marks, strict=True):
            rows[m][measure] = _shown(rows[m][measure], "hidden" if mark else None, threshold)
        totals[measure] = _shown(totals[measure], "hidden" if care_total else None, threshold)
    fee, notes = fee_cents(partner, period, bands)
    p = partner.partner
    return {
        "partner_id": p.partner_id,
        "partner_name": p.name,
        "kind": p.kind,
        "period": {"label": period.label, "from": period.start.isoformat(), "to": period.end.isoformat()},
        "threshold": threshold,
        "months": [{"month": m, **rows[m]} for m in months],
        "total": totals,
        "fee_cents": fee,
        "value_used_cents": totals["care_value_cents"],
        "notes": notes,
        "tax_free_listing": _listing(listing, period),
    }


def _listing(listing: dict[tuple[str, int], dict[str, int]], period: Period) -> list[dict[str, Any]]:
    """Per consenting employee and calendar year: their care costs in the period, and the part
    of them within the yearly cap (the costs of the year before the period use it up first)."""
    out = []
    for (reference, year), entry in sorted(listing.items()):
        if entry["period_cents"] == 0:
            continue
        before = entry["before_cents"]
        through = before + entry["period_cents"]
        capped = min(TAX_FREE_CAP_CENTS, through) - min(TAX_FREE_CAP_CENTS, before)
        out.append(
            {
                "reference": reference,
                "year": year,
                "care_cents": entry["period_cents"],
                "earlier_in_year_cents": before,
                "tax_free_cents": capped,
            }
        )
    return out
