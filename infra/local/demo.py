"""Loads the demo data (demo_data.json) through the real API over HTTP - tariffs, partners with their
contracts, caregivers, cases, families' billing addresses - waiting for the projection where the next
step reads it."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from infra.local.client import call

DEMO_DATA = Path(__file__).with_name("demo_data.json")

log = logging.getLogger("infra.local.demo")

# Care sessions and trips are recorded once they have happened; the domain refuses them earlier.
_AFTER_THE_FACT = ("at", "end")


class DemoError(RuntimeError):
    """The API refused demo data: the data or the API changed; either way somebody should look."""


def load_demo(base_url: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    data = data or json.loads(DEMO_DATA.read_text())
    _tariffs(base_url, data.get("tariffs", {}))
    partners = _partners(base_url, data.get("partners", []))
    _drain(base_url)  # eligibility at intake reads the partners' contracts from the read model
    caregivers = _caregivers(base_url, data.get("caregivers", []))
    cases = [_case(base_url, case) for case in data.get("cases", [])]
    _drain(base_url)
    families = _billing_addresses(base_url, data.get("cases", []), cases)
    _drain(base_url)
    return {"partners": partners, "caregivers": caregivers, "cases": cases, "families": families}


def _drain(base_url: str) -> None:
    status, _ = call("POST", f"{base_url}/_local/drain")
    if status != 200:
        raise DemoError(f"draining the stream failed: {status}")


def _post(base_url: str, method: str, path: str, body: Any, key: str) -> Any:
    """One command under a fixed key: loading twice appends nothing twice (a retry gets the first answer)."""
    status, answer = call(method, base_url + path, body, {"Idempotency-Key": key, "X-Actor": "demo-loader"})
    if status not in (200, 201):
        raise DemoError(f"{method} {path} answered {status}: {answer}")
    return answer


def _tariffs(base_url: str, tariffs: dict[str, Any]) -> None:
    """The published prices (appended once by design), then each price change under its own key."""
    if tariffs.get("publish"):
        _post(base_url, "POST", "/tariffs/published", {}, "demo-tariffs-published")
    for change in tariffs.get("changes", []):
        _post(base_url, "POST", "/tariffs", change, f"demo-tariff-{change['tier']}-{change['valid_from']}")


def _partners(base_url: str, partners: list[dict[str, Any]]) -> list[str]:
    """Each partner: registered, its contracts, its children counts, its billing details."""
    loaded = []
    for entry in partners:
        pid = entry["register"]["partner_id"]
        key = f"demo-partner-{pid}"
        _post(base_url, "POST", "/partners", entry["register"], key)
        for contract in entry.get("contracts", []):
            _post(base_url, "POST", f"/partners/{pid}/contracts", contract, f"{key}-contract-{contract['contract_id']}")
        for count in entry.get("child_counts", []):
            _post(base_url, "POST", f"/partners/{pid}/child-counts", count, f"{key}-children-{count['year']}")
        if "billing" in entry:
            _post(base_url, "PUT", f"/partners/{pid}/billing", entry["billing"], f"{key}-billing")
        loaded.append(pid)
    return loaded


def _billing_addresses(base_url: str, specs: list[dict[str, Any]], cases: list[dict[str, Any]]) -> dict[str, str]:
    """A case's `billing_address` becomes its family's (the family id is on the projected case)."""
    families = {}
    for spec, case in zip(specs, cases):
        if "billing_address" not in spec or case["case_id"] is None:
            continue
        status, projected = call("GET", f"{base_url}/cases/{case['case_id']}")
        if status != 200:
            raise DemoError(f"{spec['label']}: the case is not projected ({status}): {projected}")
        family_id = projected["family_id"]
        _post(base_url, "PUT", f"/families/{family_id}/billing-address", spec["billing_address"],
              f"demo-family-billing-{spec['steps'][0]['body']['call_id']}")
        families[spec["billing_address"]["name"]] = family_id
    return families


def _caregivers(base_url: str, caregivers: list[dict[str, Any]]) -> list[str]:
    """Register each caregiver, then their trainings and status, each under a fixed key."""
    loaded = []
    for entry in caregivers:
        cid = entry["register"]["caregiver_id"]
        headers = {"X-Actor": "demo-loader"}
        steps = [("POST", "/caregivers", entry["register"], f"demo-caregiver-{cid}")]
        steps += [("POST", f"/caregivers/{cid}/trainings", t, f"demo-caregiver-{cid}-training-{i}")
                  for i, t in enumerate(entry.get("trainings", []))]
        if "status" in entry:
            steps.append(("POST", f"/caregivers/{cid}/status", entry["status"], f"demo-caregiver-{cid}-status"))
        for method, path, body, key in steps:
            status, answer = call(method, base_url + path, body, {**headers, "Idempotency-Key": key})
            if status not in (200, 201):
                raise DemoError(f"caregiver {cid}: {method} {path} answered {status}: {answer}")
        loaded.append(cid)
    return loaded


def _happened(body: dict[str, Any]) -> bool:
    now = datetime.now(timezone.utc)
    return all(datetime.fromisoformat(body[k]) <= now for k in _AFTER_THE_FACT if k in body)


def _case(base_url: str, case: dict[str, Any]) -> dict[str, Any]:
    case_id = None
    first_call = case["steps"][0]["body"]["call_id"]
    answers: dict[str, Any] = {}  # earlier steps' answers by their `as` name, for later paths
    last: Any = None
    for i, step in enumerate(case["steps"]):
        headers = {"X-Correlation-Id": f"demo-{first_call}"}
        if step["do"] == "call":
            # No key: the API derives one from call, type and time, as for the real phone system.
            status, last = call("POST", f"{base_url}/calls/events", step["body"], headers)
            case_id = case_id or (last or {}).get("case_id")
        else:
            if case_id is None:
                raise DemoError(f"{case['label']}: step {i} needs a case; begin with a call event")
            if not _happened(step["body"]):
                # The demo's care lies in October and November 2026; on a clock before that it cannot be recorded yet.
                log.warning("%s: step %d (%s) lies in the future: skipped", case["label"], i, step["do"])
                continue
            headers |= {"Idempotency-Key": f"demo-{first_call}-{i}", "X-Actor": step.get("actor", "demo-loader")}
            path = step.get("path", "/cases/{case_id}/" + step["do"]).format(case_id=case_id, **answers)
            status, last = call("POST", base_url + path, step["body"], headers)
        if status not in (200, 201):
            raise DemoError(f"{case['label']}: step {i} ({step['do']}) answered {status}: {last}")
        if "as" in step:
            answers[step["as"]] = last
    return {"label": case["label"], "case_id": case_id}
