"""`python -m infra.local --history` on a fortnight: the history loaded into a fresh local stack is
in the read model, the stack's own reports show its totals (emergencies, care hours, transport
services), the demo partner user reads its company, and a new call is projected from the stream
as usual."""

from __future__ import annotations

from datetime import date

import pytest

from infra.local.client import call
from infra.local.history import load_into_stack
from infra.local.stack import LocalStack
from infra.local.tokens import Tokens
from notfall.history.plan import Totals

FORTNIGHT = Totals(
    consultations=20,
    care_minutes=30 * 60,
    emergencies=8,
    transports=1,
    first_day=date(2019, 3, 4),
    last_day=date(2019, 3, 17),
)


@pytest.fixture(scope="module")
def loaded():
    local = LocalStack(port=0, parameters={"LogLevel": "WARNING"}, poll_interval=0.02, retry_delay=0.0)
    local.start()
    try:
        yield local, load_into_stack(local, FORTNIGHT, seed=9)
    finally:
        local.stop()


def test_the_stack_reports_the_histories_totals(loaded) -> None:
    stack, report = loaded
    assert report["written"]["consultations"] == 20 and report["events"] > 20
    tokens = Tokens(stack.url)
    hotline = tokens.headers("hotline")
    status, demand = call("GET", f"{stack.url}/reports/demand?from=2019-03&to=2019-03", headers=hotline)
    assert status == 200 and demand["total"]["needs"] == 8
    status, hours = call("GET", f"{stack.url}/hours/2019-03", headers=hotline)
    assert status == 200 and hours["cared_minutes"] == 1800  # all care lies within March
    status, trips = call("GET", f"{stack.url}/reports/transports/2019-03", headers=hotline)
    assert status == 200 and trips["done"] == 1
    status, partner = call("GET", f"{stack.url}/partners/p-leine-logistik", headers=tokens.headers("partner"))
    assert status == 200 and partner["name"] == "Leine Logistik GmbH (demo)"


def test_after_the_history_new_commands_are_projected_from_the_stream(loaded) -> None:
    stack, _ = loaded
    tokens = Tokens(stack.url)
    body = {"type": "started", "call_id": "after-history-1", "line": "hotline-1", "at": "2026-01-05T08:00:00Z"}
    status, opened = call("POST", f"{stack.url}/calls/events", body, tokens.headers("phone-system"))
    assert status in (200, 201) and opened["opened"]
    stack.drain()
    status, case = call("GET", f"{stack.url}/cases/{opened['case_id']}", headers=tokens.headers("hotline"))
    assert status == 200 and case["case_id"] == opened["case_id"]
    assert stack.rebuild_check()["differing"] == []  # the live read model is the log's
