"""moto's DynamoDB with a transaction, a query and items whose cost does not grow with the table.

moto 5.2.5 deep-copies every table a TransactWriteItems touches, once per transaction item, to
roll back a cancelled transaction; its Query sorts the whole table to find one partition (of
the table's key or of an index); and it never lets go of an item it made. A command of the
local stack then costs time and memory in proportion to the event log (1.6 s and 34 MB per call
event at 1,600 events), and the rollback swaps in the copied table, stream shard included, so a
stream iterator taken before it never sees a record again. docs/local-stack.md tells the whole story, with figures.

`install()` replaces these, each reusing moto's own code for everything but the cost:
- `DynamoDBBackend.transact_write_items`: moto's, line for line (same checks, conditions,
  writes, stream records, errors and cancellation reasons), except that it keeps a copy of only
  the items it is about to change and the length of their tables' streams, and a cancelled
  transaction puts those back into the same table objects. Transactions run one at a time.
- `Table.query`: moto's, handed only the partition asked for instead of the whole table. On the
  table's own key that is one dict lookup. On an index, the items whose index hash key is the
  value asked for, from the table's index entries: in memory an `Indexes` (made from the table
  on its first index query), on disk a SQL table of moto_disk.py. moto then applies key
  conditions, filters, order, ExclusiveStartKey and Limit to them as it did to the whole table.
- `Table.put_item`, `Table.delete_item`, `DynamoDBBackend.update_item` and the transaction's
  rollback: moto's, then the item's index entries follow it (`_changed`). moto's update changes
  the stored item in place; on disk, the changed copy is written back here.
- `Item.__new__`: moto keeps every model object it ever made in a class-wide list (for its
  dashboard), so every item copy that a query answers with, an update keeps as its old image or
  moto's own transaction makes of a whole table stays in memory until moto is reset. Patched,
  items are no longer listed there: an item lives as long as a table, stream record or answer
  holds it.

tests/aws/test_moto_patch.py runs the same cases against moto's own and the patched methods.
The patch is pinned to one moto version: on another, `install()` refuses, so an upgrade cannot
silently diverge from what the tests proved.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import moto
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

MOTO_VERSION = "5.2.5"

_MOTO_TRANSACT = DynamoDBBackend.transact_write_items
_MOTO_QUERY = Table.query
_MOTO_PUT = Table.put_item
_MOTO_DELETE = Table.delete_item
_MOTO_UPDATE = DynamoDBBackend.update_item
# moto serves requests on several threads; its transactions share no lock, so two could
# interleave and one's rollback undo the other's writes. Re-entrant: the stream patch
# (moto_streams.py) takes it in StreamShard.add, which a transaction's writes call.
TRANSACTIONS = threading.RLock()


class _Journal:
    """What a transaction is about to change: each item as it was, and where each table's stream
    was (the next sequence number, which stays right when records are trimmed off its front)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, DynamoType, DynamoType | None], tuple[Table, Item | None]] = {}
        self._streams: dict[str, tuple[Any, list[Any], int]] = {}

    def remember(self, table: Table, key: dict[str, Any], current: Item | None) -> None:
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        self._items.setdefault((table.name, hash_key, range_key), (table, copy.deepcopy(current)))
        shard = table.stream_shard
        if shard is not None and table.name not in self._streams:
            self._streams[table.name] = (shard, shard.items, shard.starting_sequence_number + len(shard.items))

    def roll_back(self) -> None:
        for (_, hash_key, range_key), (table, before) in self._items.items():
            if range_key is None:
                if before is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = before
            elif before is None:
                table.items[hash_key].pop(range_key, None)
            else:
                table.items[hash_key][range_key] = before
            _changed(table, hash_key, range_key, before)
        for shard, records, next_sequence in self._streams.values():
            del records[next_sequence - shard.starting_sequence_number :]
            shard.items = records  # moto empties `items` after handing records to a Lambda mapping


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's transact_write_items; the lines that differ are marked `journal`."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    journal = _Journal()  # journal: instead of a deep copy of each table

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException

        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")

            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            expression_attribute_names = op.get("ExpressionAttributeNames")
            expression_attribute_values = op.get("ExpressionAttributeValues")
            return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]

            check_unicity(table_name, key)

            current = self.get_item(table_name, key)
            if op_type != "ConditionCheck":  # journal: the item as it was, before any change
                journal.remember(self.get_table(table_name), key, current)
            if condition_expression is not None:
                condition_op = get_filter_expression(
                    condition_expression, expression_attribute_names, expression_attribute_values
                )
                if not condition_op.expr(current):
                    if return_values_on_condition_check_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type == "Put":
                attrs = op["Item"]
                self.put_item(
                    table_name,
                    attrs,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Update":
                update_expression = op["UpdateExpression"]
                self.update_item(
                    table_name,
                    key,
                    update_expression=update_expression,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            journal.roll_back()  # journal
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:  # moto reports any other failure as the item's reason
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

    if any(code is not None for code, _, _ in errors):
        journal.roll_back()  # journal
        raise TransactionCanceledException(errors)


def _serialised_transact(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    with TRANSACTIONS:
        transact_write_items(self, transact_items)


class _Partition:
    """A table as moto's query sees it, holding only one partition: moto reads `all_items()`
    (the whole table, sorted) and keeps those with the hash key asked for."""

    def __init__(self, table: Table, hash_key: DynamoType) -> None:
        self._table = table
        self._hash_key = hash_key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Item]:
        partition = self._table.items.get(self._hash_key)  # get, not [], adds no empty partition
        if partition is None:
            return []
        # list() copies the partition in one step, so a write on another thread cannot break it
        return list(partition.values()) if self._table.range_key_attr else [partition]


# --- indexes -------------------------------------------------------------------------------

Key = tuple[DynamoType, DynamoType | None]  # an item's primary key: hash key, range key


def index_keys(table: Table) -> dict[str, str]:
    """Each index of the table whose key has one hash attribute: its name -> that attribute.
    (moto also knows indexes keyed by several attributes: their queries run moto's own.)"""
    keys = {}
    for index in table.all_indexes():
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        if len(hashes) == 1:
            keys[index.name] = hashes[0]
    return keys


def index_entries(keys: dict[str, str], item: Item) -> dict[str, DynamoType]:
    """The index partitions an item is in: index name -> its value of the index's hash key. An
    item without that attribute is in no partition of the index, as in DynamoDB; a value of a
    type no key can have (a list, a map) matches no query. Copies: moto may change an item's
    values in place, and a value is a key of `Indexes.partitions`."""
    return {
        name: copy.copy(item.attrs[attr])
        for name, attr in keys.items()
        if attr in item.attrs and item.attrs[attr].type in ("S", "N", "B")
    }


class Indexes:
    """A table's index entries in memory: index -> hash key value -> the keys of its items (a
    dict as an ordered set), and each item's entries, to take them out when it changes."""

    def __init__(self, table: Table) -> None:
        self.keys = index_keys(table)
        self.partitions: dict[str, dict[DynamoType, dict[Key, None]]] = {name: {} for name in self.keys}
        self.entries: dict[Key, dict[str, DynamoType]] = {}
        for item in table.all_items():
            self.update((item.hash_key, item.range_key), item)

    def update(self, key: Key, item: Item | None) -> None:
        """The item with this key is now `item` (None: there is none)."""
        for name, value in self.entries.pop(key, {}).items():
            partition = self.partitions[name][value]
            partition.pop(key, None)
            if not partition:
                del self.partitions[name][value]
        entries = index_entries(self.keys, item) if item is not None else {}
        if entries:
            self.entries[key] = entries
            for name, value in entries.items():
                self.partitions[name].setdefault(value, {})[key] = None

    def partition(self, table: Table, name: str, value: DynamoType) -> list[Item]:
        keys = list(self.partitions[name].get(value, ()))  # a copy: writes may run on other threads
        items: Any = table.items
        found = (items.get(h, {}).get(r) if r is not None else items.get(h) for h, r in keys)
        return [item for item in found if item is not None]  # .get: an item deleted meanwhile


def _indexes(table: Table) -> Indexes:
    """The table's index entries in memory, made from its items on the first index query (and
    again if its indexes changed); from then on kept by every write (`_changed`)."""
    with TRANSACTIONS:  # no write may change the table while its entries are made
        indexes: Indexes | None = table.__dict__.get("local_indexes")
        if indexes is None or indexes.keys != index_keys(table):
            indexes = table.__dict__["local_indexes"] = Indexes(table)
        return indexes


def _changed(table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Item | None) -> None:
    """Every write of an item ends here: its index entries follow it (in memory; a table on
    disk keeps its own entries, moto_disk.py)."""
    indexes: Indexes | None = table.__dict__.get("local_indexes")
    if indexes is not None:
        with TRANSACTIONS:  # moto's own puts and deletes take no lock
            indexes.update((hash_key, range_key if table.range_key_attr else None), item)


def _index_partition(table: Table, index_name: str, conditions: Any) -> list[Item] | None:
    """The items of the index partition a query asks for (more than it finds, never fewer: moto
    then keeps those it matches); None when the query is no plain one on an index's hash key."""
    attr = index_keys(table).get(index_name)
    if attr is None or not conditions or len(conditions) != 1 or conditions[0][0] != attr:
        return None
    value = conditions[0][1]
    items: Any = table.items
    if hasattr(items, "index_partition"):  # a table on disk: moto_disk.DiskItems
        return items.index_partition(index_name, value)
    return _indexes(table).partition(table, index_name, value)


class _Items:
    """A table as moto's query sees it, holding only the items given (one index partition)."""

    def __init__(self, table: Table, items: list[Item]) -> None:
        self._table = table
        self._items = items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Item]:
        return self._items


def query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
    """moto's Table.query, over the one partition asked for: of the table's own key, or of an
    index (its items only; moto sorts them by the index's key as it sorted the whole table)."""
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name:
        partition = _index_partition(self, index_name, kwargs.get("hash_key_conditions"))
        if partition is None:
            return _MOTO_QUERY(self, hash_key, *args, **kwargs)
        return _MOTO_QUERY(_Items(self, partition), hash_key, *args, **kwargs)  # type: ignore[arg-type]
    if hash_key is None:
        return _MOTO_QUERY(self, hash_key, *args, **kwargs)
    return _MOTO_QUERY(_Partition(self, hash_key), hash_key, *args, **kwargs)  # type: ignore[arg-type]


def _put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
    item = _MOTO_PUT(self, *args, **kwargs)
    _changed(self, item.hash_key, item.range_key, item)
    return item


def _delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    item = _MOTO_DELETE(self, hash_key, range_key)
    _changed(self, hash_key, range_key, None)
    return item


def update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Item:
    """moto's update_item, which changes the stored item in place: then the item is written back
    (a table on disk) and its index entries follow it. Under the transaction lock: a
    read-modify-write of an item must not interleave with another."""
    with TRANSACTIONS:
        item = _MOTO_UPDATE(self, table_name, *args, **kwargs)
        table = self.get_table(table_name)
        write = getattr(table.items, "write", None)
        if write is not None:  # a table on disk: moto changed a fresh copy
            write(item)
        _changed(table, item.hash_key, item.range_key, item)
        return item


def _untracked_item(cls: type[Item], *args: Any, **kwargs: Any) -> Item:
    return object.__new__(cls)


def install() -> None:
    """Patch moto (idempotent). Refuses, loudly, any moto but the one the patch was proven on."""
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"infra/local/moto_dynamodb.py patches moto {MOTO_VERSION}, found {moto.__version__}: "
            "compare moto's transact_write_items and Table.query with the patch, rerun "
            "tests/aws/test_moto_patch.py, then raise MOTO_VERSION"
        )
    DynamoDBBackend.transact_write_items = _serialised_transact  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table.put_item = _put_item  # type: ignore[method-assign]
    Table.delete_item = _delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    Item.__new__ = staticmethod(_untracked_item)  # type: ignore[assignment]


def uninstall() -> None:
    DynamoDBBackend.transact_write_items = _MOTO_TRANSACT  # type: ignore[method-assign]
    Table.query = _MOTO_QUERY  # type: ignore[method-assign]
    Table.put_item = _MOTO_PUT  # type: ignore[method-assign]
    Table.delete_item = _MOTO_DELETE  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _MOTO_UPDATE  # type: ignore[method-assign]
    if "__new__" in Item.__dict__:
        del Item.__new__  # moto's own, inherited from BaseModel


def installed() -> bool:
    return Table.query is query


@contextmanager
def patched() -> Iterator[None]:
    """The patch for the duration of a block, then moto as it was (for tests and benchmarks)."""
    was = installed()
    install()
    try:
        yield
    finally:
        if not was:
            uninstall()
