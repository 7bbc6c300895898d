"""moto's DynamoDB tables with their items on disk (SQLite), so the local stack's memory stays flat.

moto 5.2.5 keeps every item of a table as Python objects (`Table.items`: hash key -> range key
-> `Item`, each attribute a `DynamoType`): about 14 KB of memory per call event the local stack
records (its events, its command item, the read-model rows, the idempotency record), for as
long as the stack runs. docs/local-stack.md has the figures.

With `install()` and a `Store` in `use()` (and `moto_dynamodb.install()`, which it needs: items
read back from disk must not be listed in moto's dashboard list), every table created
afterwards keeps its items in the store: one SQLite file in a temporary directory, removed when
the store is closed (the local stack does that when it stops).
- `Table.items` becomes a `DiskItems`: the same mapping as moto's dict (hash key -> partition
  -> item, or hash key -> item), so moto's `put_item`, `get_item`, `delete_item` and the
  patched query and transaction rollback run unchanged. Every read unpickles a fresh `Item`;
  nothing is cached but SQLite's own pages (a bounded cache).
- moto updates an item in place (`update_item`, a transaction's Update): the patched
  `DynamoDBBackend.update_item` (moto_dynamodb.py) writes the updated item back. Since every
  read is a fresh copy, an item is changed only by a write: no mutated item can be lost by an
  eviction, and an update that fails half way leaves the stored item as it was.
- A table's item count is SQLite's; its scan streams from SQLite in moto's order (hash key,
  then range key), a page at a time, and a scan from an `ExclusiveStartKey` starts there.
- Each write also keeps the item's index entries (index name, its value of the index's hash
  key, its key) in a second SQL table; a query on an index reads the items of the one index
  partition asked for through it (`index_partition`), not the whole table.
- Writes (put, delete here, update in moto_dynamodb.py) take the transaction lock of
  `moto_dynamodb`: a read-modify-write of one item must not interleave with another (moto's
  own changed one shared object in place).

Numbers in keys sort by their double value (exact for integers up to 2**53: versions,
positions); moto sorts by their exact decimal value. tests/aws/test_moto_patch.py runs the
same cases against moto's own tables and these.
"""

from __future__ import annotations

import itertools
import pickle
import shutil
import sqlite3
import tempfile
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table

from infra.local import moto_dynamodb

_MOTO_INIT = Table.__init__
_MOTO_LEN = Table.__len__
_MOTO_ALL_ITEMS = Table.all_items
_MOTO_HAS_IDX_ITEMS = Table.has_idx_items
_MOTO_SCAN = Table.scan
_MOTO_PUT = DynamoDBBackend.put_item
_MOTO_DELETE = DynamoDBBackend.delete_item

PAGE = 256  # rows a scan reads from SQLite at a time
CACHE_KIB = 8 * 1024  # SQLite's page cache per stack: the only items kept in memory


