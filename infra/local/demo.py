"""Loads the demo data (demo_data.json) through the real API over HTTP - tariffs, partners with their
contracts, caregivers, cases, families' billing addresses - waiting for the projection where the next
step reads it. The data is written as if loaded in late November 2026; `DemoCalendar` moves its dates
to the day it is loaded, so the demo never ages."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from infra.local.client import call
from infra.local.cognito import DEMO_USERS
from infra.local.tokens import PHONE_SYSTEM, Tokens
from notfall.clock import Clock, system_clock
from notfall.domain.hours import BERLIN

DEMO_DATA = Path(__file__).with_name("demo_data.json")

log = logging.getLogger("infra.local.demo")

# Care sessions and trips are recorded once they have happened; the domain refuses them earlier.
_AFTER_THE_FACT = ("at", "end")

# How the data is written: the month to invoice is October 2026 (its first call on Monday the 12th);
# the recent cases lie in November 2026, the latest a need on Saturday 28 November, 17:00 in Berlin,
# still waiting for a caregiver; the partners' yearly figures are for 2025, the year before.
_WRITTEN_MONTH = "2026-10"
_WRITTEN_MONTH_START = date(2026, 10, 12)
_WRITTEN_WAITING = datetime(2026, 11, 28, 17, 0, tzinfo=BERLIN)
_WRITTEN_YEAR = 2026
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}Z)?")


@dataclass(frozen=True)
class DemoCalendar:
    """Moves the demo's dates to the day it is loaded (`DemoCalendar.at(now)`):

    - the month to invoice (dates in October 2026) becomes the Berlin month before `now`, moved by
      whole weeks (weekdays stay; its first call falls on the 5th to 11th, its last day on the 21st at most);
    - the recent cases (November 2026) and the caregivers' dates move by whole weeks so that the
      waiting need is the first Saturday evening at least a day after `now`: every step recorded
      lies in the past, the waiting need in the future (early in a month, the earlier recent cases
      fall into the month to invoice);
    - the partners' dates and children counts move by whole years: their yearly figures are for the
      year before `now`.
    Times of day stay the same in Berlin, so care hours and amounts do not change."""

    month_shift: timedelta
    recent_shift: timedelta
    years: int
    month_to_invoice: str  # YYYY-MM

    @classmethod
    def at(cls, now: datetime) -> DemoCalendar:
        today = now.astimezone(BERLIN).date()
        previous = (today.replace(day=1) - timedelta(days=1)).replace(day=5)
        month_weeks = -(-(previous - _WRITTEN_MONTH_START).days // 7)  # rounded up: lands on the 5th to 11th
        recent_weeks = -(-(now + timedelta(days=1) - _WRITTEN_WAITING) // timedelta(weeks=1))
        return cls(
            timedelta(weeks=month_weeks),
            timedelta(weeks=recent_weeks),
            today.year - _WRITTEN_YEAR,
            previous.strftime("%Y-%m"),
        )

    def moment(self, written: str) -> str:
        """A written ISO moment ("...Z") or day, moved: Berlin wall time plus whole weeks."""
        shift = self.month_shift if written.startswith(_WRITTEN_MONTH) else self.recent_shift
        if "T" not in written:
            return (date.fromisoformat(written) + shift).isoformat()
        local = datetime.fromisoformat(written).astimezone(BERLIN).replace(tzinfo=None) + shift
        moved = local.replace(tzinfo=BERLIN).astimezone(UTC)
        return moved.strftime("%Y-%m-%dT%H:%M:%SZ")

    def day(self, written: str) -> date:
        """The Berlin day a written day or moment falls on once moved."""
        moved = self.moment(written)
        return (
            date.fromisoformat(moved) if "T" not in moved else datetime.fromisoformat(moved).astimezone(BERLIN).date()
        )

    def month(self, written: str) -> str:
        return self.day(written).strftime("%Y-%m")

    def year(self, written: int) -> int:
        return written + self.years

    def _years(self, written: str) -> str:
        if written.startswith(_WRITTEN_MONTH):
            return self.moment(written)
        day = date.fromisoformat(written)
        return day.replace(year=self.year(day.year)).isoformat()  # no partner date falls on 29 February

    def move(self, data: Any, by_year: bool = False) -> Any:
        """The demo data with every date in it moved (in strings too, e.g. a recording's path);
        under "partners" by years, except the days of the month to invoice."""
        if isinstance(data, dict):
            return {
                k: self.year(v) if by_year and k == "year" else self.move(v, by_year or k == "partners")
                for k, v in data.items()
            }
        if isinstance(data, list):
            return [self.move(v, by_year) for v in data]
        if isinstance(data, str):
            return _DATE.sub(lambda m: self._years(m.group(0)) if by_year else self.moment(m.group(0)), data)
        return data


class DemoError(RuntimeError):
    """The API refused demo data: the data or the API changed; either way somebody should look."""


def load_demo(
    base_url: str,
    data: dict[str, Any] | None = None,
    clock: Clock = system_clock,
    progress: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Loads the data with its dates moved to the clock's day. Answers what was loaded, and the
    calendar it was moved by. `progress` is called once per item loaded (`demo_items(data)` in all)."""
    now = clock()
    calendar = DemoCalendar.at(now)
    data = calendar.move(data or json.loads(DEMO_DATA.read_text()))
    done = progress or (lambda: None)
    tokens = Tokens(base_url)  # each step signs in as the role that does it in real life
    _tariffs(base_url, tokens, data.get("tariffs", {}))
    done()
    partners = [_partner(base_url, tokens, entry, done) for entry in data.get("partners", [])]
    _drain(base_url)  # eligibility at intake reads the partners' contracts from the read model
    caregivers = [_caregiver(base_url, tokens, entry, done) for entry in data.get("caregivers", [])]
    cases = [_case(base_url, tokens, case, now, done) for case in data.get("cases", [])]
    _drain(base_url)
    families = _billing_addresses(base_url, tokens, data.get("cases", []), cases)
    _drain(base_url)
    done()
    return {
        "partners": partners,
        "caregivers": caregivers,
        "cases": cases,
        "families": families,
        "loaded_at": now,
        "calendar": calendar,
    }


def demo_items(data: dict[str, Any] | None = None) -> int:
    """How many items `load_demo` reports to `progress`: tariffs, each partner, caregiver and case,
    the billing addresses."""
    data = data or json.loads(DEMO_DATA.read_text())
    return 2 + sum(len(data.get(part, [])) for part in ("partners", "caregivers", "cases"))


def _drain(base_url: str) -> None:
    status, _ = call("POST", f"{base_url}/_local/drain")
    if status != 200:
        raise DemoError(f"draining the stream failed: {status}")


def _post(base_url: str, tokens: Tokens, role: str, method: str, path: str, body: Any, key: str) -> Any:
    """One command as `role` under a fixed key: loading twice appends nothing twice (a retry gets the first answer)."""
    status, answer = call(method, base_url + path, body, {"Idempotency-Key": key, **tokens.headers(role)})
    if status not in (200, 201):
        raise DemoError(f"{method} {path} answered {status}: {answer}")
    return answer


def _tariffs(base_url: str, tokens: Tokens, tariffs: dict[str, Any]) -> None:
    """The published prices (appended once by design), then each price change under its own key; by accounting."""
    if tariffs.get("publish"):
        _post(base_url, tokens, "accounting", "POST", "/tariffs/published", {}, "demo-tariffs-published")
    for change in tariffs.get("changes", []):
        key = f"demo-tariff-{change['tier']}-{change['valid_from']}"
        _post(base_url, tokens, "accounting", "POST", "/tariffs", change, key)


def _partner(base_url: str, tokens: Tokens, entry: dict[str, Any], done: Callable[[], None]) -> str:
    """A partner: registered by an administrator; its contracts, children counts and billing details by accounting."""
    pid = entry["register"]["partner_id"]
    key = f"demo-partner-{pid}"
    _post(base_url, tokens, "admin", "POST", "/partners", entry["register"], key)
    for contract in entry.get("contracts", []):
        contract_key = f"{key}-contract-{contract['contract_id']}"
        _post(base_url, tokens, "accounting", "POST", f"/partners/{pid}/contracts", contract, contract_key)
    for count in entry.get("child_counts", []):
        count_key = f"{key}-children-{count['year']}"
        _post(base_url, tokens, "accounting", "POST", f"/partners/{pid}/child-counts", count, count_key)
    if "billing" in entry:
        _post(base_url, tokens, "accounting", "PUT", f"/partners/{pid}/billing", entry["billing"], f"{key}-billing")
    done()
    return pid


def _billing_addresses(
    base_url: str, tokens: Tokens, specs: list[dict[str, Any]], cases: list[dict[str, Any]]
) -> dict[str, str]:
    """A case's `billing_address` becomes its family's (the family id is on the projected case); the
    hotline takes it."""
    families = {}
    for spec, case in zip(specs, cases, strict=True):
        if "billing_address" not in spec or case["case_id"] is None:
            continue
        status, projected = call("GET", f"{base_url}/cases/{case['case_id']}", headers=tokens.headers("hotline"))
        if status != 200:
            raise DemoError(f"{spec['label']}: the case is not projected ({status}): {projected}")
        family_id = projected["family_id"]
        _post(
            base_url,
            tokens,
            "hotline",
            "PUT",
            f"/families/{family_id}/billing-address",
            spec["billing_address"],
            f"demo-family-billing-{spec['steps'][0]['body']['call_id']}",
        )
        families[spec["billing_address"]["name"]] = family_id
    return families


def _caregiver(base_url: str, tokens: Tokens, entry: dict[str, Any], done: Callable[[], None]) -> str:
    """An administrator registers a caregiver, the hotline records their trainings and status, each
    under a fixed key."""
    cid = entry["register"]["caregiver_id"]
    steps = [("admin", "POST", "/caregivers", entry["register"], f"demo-caregiver-{cid}")]
    steps += [
        ("hotline", "POST", f"/caregivers/{cid}/trainings", t, f"demo-caregiver-{cid}-training-{i}")
        for i, t in enumerate(entry.get("trainings", []))
    ]
    if "status" in entry:
        steps.append(("hotline", "POST", f"/caregivers/{cid}/status", entry["status"], f"demo-caregiver-{cid}-status"))
    for role, method, path, body, key in steps:
        status, answer = call(method, base_url + path, body, {**tokens.headers(role), "Idempotency-Key": key})
        if status not in (200, 201):
            raise DemoError(f"caregiver {cid}: {method} {path} answered {status}: {answer}")
    done()
    return cid


def _happened(body: dict[str, Any], now: datetime) -> bool:
    return all(datetime.fromisoformat(body[k]) <= now for k in _AFTER_THE_FACT if k in body)


def _signs_in_as(actor: str | None) -> str:
    """The demo user a case step's actor signs in as: a caregiver as their own user, staff as the hotline."""
    return next((name for name, user in DEMO_USERS.items() if actor and user.caregiver_id == actor), "hotline")


def _case(
    base_url: str, tokens: Tokens, case: dict[str, Any], now: datetime, done: Callable[[], None]
) -> dict[str, Any]:
    case_id = None
    first_call = case["steps"][0]["body"]["call_id"]
    answers: dict[str, Any] = {}  # earlier steps' answers by their `as` name, for later paths
    last: Any = None
    for i, step in enumerate(case["steps"]):
        headers = {"X-Correlation-Id": f"demo-{first_call}"}
        if step["do"] == "call":
            # No key: the API derives one from call, type and time, as for the real phone system.
            status, last = call(
                "POST", f"{base_url}/calls/events", step["body"], headers | tokens.headers(PHONE_SYSTEM)
            )
            case_id = case_id or (last or {}).get("case_id")
        else:
            if case_id is None:
                raise DemoError(f"{case['label']}: step {i} needs a case; begin with a call event")
            if not _happened(step["body"], now):
                # The calendar puts every recorded step in the past; data edited by hand may not be.
                log.warning("%s: step %d (%s) lies in the future: skipped", case["label"], i, step["do"])
                continue
            headers |= {"Idempotency-Key": f"demo-{first_call}-{i}", **tokens.headers(_signs_in_as(step.get("actor")))}
            path = step.get("path", "/cases/{case_id}/" + step["do"]).format(case_id=case_id, **answers)
            status, last = call("POST", base_url + path, step["body"], headers)
        if status not in (200, 201):
            raise DemoError(f"{case['label']}: step {i} ({step['do']}) answered {status}: {last}")
        if "as" in step:
            answers[step["as"]] = last
    done()
    return {"label": case["label"], "case_id": case_id}
