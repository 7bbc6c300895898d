"""Loads the demo data (demo_data.json) through the real API over HTTP, then waits for the projection."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from infra.local.client import call

DEMO_DATA = Path(__file__).with_name("demo_data.json")

log = logging.getLogger("infra.local.demo")


class DemoError(RuntimeError):
    """The API refused demo data: the data or the API changed; either way somebody should look."""


def load_demo(base_url: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    data = data or json.loads(DEMO_DATA.read_text())
    partners = _partners(base_url, data.get("partners", []))
    cases = [_case(base_url, case) for case in data.get("cases", [])]
    status, _ = call("POST", f"{base_url}/_local/drain")
    if status != 200:
        raise DemoError(f"draining the stream failed: {status}")
    return {"partners": partners, "cases": cases}


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


def _case(base_url: str, case: dict[str, Any]) -> dict[str, Any]:
    case_id = None
    first_call = case["steps"][0]["body"]["call_id"]
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
            headers |= {"Idempotency-Key": f"demo-{first_call}-{i}", "X-Actor": step.get("actor", "demo-loader")}
            status, last = call("POST", f"{base_url}/cases/{case_id}/{step['do']}", step["body"], headers)
        if status not in (200, 201):
            raise DemoError(f"{case['label']}: step {i} ({step['do']}) answered {status}: {last}")
    return {"label": case["label"], "case_id": case_id}