class Store:
    """One SQLite file in a temporary directory; one SQL table per moto table."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="local-tables-"))
        # One connection for moto's request threads, used under a lock; autocommit: nothing
        # here needs SQL transactions (the data dies with the stack, so no journal, no fsync).
        self._db = sqlite3.connect(self.directory / "tables.sqlite", check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._names = itertools.count(1)
        self.open = True
        for pragma in ("journal_mode = OFF", "synchronous = OFF", f"cache_size = -{CACHE_KIB}"):
            self._db.execute(f"PRAGMA {pragma}")

    def new_table(self) -> str:
        name = f"t{next(self._names)}"
        with self._lock:
            # h, r: the key's type and exact value (equality as moto's DynamoType); hs, rs: its
            # value to sort by. A hash-only table has r = '' and rs = 0.
            self._db.execute(f"CREATE TABLE {name} (h TEXT, r TEXT, hs, rs, item BLOB, PRIMARY KEY (h, r))")
            self._db.execute(f"CREATE INDEX {name}_order ON {name} (hs, rs, h, r)")
            # The table's index entries: index name, the item's value of the index's hash key
            # (exact, as h), the item's key. An index query reads one partition through it.
            self._db.execute(f"CREATE TABLE {name}_entries (i TEXT, v TEXT, h TEXT, r TEXT, PRIMARY KEY (i, v, h, r))")
            self._db.execute(f"CREATE INDEX {name}_entries_item ON {name}_entries (h, r)")
        return name

    def drop_table(self, name: str) -> None:
        with self._lock:
            if self.open:
                self._db.execute(f"DROP TABLE IF EXISTS {name}")
                self._db.execute(f"DROP TABLE IF EXISTS {name}_entries")

    def run(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def close(self) -> None:
        """The file and its directory go; the tables made with this store are unusable."""
        with self._lock:
            self.open = False
            self._db.close()
            shutil.rmtree(self.directory, ignore_errors=True)


def _exact(key: DynamoType) -> str:
    value = key.cast_value
    if isinstance(value, Decimal):  # 1, 1.0 and 1E0 are one key to moto
        value = value.normalize() if value else 0
    return f"{key.type}:{value}"


def _sortable(key: DynamoType) -> Any:
    value = key.cast_value
    return float(value) if isinstance(value, Decimal) else value


def _dump(item: Item) -> bytes:
    return pickle.dumps((item.hash_key, item.range_key, dict(item.attrs)), pickle.HIGHEST_PROTOCOL)


def _load(blob: bytes) -> Item:
    hash_key, range_key, attrs = pickle.loads(blob)
    item: Item = object.__new__(Item)  # not Item(): it would rebuild each DynamoType
    item.hash_key, item.range_key = hash_key, range_key
    item.attrs = LimitedSizeDict(attrs)  # dict.update: no size check per attribute, as moto's deepcopy
    return item


class DiskItems:
    """A moto table's `items`, in SQLite: hash key -> `Partition` (a table with a range key) or
    hash key -> `Item` (a hash key only). Each read answers fresh `Item` objects."""

    def __init__(self, store: Store, has_range: bool, index_keys: Callable[[], dict[str, str]]) -> None:
        self.store = store
        self.name = store.new_table()
        self.has_range = has_range
        self._index_keys = index_keys  # the table's indexes now (moto may add one to a table)
        self._indexed: dict[str, str] = {}  # the indexes the entries were made for

    # --- rows ---------------------------------------------------------------------------

    def read(self, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
        rows = self.store.run(
            f"SELECT item FROM {self.name} WHERE h = ? AND r = ?", (_exact(hash_key), self._r(range_key))
        )
        return _load(rows[0][0]) if rows else None

    def write(self, item: Item) -> None:
        keys = self._current_index_keys()
        h, r = _exact(item.hash_key), self._r(item.range_key)
        self.store.run(
            f"INSERT OR REPLACE INTO {self.name} VALUES (?, ?, ?, ?, ?)",
            (h, r, _sortable(item.hash_key), self._rs(item.range_key), _dump(item)),
        )
        self._enter(keys, h, r, item)

    def remove(self, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
        item = self.read(hash_key, range_key)
        if item is not None:
            h, r = _exact(hash_key), self._r(range_key)
            self.store.run(f"DELETE FROM {self.name} WHERE h = ? AND r = ?", (h, r))
            self.store.run(f"DELETE FROM {self.name}_entries WHERE h = ? AND r = ?", (h, r))
        return item

    def index_partition(self, index_name: str, value: DynamoType) -> list[Item]:
        """The items in one partition of an index: those whose index hash key is `value`."""
        self._current_index_keys()
        rows = self.store.run(
            f"SELECT t.item FROM {self.name}_entries e JOIN {self.name} t ON t.h = e.h AND t.r = e.r"
            " WHERE e.i = ? AND e.v = ?",
            (index_name, _exact(value)),
        )
        return [_load(blob) for (blob,) in rows]

    def _enter(self, keys: dict[str, str], h: str, r: str, item: Item) -> None:
        """The item's index entries, in place of those it had."""
        self.store.run(f"DELETE FROM {self.name}_entries WHERE h = ? AND r = ?", (h, r))
        for name, value in moto_dynamodb.index_entries(keys, item).items():
            self.store.run(f"INSERT INTO {self.name}_entries VALUES (?, ?, ?, ?)", (name, _exact(value), h, r))

    def _current_index_keys(self) -> dict[str, str]:
        """The table's indexes; if they changed, every item's entries are made again."""
        keys = self._index_keys()
        if keys != self._indexed:
            with moto_dynamodb.TRANSACTIONS:  # no write may change the table meanwhile
                self.store.run(f"DELETE FROM {self.name}_entries")
                for item in self.stream():
                    self._enter(keys, _exact(item.hash_key), self._r(item.range_key), item)
                self._indexed = keys
        return keys

    def partition(self, hash_key: DynamoType) -> list[Item]:
        rows = self.store.run(f"SELECT item FROM {self.name} WHERE h = ? ORDER BY rs, r", (_exact(hash_key),))
        return [_load(blob) for (blob,) in rows]

    def count(self, hash_key: DynamoType | None = None) -> int:
        if hash_key is None:
            return int(self.store.run(f"SELECT count(*) FROM {self.name}")[0][0])
        return int(self.store.run(f"SELECT count(*) FROM {self.name} WHERE h = ?", (_exact(hash_key),))[0][0])

    def stream(self, start: tuple[Any, Any] | None = None) -> Iterator[Item]:
        """Every item in moto's order, a page at a time (from `start`, a sort key, if given)."""
        where, after = ("WHERE (hs, rs) >= (?, ?)", start) if start else ("", ())
        while True:
            rows = self.store.run(
                f"SELECT hs, rs, h, r, item FROM {self.name} {where} ORDER BY hs, rs, h, r LIMIT {PAGE}", tuple(after)
            )
            for *_, blob in rows:
                yield _load(blob)
            if len(rows) < PAGE:
                return
            where, after = "WHERE (hs, rs, h, r) > (?, ?, ?, ?)", rows[-1][:4]

    def sort_key(self, hash_key: DynamoType, range_key: DynamoType | None) -> tuple[Any, Any]:
        return _sortable(hash_key), self._rs(range_key)

    def _r(self, range_key: DynamoType | None) -> str:
        return _exact(range_key) if self.has_range and range_key is not None else ""

    def _rs(self, range_key: DynamoType | None) -> Any:
        return _sortable(range_key) if self.has_range and range_key is not None else 0

    # --- moto's dict ----------------------------------------------------------------------

    def __getitem__(self, hash_key: DynamoType) -> Any:
        if self.has_range:
            return Partition(self, hash_key)  # as moto's defaultdict(dict)
        item = self.read(hash_key, None)
        if item is None:
            raise KeyError(hash_key)
        return item

    def get(self, hash_key: DynamoType, default: Any = None) -> Any:
        try:
            return self[hash_key]
        except KeyError:
            return default

    def __setitem__(self, hash_key: DynamoType, item: Item) -> None:
        self.write(item)

    def __contains__(self, hash_key: DynamoType) -> bool:
        return self.count(hash_key) > 0

    _MISSING = object()

    def pop(self, hash_key: DynamoType, default: Any = _MISSING) -> Any:
        item = self.remove(hash_key, None)
        if item is None:
            if default is DiskItems._MISSING:
                raise KeyError(hash_key)
            return default
        return item

    def values(self) -> Iterator[Any]:
        if not self.has_range:
            yield from self.stream()
            return
        for (blob,) in self.store.run(f"SELECT item FROM {self.name} GROUP BY h ORDER BY hs"):
            yield Partition(self, _load(blob).hash_key)

    def __len__(self) -> int:
        return self.count()

    def __deepcopy__(self, memo: dict[int, Any]) -> defaultdict[DynamoType, Any]:
        """moto's dict of the items, in memory (moto copies a table for a backup)."""
        copied: defaultdict[DynamoType, Any] = defaultdict(dict)
        for item in self.stream():
            if self.has_range:
                copied[item.hash_key][item.range_key] = item
            else:
                copied[item.hash_key] = item
        return copied


