"""One local stack for the whole e2e session (moto, functions, stream pump, HTTP) on free ports."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest

from infra.local.client import call
from infra.local.demo import load_demo
from infra.local.stack import LocalStack


@pytest.fixture(scope="session")
def stack():
    # LogLevel WARNING keeps handler logs out of the test output; a fast poll keeps drains short.
    local = LocalStack(port=0, parameters={"LogLevel": "WARNING"}, poll_interval=0.02, retry_delay=0.0)
    local.start()
    yield local
    local.stop()


class Api:
    """The stack's HTTP API, as a client sees it."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.url = stack.url

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return call("GET", self.url + path, headers=headers)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return call("POST", self.url + path, {} if body is None else body, headers)

    def audit_count(self) -> int:
        """Events in the log: the position the audit history ends at."""
        after = 0
        while True:
            status, page = self.get(f"/audit/events?after={after}&limit=1000")
            assert status == 200, page
            after = page["next_after"]
            if page["complete"]:
                return after


@pytest.fixture
def api(stack: LocalStack) -> Api:
    stack.drain()  # every test starts from a projected, quiet stack
    return Api(stack)


@pytest.fixture
def caller() -> str:
    """A phone number nobody else in the session calls from, so calls never join another test's case."""
    return f"+49 511 {random.randrange(10**6, 10**7)}"


@pytest.fixture
def call_id() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def demo(stack: LocalStack) -> dict[str, Any]:
    """The demo data loaded once, as `make run` loads it: what load_demo answered, and how
    many events the log held before and after (the first test that asks loads it)."""
    api = Api(stack)
    before = api.audit_count()
    loaded = load_demo(stack.url)
    return {**loaded, "events_before": before, "events_after": api.audit_count()}


@pytest.fixture(scope="session")
def seelze(stack: LocalStack) -> str:
    """A partner municipality for Seelze with a contract since 2015: its residents are entitled
    to care (eligibility at intake). Its own id, so the demo's m-seelze may exist beside it."""
    api, staff = Api(stack), {"X-Actor": "staff-e2e", "Idempotency-Key": "e2e-partner-seelze"}
    status, body = api.post(
        "/partners",
        {
            "partner_id": "m-e2e-seelze",
            "kind": "municipality",
            "name": "Stadt Seelze (e2e)",
            "municipality": "seelze",
            "joined_on": "2015-01-01",
            "inhabitants": 34500,
            "children_under_10": 3200,
        },
        staff,
    )
    assert status == 201, body
    status, body = api.post(
        "/partners/m-e2e-seelze/contracts",
        {"contract_id": "rv-e2e", "fee_model": "per_child", "start": "2015-01-01"},
        {**staff, "Idempotency-Key": "e2e-partner-seelze-contract"},
    )
    assert status == 201, body
    stack.drain()  # eligibility reads the contract from the read model
    return "m-e2e-seelze"
