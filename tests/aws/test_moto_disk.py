"""The local stack's tables on disk (infra/local/moto_disk.py): memory does not grow with the items.

That they answer as moto's own tables do is proven in test_moto_patch.py (every case runs on
moto's own tables, the patched ones and the ones on disk).
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType

from infra.local import moto_disk, moto_dynamodb
from infra.local.aws import ACCOUNT_ID, REGION, Moto

ITEMS = 1_000


@contextmanager
def events_table(on_disk: bool) -> Iterator[Any]:
    """moto's table of an event log, its items on disk or in memory."""
    store = moto_disk.Store() if on_disk else None
    was = moto_disk.installed()
    moto_disk.install()
    previous = moto_disk.use(store)
    try:
        with mock_aws(), moto_dynamodb.patched():
            boto3.client("dynamodb", region_name=REGION).create_table(
                TableName="events",
                KeySchema=[
                    {"AttributeName": "stream_id", "KeyType": "HASH"},
                    {"AttributeName": "version", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "stream_id", "AttributeType": "S"},
                    {"AttributeName": "version", "AttributeType": "N"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            yield dynamodb_backends[ACCOUNT_ID][REGION].tables["events"]
    finally:
        moto_disk.use(previous)
        if not was:
            moto_disk.uninstall()
        if store:
            store.close()
            assert not store.directory.exists()


def write(table: Any, versions: range) -> None:
    for version in versions:
        table.put_item(
            {
                "stream_id": {"S": f"case-{version // 10}"},
                "version": {"N": str(version % 10)},
                "data": {"S": "x" * 200},
                "kind": {"S": "CallReceived"},
            }
        )


def growth(on_disk: bool) -> int:
    """Bytes Python holds more after 4,000 items than after 1,000 (tracemalloc, after a collection)."""
    with events_table(on_disk) as table:
        tracemalloc.start()
        try:
            write(table, range(ITEMS))
            gc.collect()
            first = tracemalloc.get_traced_memory()[0]
            write(table, range(ITEMS, 4 * ITEMS))
            gc.collect()
            assert len(table) == 4 * ITEMS
            return tracemalloc.get_traced_memory()[0] - first
        finally:
            tracemalloc.stop()


def test_memory_does_not_grow_with_the_items_stored() -> None:
    """3,000 more items of about 250 bytes: in moto's own tables Python holds about 3 MB more
    (each item as objects, about 1 KB); on disk, less than 100 KB more (SQLite's page cache
    is outside Python's allocator and bounded by its setting, moto_disk.CACHE_KIB)."""
    in_memory, on_disk = growth(on_disk=False), growth(on_disk=True)
    assert in_memory > 3 * ITEMS * 700, in_memory
    assert on_disk < 100_000, on_disk


def test_reads_answer_fresh_items_and_writes_reach_the_disk() -> None:
    """moto updates items in place: an item read is a copy, so a change reaches the table only
    through a write, and a rollback or an eviction can never lose or leak one."""
    with events_table(on_disk=True) as table:
        write(table, range(12))
        key = DynamoType({"S": "case-1"}), DynamoType({"N": "1"})
        first, second = table.get_item(*key), table.get_item(*key)
        assert first is not second and first == second
        first.attrs["data"] = DynamoType({"S": "changed"})
        assert table.get_item(*key).attrs["data"] == DynamoType({"S": "x" * 200})
        assert [i.range_key.cast_value for i in table.items[key[0]].values()] == [0, 1]
        assert len(list(table.all_items())) == 12


def test_a_stack_on_disk_removes_its_store_when_it_stops() -> None:
    """The local stack's moto (`Moto`, as `LocalStack` starts it) keeps its tables in a
    temporary file while it runs and leaves nothing behind; `memory` keeps moto's own tables."""
    with pytest.raises(ValueError, match="table_store"):
        Moto("tape")
    moto = Moto("disk")
    moto.start()
    try:
        assert moto.disk is not None and moto_disk.use(moto.disk) is moto.disk
        directory = moto.disk.directory
        assert (directory / "tables.sqlite").exists()
    finally:
        moto.stop()
    assert moto.disk is None and not directory.exists()
    assert moto_disk.use(None) is None  # the store used before the stack: none
    in_memory = Moto("memory")
    in_memory.start()
    in_memory.stop()
    assert in_memory.disk is None