class Partition:
    """One partition of a table with a range key, as moto's dict range key -> item."""

    def __init__(self, items: DiskItems, hash_key: DynamoType) -> None:
        self._items, self._hash_key = items, hash_key

    def __getitem__(self, range_key: DynamoType) -> Item:
        item = self._items.read(self._hash_key, range_key)
        if item is None:
            raise KeyError(range_key)
        return item

    def __setitem__(self, range_key: DynamoType, item: Item) -> None:
        self._items.write(item)

    def __contains__(self, range_key: DynamoType) -> bool:
        return self._items.read(self._hash_key, range_key) is not None

    def pop(self, range_key: DynamoType, default: Any = DiskItems._MISSING) -> Any:
        item = self._items.remove(self._hash_key, range_key)
        if item is None:
            if default is DiskItems._MISSING:
                raise KeyError(range_key)
            return default
        return item

    def values(self) -> list[Item]:
        return self._items.partition(self._hash_key)

    def __len__(self) -> int:
        return self._items.count(self._hash_key)


# --- the patched methods ------------------------------------------------------------------

_store: Store | None = None


def _table_init(self: Table, *args: Any, **kwargs: Any) -> None:
    _MOTO_INIT(self, *args, **kwargs)
    if _store is not None:
        table = weakref.ref(self)  # not self: the table's items must not keep it alive

        def index_keys() -> dict[str, str]:
            alive = table()
            return moto_dynamodb.index_keys(alive) if alive is not None else {}

        items = DiskItems(_store, self.range_key_attr is not None, index_keys)
        self.items = items  # type: ignore[assignment]
        weakref.finalize(self, _store.drop_table, items.name)  # a deleted table's rows go too


