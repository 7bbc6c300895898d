"""The statistics report: the service's figures for any run of Berlin months, overall, for one
municipality or for one partner, as a pure fold over the event log (exact counts, no rows).

What each figure counts is written down in docs/domain-rules.md ("The statistics report"); in
short, every figure is counted at the time of its own event, in Berlin time:

- consultations: `ConsultationRecorded`, by `started_at`.
- calls: `CallStarted` and `VoicemailLeft`, every call or voicemail, by its `at`.
- requests: cases opened (`CaseOpened`, any channel), by `opened_at`; a call that joins an open
  case is the same request. `requests_by_channel` splits them by the opening channel.
- emergencies: cases whose outcome is a concrete care need (`OutcomeRecorded` care_need), by
  the time the outcome was recorded; `emergency_share_percent` is emergencies over requests.
- care_minutes: the ended, not voided care sessions (latest correction), real elapsed whole
  minutes split at Berlin month ends; `care_hours` is care_minutes / 60.
- transports: transport services done (`TransportDone`), in the month of the trip (`at` of
  `TransportBooked`); booked and cancelled trips are not services.
- unmet demand: `NeedUnfilled` by `detected_at` (no caregiver after the target time) and cases
  refused care that never became an emergency, by their first `CareRefused`.
- time to assignment: emergencies whose first `CaregiverAssigned` lies in the period, minutes
  from the care need to it.
- load: requests by Berlin weekday (0 Monday) and hour.
- reasons, age groups, children and adults: the emergencies of the period, by their latest need.

A case belongs to a municipality by its latest need (cases without a need to none), and to a
partner when the need names it as employer (by id or name) or the household lives in a partner
municipality, on the Berlin day care starts under a contract of that partner. Coverage is the
partner register on the period's last day.

Corrections: an event recorded after the period's end that changes the period's figures is
listed under `corrections` (its stream, the figures it changed, the late events); without one,
a period over never changes.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from notfall.domain.case import CaseState, care_day, fold_case
from notfall.domain.envelope import Envelope
from notfall.domain.errors import Rejected
from notfall.domain.events import Outcome
from notfall.domain.hours import BERLIN, month_of
from notfall.domain.matching import needed_groups
from notfall.domain.partners import PARTNER_PREFIX, PartnerState, fold_partner
from notfall.projection.case_rows import DEFAULT_TARGET_MINUTES, cared_minutes
from notfall.reports.demand import minutes_summary

__all__ = ["CITY_INHABITANTS", "MAX_MONTHS", "Period", "period", "statistics", "to_csv"]

MAX_MONTHS = 240  # twenty years: the whole history of the service fits, a typo of a century does not
CITY_INHABITANTS = 539_641  # the city's inhabitants as published; a setting (CITY_INHABITANTS)
CASE_PREFIX = "case-"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_SERIES = ("requests", "consultations", "emergencies", "care_minutes", "transports")
# Where an internal counter shows in the report, for the names of corrected figures.
_SECTION = {
    "month": "monthly",
    "emergencies_by_kind": "children_and_adults",
    "care_minutes_by_kind": "children_and_adults",
    "persons": "children_and_adults",
    "assigned": "unmet_demand",
    "within_target": "unmet_demand",
}
_MAIN = ("consultations", "calls", "requests", "emergencies", "care_minutes", "transports", "unfilled", "refused")


@dataclass(frozen=True)
class Period:
    months: tuple[str, ...]
    start: datetime  # Berlin midnight of the first month's first day
    end: datetime  # Berlin midnight after the last month: the period is [start, end)
    last_day: date

    def holds(self, at: datetime) -> bool:
        return self.start <= at < self.end


def _parse(month: str, field: str) -> tuple[int, int]:
    match = _MONTH.match(month)
    if not match:
        raise Rejected(f"{field.split('.')[-1]} must be a month YYYY-MM", field=field)
    return int(match[1]), int(match[2])


def period(from_month: str, to_month: str) -> Period:
    """The Berlin months from `from_month` to `to_month`, both included; 422 naming the field."""
    year, month = _parse(from_month, "query.from")
    to_year, to_no = _parse(to_month, "query.to")
    count = (to_year - year) * 12 + (to_no - month) + 1
    if count < 1:
        raise Rejected("to must not be before from", field="query.to")
    if count > MAX_MONTHS:
        raise Rejected(f"a report covers at most {MAX_MONTHS} months", field="query.to")
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    start = datetime.combine(date(int(from_month[:4]), int(from_month[5:]), 1), time(), BERLIN)
    after = date(year, month, 1)
    return Period(tuple(months), start, datetime.combine(after, time(), BERLIN), after - timedelta(days=1))


# --- what one case contributes ------------------------------------------------------------


@dataclass
class Contribution:
    counts: Counter[tuple[Any, ...]]
    waits: list[int]  # minutes to the first assignment, for assignments in the period

    def same(self, other: Contribution) -> bool:
        return +self.counts == +other.counts and sorted(self.waits) == sorted(other.waits)


def _kind(state: CaseState) -> str | None:
    if state.need is None:
        return None
    kinds = {p.kind for p in state.need.persons}
    return "both" if len(kinds) == 2 else "children" if kinds == {"child"} else "adults"


def case_contribution(state: CaseState, p: Period) -> Contribution:
    """The figures one case adds to the period (keys are tuples: figure, then its breakdown)."""
    c: Counter[tuple[Any, ...]] = Counter()
    months = set(p.months)
    if p.holds(state.opened_at):
        local = state.opened_at.astimezone(BERLIN)
        c["requests",] += 1
        c["requests_by_channel", state.channel] += 1
        c["load", local.weekday(), local.hour] += 1
        c["month", month_of(state.opened_at), "requests"] += 1
    for talk in state.consultations:
        if p.holds(talk.started_at):
            c["consultations",] += 1
            c["month", month_of(talk.started_at), "consultations"] += 1
    c["calls",] += sum(1 for call in state.calls if (at := call.started_at or call.voicemail_at) and p.holds(at))
    kind = _kind(state)
    emergency = state.outcome == Outcome.CARE_NEED and state.need_at is not None
    if emergency and state.need is not None and state.need_at is not None and p.holds(state.need_at):
        c["emergencies",] += 1
        c["month", month_of(state.need_at), "emergencies"] += 1
        c["emergencies_by_kind", kind] += 1
        c["persons", "children"] += sum(1 for x in state.need.persons if x.kind == "child")
        c["persons", "adults"] += sum(1 for x in state.need.persons if x.kind == "adult")
        for group in needed_groups(state.need):
            c["age_groups", group.value] += 1
        for reason in dict.fromkeys(state.need.reasons):
            c["reasons", reason.value] += 1
    for month, minutes in cared_minutes(state).items():
        if month in months:
            c["care_minutes",] += minutes
            c["care_minutes_by_kind", kind] += minutes
            c["month", month, "care_minutes"] += minutes
    for trip in state.transports:
        if trip.status == "done" and month_of(trip.at) in months:
            c["transports",] += 1
            c["month", month_of(trip.at), "transports"] += 1
    if state.unfilled is not None and p.holds(state.unfilled.detected_at):
        c["unfilled",] += 1
    if state.need_at is None and state.refusals and p.holds(state.refusals[0].refused_at):
        c["refused",] += 1
    waits = []
    first = state.first_assigned_at
    if first is not None and state.need_at is not None and p.holds(first):
        wait = int((first - state.need_at).total_seconds() // 60)
        waits.append(wait)
        c["assigned",] += 1
        c["within_target",] += wait <= DEFAULT_TARGET_MINUTES
    return Contribution(c, waits)


# --- who a case belongs to ----------------------------------------------------------------


def _norm(text: str | None) -> str:
    return (text or "").strip().lower()


def partners_of(state: CaseState, partners: Iterable[PartnerState]) -> list[str]:
    """Partners whose people the case served: the named employer, or the household's partner
    municipality, with a contract on the Berlin day care starts (as eligibility decides)."""
    need = state.need
    if need is None:
        return []
    day = care_day(need)
    employer, home = _norm(need.employer), _norm(need.municipality)
    out = []
    for p in partners:
        named = bool(employer) and employer in (p.partner.partner_id, _norm(p.partner.name))
        resident = p.partner.kind == "municipality" and _norm(p.partner.municipality) == home
        if (named or resident) and p.contract_on(day) is not None:
            out.append(p.partner.partner_id)
    return out


def _coverage(partners: Iterable[PartnerState], day: date) -> Counter[str]:
    c: Counter[str] = Counter()
    for p in partners:
        contract = p.contract_on(day)
        if contract is None:
            continue
        if p.partner.kind == "company":
            c["partner_companies"] += 1
            c["employees"] += contract.employees_covered or p.partner.employees or 0
        else:
            c["partner_municipalities"] += 1
            c["inhabitants"] += p.partner.inhabitants or 0
    return c


# --- the report ---------------------------------------------------------------------------


def _streams(envelopes: Iterable[Envelope]) -> dict[str, list[Envelope]]:
    out: dict[str, list[Envelope]] = {}
    for env in envelopes:
        out.setdefault(env.stream_id, []).append(env)
    return out


def _percent(part: int, whole: int) -> float | None:
    if not whole:
        return None
    return float((Decimal(100 * part) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _hours(minutes: int) -> float:
    return float((Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _main(c: Counter[tuple[Any, ...]]) -> dict[str, Any]:
    figures: dict[str, Any] = {name: c[name,] for name in _MAIN}
    figures["care_hours"] = _hours(figures["care_minutes"])
    figures["emergency_share_percent"] = _percent(figures["emergencies"], figures["requests"])
    return figures


def _keyed(c: Counter[tuple[Any, ...]], name: str) -> dict[str, int]:
    return {str(k[1]): v for k, v in sorted(c.items(), key=lambda kv: str(kv[0][1:])) if k[0] == name and v}


def statistics(
    envelopes: Iterable[Envelope],
    p: Period,
    *,
    partner: str | None = None,
    municipality: str | None = None,
    city: str = "hannover",
    city_inhabitants: int = CITY_INHABITANTS,
    places: Iterable[str] = (),
) -> dict[str, Any]:
    """The report for period `p`, overall or for one partner or municipality (422 if unknown).

    `envelopes`: the whole log, or at least every partner stream and every case stream with
    figures in the period (notfall.app.statistics reads those from the read model). `places`:
    municipalities that cases outside `envelopes` name, so that they are known too."""
    streams = _streams(envelopes)
    register = {
        sid[len(PARTNER_PREFIX) :]: ps
        for sid, events in streams.items()
        if sid.startswith(PARTNER_PREFIX) and (ps := fold_partner(events)) is not None
    }
    cases = {sid: s for sid, events in streams.items() if sid.startswith(CASE_PREFIX) and (s := fold_case(events))}
    home = {s.case_id: _norm(s.need.municipality) if s.need else None for s in cases.values()}
    known_places = {m for m in home.values() if m} | {_norm(x.partner.municipality) for x in register.values()}
    known_places |= {_norm(m) for m in places}
    if partner is not None and partner not in register:
        raise Rejected(f"no partner {partner}", field="query.partner")
    if municipality is not None and _norm(municipality) not in known_places | {_norm(city)}:
        raise Rejected(f"no case or partner names the municipality {municipality}", field="query.municipality")

    def belongs(state: CaseState, partners: Iterable[PartnerState]) -> bool:
        if partner is not None and partner not in partners_of(state, partners):
            return False
        return municipality is None or home[state.case_id] == _norm(municipality)

    total: Counter[tuple[Any, ...]] = Counter()
    waits: list[int] = []
    by_place: dict[str | None, Counter[tuple[Any, ...]]] = {}
    by_partner: dict[str, Counter[tuple[Any, ...]]] = {}
    corrections = []
    partners_now = list(register.values())
    contributions = {sid: case_contribution(state, p) for sid, state in cases.items()}
    active = [sid for sid, c in contributions.items() if +c.counts or c.waits]  # with figures in the period
    for sid, state in cases.items():
        if not belongs(state, partners_now):
            continue
        mine = contributions[sid]
        if +mine.counts or mine.waits:  # only municipalities and partners with figures get a row
            total += mine.counts
            waits += mine.waits
            by_place.setdefault(home[state.case_id], Counter()).update(mine.counts)
            for pid in partners_of(state, partners_now):
                by_partner.setdefault(pid, Counter()).update(mine.counts)
        late = [e for e in streams[sid] if e.recorded_at >= p.end]
        if late:
            before = fold_case(e for e in streams[sid] if e.recorded_at < p.end)
            was = case_contribution(before, p) if before else Contribution(Counter(), [])
            if not was.same(mine):
                corrections.append(_correction(sid, was, mine, late))

    # The register as it stood at the period's end: coverage, and whom each partner's figures held.
    for pid, partner_state in register.items():
        late = [e for e in streams[PARTNER_PREFIX + pid] if e.recorded_at >= p.end]
        if not late or partner not in (None, pid):
            continue
        partner_before = fold_partner(e for e in streams[PARTNER_PREFIX + pid] if e.recorded_at < p.end)
        then = [partner_before] if partner_before else []

        def served(states: list[PartnerState]) -> set[str]:
            """The cases with figures in the period that the partner's people account for."""
            here = [sid for sid in active if municipality is None or home[cases[sid].case_id] == _norm(municipality)]
            return {sid for sid in here if states and partners_of(cases[sid], states)}

        changed = sorted(
            name
            for name, differs in (
                ("coverage", _coverage(then, p.last_day) != _coverage([partner_state], p.last_day)),
                ("cases", served(then) != served([partner_state])),
            )
            if differs
        )
        if changed:
            corrections.append({"stream_id": PARTNER_PREFIX + pid, "figures": changed, "events": _late(late)})

    shown = [register[partner]] if partner else list(register.values())
    if municipality is not None:
        shown = [
            x
            for x in shown
            if x.partner.kind == "municipality" and _norm(x.partner.municipality) == _norm(municipality)
        ]
    counted = _coverage(shown, p.last_day)
    coverage: dict[str, Any] = {
        k: counted[k] for k in ("partner_companies", "employees", "partner_municipalities", "inhabitants")
    }
    if partner is None and (municipality is None or _norm(municipality) == _norm(city)):
        coverage["city"] = city
        coverage["city_inhabitants"] = city_inhabitants

    return {
        "from": p.months[0],
        "to": p.months[-1],
        "months": len(p.months),
        "scope": {"partner": partner, "municipality": municipality},
        "figures": _main(total),
        "requests_by_channel": _keyed(total, "requests_by_channel"),
        "unmet_demand": {
            "unfilled": total["unfilled",],
            "refused": total["refused",],
            "assigned": total["assigned",],
            "within_target": total["within_target",],
            "target_minutes": DEFAULT_TARGET_MINUTES,
            "minutes_to_assignment": minutes_summary(waits),
        },
        "coverage": coverage,
        "children_and_adults": {
            "emergencies": {k: total["emergencies_by_kind", k] for k in ("children", "adults", "both")},
            "persons": {"children": total["persons", "children"], "adults": total["persons", "adults"]},
            "care_minutes": {k: total["care_minutes_by_kind", k] for k in ("children", "adults", "both")},
        },
        "age_groups": _keyed(total, "age_groups"),
        "reasons": _keyed(total, "reasons"),
        "load": _load(total),
        "monthly": [{"month": m, **{s: total["month", m, s] for s in _SERIES}} for m in p.months],
        "by_municipality": [
            {"municipality": k, **_main(v)}
            for k, v in sorted(by_place.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        ],
        "by_partner": [
            {"partner_id": k, "kind": register[k].partner.kind, "name": register[k].partner.name, **_main(v)}
            for k, v in sorted(by_partner.items())
        ],
        "corrections": sorted(corrections, key=lambda x: x["stream_id"]),
    }


def _load(c: Counter[tuple[Any, ...]]) -> dict[str, Any]:
    grid = [[c["load", day, hour] for hour in range(24)] for day in range(7)]
    cells = sorted(
        ((n, d, h) for d, row in enumerate(grid) for h, n in enumerate(row) if n), key=lambda x: (-x[0], x[1], x[2])
    )
    return {
        "counts": "requests",
        "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        "grid": grid,
        "peaks": [{"weekday": d, "hour": h, "requests": n} for n, d, h in cells[:5]],
    }


def _late(events: list[Envelope]) -> list[dict[str, Any]]:
    return [
        {
            "version": e.version,
            "event_type": e.event_type,
            "recorded_at": e.recorded_at.isoformat().replace("+00:00", "Z"),
        }
        for e in events
    ]


def _correction(stream_id: str, was: Contribution, now: Contribution, late: list[Envelope]) -> dict[str, Any]:
    names = {_SECTION.get(k[0], k[0]) for k in (+was.counts - +now.counts) | (+now.counts - +was.counts)}
    if sorted(was.waits) != sorted(now.waits):
        names.add("unmet_demand")
    return {"stream_id": stream_id, "figures": sorted(names), "events": _late(late)}


# --- CSV ----------------------------------------------------------------------------------


def to_csv(report: dict[str, Any]) -> str:
    """One figure per line: section, key, figure, value (a spreadsheet pivots it as it likes)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["section", "key", "figure", "value"])
    w.writerow(["period", "", "from", report["from"]])
    w.writerow(["period", "", "to", report["to"]])
    for scope, value in report["scope"].items():
        w.writerow(["scope", "", scope, "" if value is None else value])
    for name, value in report["figures"].items():
        w.writerow(["figures", "", name, "" if value is None else value])
    for name, value in report["requests_by_channel"].items():
        w.writerow(["requests_by_channel", name, "requests", value])
    for name, value in report["unmet_demand"].items():
        if isinstance(value, dict):
            for stat, v in value.items():
                w.writerow(["unmet_demand", name, stat, "" if v is None else v])
        else:
            w.writerow(["unmet_demand", "", name, value])
    for name, value in report["coverage"].items():
        w.writerow(["coverage", "", name, value])
    for figure, values in report["children_and_adults"].items():
        for name, value in values.items():
            w.writerow(["children_and_adults", name, figure, value])
    for section in ("age_groups", "reasons"):
        for name, value in report[section].items():
            w.writerow([section, name, "emergencies", value])
    for day, row in zip(report["load"]["weekdays"], report["load"]["grid"], strict=True):
        for hour, n in enumerate(row):
            w.writerow(["load", f"{day} {hour:02d}", "requests", n])
    for row in report["monthly"]:
        for name in _SERIES:
            w.writerow(["monthly", row["month"], name, row[name]])
    for section, key in (("by_municipality", "municipality"), ("by_partner", "partner_id")):
        for row in report[section]:
            for name in (*_MAIN, "care_hours", "emergency_share_percent"):
                w.writerow([section, row[key] or "", name, "" if row[name] is None else row[name]])
    for c in report["corrections"]:
        for e in c["events"]:
            w.writerow(["corrections", c["stream_id"], " ".join(c["figures"]), f"{e['event_type']} {e['recorded_at']}"])
    return out.getvalue()


# --- the command --------------------------------------------------------------------------


def _export(path: Path) -> Iterator[Envelope]:
    """Event records as the auditors' history gives them: JSON Lines, or one JSON array or page."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith(("[", '{"events"')):
        body = json.loads(text)
        records = body["events"] if isinstance(body, dict) else body
    else:
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    yield from _envelopes(records)


def _envelopes(records: Iterable[dict[str, Any]]) -> Iterator[Envelope]:
    """The events of case and partner streams; the report reads no other stream."""
    for record in records:
        if record["stream_id"].startswith((CASE_PREFIX, PARTNER_PREFIX)):
            yield Envelope.from_record(record)


def _get(url: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Authorization": token})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        path = urllib.parse.urlsplit(url).path
        raise SystemExit(f"GET {path} answered {err.code}: {err.read().decode(errors='replace')}") from None


def _from_stack(url: str, token: str) -> Iterator[dict[str, Any]]:
    """Every event record of a running stack, read through GET /audit/events as an auditor."""
    after = 0
    while True:
        body = _get(f"{url}/audit/events?after={after}&limit=1000", token)
        yield from body["events"]
        after = body["next_after"]
        if body["complete"]:
            return


def _report_of_stack(url: str, token: str, p: Period, partner: str | None, municipality: str | None) -> dict[str, Any]:
    """The report as the stack's GET /reports/statistics answers it (from its read model)."""
    query = {"from": p.months[0], "to": p.months[-1], "partner": partner, "municipality": municipality}
    return _get(f"{url}/reports/statistics?{urllib.parse.urlencode({k: v for k, v in query.items() if v})}", token)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m notfall.reports.statistics",
        description="The statistics report of a run of months: JSON, CSV, charts (SVG, PNG) and a PDF.",
    )
    parser.add_argument("--from", dest="from_month", required=True, help="first month YYYY-MM")
    parser.add_argument("--to", dest="to_month", required=True, help="last month YYYY-MM")
    parser.add_argument("--partner", help="one partner's figures (its id)")
    parser.add_argument("--municipality", help="one municipality's figures")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--url", help="a running stack, e.g. http://127.0.0.1:3000: the report its GET /reports/statistics answers"
    )
    source.add_argument(
        "--export", type=Path, help="event records as GET /audit/events gives them (JSON Lines): folded here"
    )
    parser.add_argument(
        "--token", default=os.environ.get("NOTFALL_TOKEN"), help="a staff or auditor's token (or NOTFALL_TOKEN)"
    )
    parser.add_argument(
        "--save-export",
        type=Path,
        help="with --url: also write the stack's whole log (GET /audit/events, as an auditor) to this file",
    )
    parser.add_argument(
        "--city", default=os.environ.get("CITY_MUNICIPALITY", "hannover"), help="with --export (a stack has its own)"
    )
    parser.add_argument(
        "--city-inhabitants",
        type=int,
        default=int(os.environ.get("CITY_INHABITANTS", CITY_INHABITANTS)),
        help="with --export (a stack has its own)",
    )
    parser.add_argument("--out", type=Path, help="directory of the files (default statistics-<from>-<to>)")
    parser.add_argument("--no-charts", action="store_true", help="JSON and CSV only (no matplotlib needed)")
    args = parser.parse_args(argv)
    try:
        p = period(args.from_month, args.to_month)
    except Rejected as err:
        parser.error(err.problem)
    scope = {"partner": args.partner, "municipality": args.municipality}
    if args.url:
        if not args.token:
            parser.error("--url needs a token: --token $(python -m infra.local token auditor)")
        url = args.url.rstrip("/")
        if args.save_export:
            with args.save_export.open("w", encoding="utf-8") as saved:
                saved.writelines(json.dumps(r) + "\n" for r in _from_stack(url, args.token))
        report = _report_of_stack(url, args.token, p, **scope)
    else:
        try:
            report = statistics(
                _export(args.export), p, **scope, city=args.city, city_inhabitants=args.city_inhabitants
            )
        except Rejected as err:
            parser.error(err.problem)
    out = args.out or Path(f"statistics-{p.months[0]}-{p.months[-1]}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.csv").write_text(to_csv(report), encoding="utf-8")
    if not args.no_charts:
        from notfall.reports import charts  # matplotlib: a development requirement

        report["charts"] = charts.draw(report, out)
        report["pdf"] = "report.pdf"
        (out / "report.pdf").write_bytes(charts.pdf(report, out))
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    f = report["figures"]
    sys.stdout.write(
        f"{report['from']} to {report['to']}: {f['consultations']} consultations, {f['requests']} requests, "
        f"{f['emergencies']} emergencies ({f['emergency_share_percent']} %), {f['care_hours']} care hours, "
        f"{f['transports']} transports; {len(report['corrections'])} corrected after the period; files in {out}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
