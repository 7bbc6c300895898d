"""One local stack for the whole e2e session (moto, functions, stream pump, HTTP) on free ports."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest

from infra.local.apigw import find_route
from infra.local.client import call
from infra.local.demo import load_demo
from infra.local.stack import LocalStack
from infra.local.tokens import Tokens
from notfall.api.access import BY_KEY
from notfall.api.identity import Role


@pytest.fixture(scope="session")
def stack():
    # LogLevel WARNING keeps handler logs out of the test output; a fast poll keeps drains short.
    local = LocalStack(port=0, parameters={"LogLevel": "WARNING"}, poll_interval=0.02, retry_delay=0.0)
    local.start()
    yield local
    local.stop()


# Without `as_`, a request goes as the first of these roles the route's declaration grants
# (notfall.api.access); a route only caregivers may call goes as the caregiver of its path.
_PREFERRED = (Role.PHONE_SYSTEM, Role.HOTLINE, Role.ACCOUNTING, Role.ADMIN, Role.AUDITOR)
AS_DECLARED = "as declared"


class Api:
    """The stack's HTTP API, as a client sees it, signed in as a role."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.url = stack.url
        self.tokens = _tokens(stack)

    def get(self, path: str, headers: dict[str, str] | None = None, as_: str | None = AS_DECLARED) -> tuple[int, Any]:
        return self.request("GET", path, None, headers, as_)

    def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, as_: str | None = AS_DECLARED
    ) -> tuple[int, Any]:
        return self.request("POST", path, {} if body is None else body, headers, as_)

    def request(
        self, method: str, path: str, body: Any, headers: dict[str, str] | None, as_: str | None = AS_DECLARED
    ) -> tuple[int, Any]:
        """`as_`: a demo role (hotline, caregiver, phone-system...), a caregiver id (its own user),
        None for no token at all; an Authorization header given in `headers` is sent as it is."""
        headers = dict(headers or {})
        if as_ == AS_DECLARED:
            as_ = self.declared_role(method, path)
        if as_ is not None and "Authorization" not in headers:
            headers["Authorization"] = self.token(as_)
        return call(method, self.url + path, body, headers)

    def token(self, who: str) -> str:
        """A demo role's token, or for a caregiver id the id token of that caregiver's own user."""
        if who.startswith("cg-"):
            return self.tokens.caregiver(who)
        return self.tokens.token(who)

    def declared_role(self, method: str, path: str) -> str | None:
        found = find_route(self.stack.routes, method, path.split("?")[0], self.stack.stage)
        declared = BY_KEY.get((method, found[0].resource)) if found else None
        if declared is None or declared.public:
            return None
        role = next((r for r in _PREFERRED if r in declared.whole), None)
        if role is not None:
            return role.value
        own = next(o for o in declared.own if o.role == Role.CAREGIVER)
        return found[1][own.param] if found else None

    def audit_count(self) -> int:
        """Events in the log: the position the audit history ends at."""
        after = 0
        while True:
            status, page = self.get(f"/audit/events?after={after}&limit=1000")
            assert status == 200, page
            after = page["next_after"]
            if page["complete"]:
                return after


_TOKENS: dict[str, Tokens] = {}


def _tokens(stack: LocalStack) -> Tokens:
    """One token cache per stack: the demo users sign in once per session, not once per test."""
    return _TOKENS.setdefault(stack.url, Tokens(stack.url))


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
    api, staff = Api(stack), {"Idempotency-Key": "e2e-partner-seelze"}
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
