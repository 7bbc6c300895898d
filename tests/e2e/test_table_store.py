"""The local stack keeps its DynamoDB tables on disk by default (docs/local-stack.md)."""

from __future__ import annotations

import pytest
from moto.dynamodb.models import dynamodb_backends

from infra.local import moto_disk
from infra.local.aws import ACCOUNT_ID, REGION

pytestmark = pytest.mark.e2e


def test_the_stacks_tables_keep_their_items_on_disk(stack, demo) -> None:
    tables = dynamodb_backends[ACCOUNT_ID][REGION].tables
    assert tables, "the stack made no tables"
    assert all(isinstance(table.items, moto_disk.DiskItems) for table in tables.values())
    events = tables[stack.resources.ref("EventStoreTable")]
    assert len(events) > 0  # the demo's events: counted in SQLite
    assert stack.disk is not None and (stack.disk.directory / "tables.sqlite").exists()