def _len(self: Table) -> int:
    return self.items.count() if isinstance(self.items, DiskItems) else _MOTO_LEN(self)


def _all_items(self: Table) -> Any:
    """moto's list of every item, sorted; from disk, a stream in the same order."""
    return self.items.stream() if isinstance(self.items, DiskItems) else _MOTO_ALL_ITEMS(self)


def _has_idx_items(self: Table, index_name: str) -> list[Item]:
    if not isinstance(self.items, DiskItems):
        return _MOTO_HAS_IDX_ITEMS(self, index_name)
    columns = {i["AttributeName"] for i in self.get_index(index_name).schema}
    return [item for item in self.items.stream() if columns.issubset(item.attrs)]


class _From:
    """A table as moto's scan sees it, whose items start at the scan's ExclusiveStartKey
    (moto skips the items up to and including it: here, just that one)."""

    def __init__(self, table: Table, start: tuple[Any, Any]) -> None:
        self._table, self._start = table, start

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> Iterator[Item]:
        return self._table.items.stream(self._start)  # type: ignore[attr-defined]


def _scan(self: Table, filters: Any, limit: Any, exclusive_start_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = args[1] if len(args) > 1 else kwargs.get("index_name")
    items = self.items
    if isinstance(items, DiskItems) and exclusive_start_key and not index_name:
        hash_key = DynamoType(exclusive_start_key[self.hash_key_attr])
        range_key = DynamoType(exclusive_start_key[self.range_key_attr]) if self.range_key_attr else None
        start = _From(self, items.sort_key(hash_key, range_key))
        return _MOTO_SCAN(start, filters, limit, exclusive_start_key, *args, **kwargs)
    return _MOTO_SCAN(self, filters, limit, exclusive_start_key, *args, **kwargs)


def _put_item(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
    with moto_dynamodb.TRANSACTIONS:
        return _MOTO_PUT(self, *args, **kwargs)


def _delete_item(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
    with moto_dynamodb.TRANSACTIONS:
        return _MOTO_DELETE(self, *args, **kwargs)


def install() -> None:
    """Patch moto (idempotent); tables keep their items on disk once a store is in `use()`.
    Every patched method checks the table's `items`, so tables in memory behave as moto's."""
    Table.__init__ = _table_init  # type: ignore[method-assign]
    Table.__len__ = _len  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]
    Table.has_idx_items = _has_idx_items  # type: ignore[method-assign]
    Table.scan = _scan  # type: ignore[method-assign]
    DynamoDBBackend.put_item = _put_item  # type: ignore[method-assign]
    DynamoDBBackend.delete_item = _delete_item  # type: ignore[method-assign]


def uninstall() -> None:
    Table.__init__ = _MOTO_INIT  # type: ignore[method-assign]
    Table.__len__ = _MOTO_LEN  # type: ignore[method-assign]
    Table.all_items = _MOTO_ALL_ITEMS  # type: ignore[method-assign]
    Table.has_idx_items = _MOTO_HAS_IDX_ITEMS  # type: ignore[method-assign]
    Table.scan = _MOTO_SCAN  # type: ignore[method-assign]
    DynamoDBBackend.put_item = _MOTO_PUT  # type: ignore[method-assign]
    DynamoDBBackend.delete_item = _MOTO_DELETE  # type: ignore[method-assign]


def installed() -> bool:
    return Table.__init__ is _table_init


def use(store: Store | None) -> Store | None:
    """Tables created from now on keep their items in `store` (None: in memory, as moto's);
    answers the store used before. Closing a store is its owner's business."""
    global _store
    previous, _store = _store, store
    return previous
