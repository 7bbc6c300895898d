"""`python -m infra.local --history` on a fortnight, as `make run-history` runs it (its own process:
moto is one per process): the history is in the read model, the stack's own reports show its
totals (emergencies, care hours, transport services), the demo partner user reads its company, a
new call is projected from the stream as usual, and the live read model equals the log's replay."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.local.client import call
from infra.local.tokens import Tokens

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FORTNIGHT = (
    "--from 2019-03-04 --to 2019-03-17 --consultations 20 --care-hours 30 --emergencies 8 --transports 1 --seed 9"
)


@pytest.fixture(scope="module")
def url():
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "--history", "--port", "0", *FORTNIGHT.split()],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        output: list[str] = []
        deadline = time.monotonic() + 240
        for line in process.stdout:
            output.append(line)
            if line.startswith("History ") or time.monotonic() > deadline:
                break
        text = "".join(output)
        assert "History 2019-03-04 to 2019-03-17 (seed 9): 20 consultations, 8 emergencies, 30 care hours" in text
        found = re.search(r"API +(http://\S+)", text)
        assert found, text
        yield found.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_stack_reports_the_historys_totals(url: str) -> None:
    tokens = Tokens(url)
    hotline = tokens.headers("hotline")
    status, demand = call("GET", f"{url}/reports/demand?from=2019-03&to=2019-03", headers=hotline)
    assert status == 200 and demand["total"]["needs"] == 8
    status, hours = call("GET", f"{url}/hours/2019-03", headers=hotline)
    assert status == 200 and hours["cared_minutes"] == 1800  # all care lies within March
    status, trips = call("GET", f"{url}/reports/transports/2019-03", headers=hotline)
    assert status == 200 and trips["done"] == 1
    status, partner = call("GET", f"{url}/partners/p-leine-logistik", headers=tokens.headers("partner"))
    assert status == 200 and partner["name"] == "Leine Logistik GmbH (demo)"


def test_after_the_history_new_commands_are_projected_from_the_stream(url: str) -> None:
    tokens = Tokens(url)
    body = {"type": "started", "call_id": "after-history-1", "line": "hotline-1", "at": "2026-01-05T08:00:00Z"}
    status, opened = call("POST", f"{url}/calls/events", body, tokens.headers("phone-system"))
    assert status in (200, 201) and opened["opened"]
    assert call("POST", f"{url}/_local/drain")[0] == 200
    status, case = call("GET", f"{url}/cases/{opened['case_id']}", headers=tokens.headers("hotline"))
    assert status == 200 and case["case_id"] == opened["case_id"]
    status, check = call("POST", f"{url}/_local/rebuild-check")
    assert status == 200 and check["differing"] == []  # the live read model is the log's
