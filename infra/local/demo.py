"""Loads the demo data (demo_data.json) through the real API over HTTP, then waits for the projection."""

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
    partners = _partners(base_url, data.get("partners", []))
    caregivers = _caregivers(base_url, data.get("caregivers", []))
    cases = [_case(base_url, case) for case in data.get("cases", [])]
    status, _ = call("POST", f"{base_url}/_local/drain")
    if status != 200:
        raise DemoError(f"draining the stream failed: {status}")
    return {"partners": partners, "caregivers": caregivers, "cases": cases}


def _partners(base_url: str, partners: list[dict[str, Any]]) -> list[str]:
    loaded = []
    for partner in partners:
        # A fixed key: loading twice registers nobody twice (the retry gets the first answer).
        status, body = call("POST", f"{base_url}/partners", partner,
                            {"Idempotency-Key": f"demo-partner-{partner['partner_id']}", "X-Actor": "demo-loader"})
        if status == 404:
            log.warning("POST /partners does not exist in this API (yet): demo partners skipped")
            return loaded
        if status not in (200, 201):
            log.warning("partner %s refused (%s): %s", partner["partner_id"], status, body)
            continue
        loaded.append(partner["partner_id"])
    return loaded


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
                # The demo's care lies in November 2026; on a clock before that it cannot be recorded yet.
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
