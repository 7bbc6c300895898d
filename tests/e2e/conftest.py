"""One local stack for the whole e2e session (moto, functions, stream pump, HTTP) on free ports."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest

from infra.local.client import call
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
