"""The load test command (`python -m infra.local.load`) in small: phone-system clients with
duplicates, every distinct call recorded exactly once, counted both ways (table scan, audit API)."""

from __future__ import annotations

import pytest

from infra.local.load import recorded_calls, run_load
from infra.local.stack import LocalStack
from infra.local.tokens import Tokens

pytestmark = pytest.mark.e2e


def test_a_small_load_records_every_distinct_call_once(stack: LocalStack) -> None:
    stack.drain()
    tokens = Tokens(stack.url)
    result = run_load(
        stack.url, calls=60, clients=4, duplicates=0.25, seed=11, events_table=stack.resources.ref("EventStoreTable")
    )

    assert len(result.sent) == 60 and all(s.status < 300 for s in result.sent)
    assert 60 > result.distinct >= 30  # a quarter were resends of calls already sent
    assert result.exactly_once
    prefix = result.sent[0].call_id.rsplit("-", 1)[0] + "-"
    assert recorded_calls(stack.url, prefix, tokens.headers("auditor")) == result.recorded
    assert f"{len(result.sent)} requests ({result.distinct} distinct calls)" in result.report()
