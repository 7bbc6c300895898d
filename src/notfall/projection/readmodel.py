"""Where projected rows live: the contract, an in-memory twin and the DynamoDB table.

Each projected stream owns a set of rows. Its state row (sk "state") carries the stream
version it reflects and the keys of its other rows, so a replacement can delete rows the
stream no longer has. A replacement only lands if it is newer than what is there: the
write is conditional on the version, which makes redelivery and races harmless.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Protocol

STATE_SK = "state"

Key = tuple[str, str]


@dataclass(frozen=True)
class Current:
    version: int
    row_keys: list[tuple[str, str]]


@dataclass(frozen=True)
class Snapshot:
    """A row exactly as stored (`stored`: the backend's own form), for a compare-and-swap."""

    row: dict[str, Any]
    stored: Any


class ReadModel(Protocol):
    def current(self, pk: str) -> Current | None: ...

    def replace(self, rows: list[dict[str, Any]], version: int, previous: Current | None) -> bool:
        """Swap the stream's rows for `rows`, if its state row is still `previous`."""
        ...

    def get(self, pk: str, sk: str) -> dict[str, Any] | None: ...

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]: ...

    def last(self, pk: str) -> dict[str, Any] | None:
        """The row of `pk` with the highest sort key (read strongly consistent), or None."""
        ...

    def queue(self, name: str, limit: int = 100) -> list[dict[str, Any]]: ...

    def dump(self) -> list[dict[str, Any]]: ...

    def snapshot(self, pk: str, sk: str) -> Snapshot | None:
        """The row as stored now (read strongly consistent), or None."""
        ...

    def swap(self, puts: list[dict[str, Any]], deletes: list[Key], guard: Key, seen: Snapshot | None) -> bool:
        """Put and delete rows in one write, if the row `guard` is still exactly `seen` (absent if None)."""
        ...


def _state_row(rows: list[dict[str, Any]], version: int) -> dict[str, Any]:
    state, others = rows[0], rows[1:]
    assert state["sk"] == STATE_SK, "the first row of a stream is its state row"
    return {**state, "version": version, "row_keys": [[r["pk"], r["sk"]] for r in others]}


class MemoryReadModel:
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def current(self, pk: str) -> Current | None:
        row = self._rows.get((pk, STATE_SK))
        return Current(row["version"], [tuple(k) for k in row["row_keys"]]) if row else None

    def replace(self, rows: list[dict[str, Any]], version: int, previous: Current | None) -> bool:
        with self._lock:
            state = _state_row(rows, version)
            if self.current(state["pk"]) != previous:
                return False
            for key in previous.row_keys if previous else []:
                self._rows.pop(key, None)
            for row in [state, *rows[1:]]:
                self._rows[(row["pk"], row["sk"])] = json.loads(json.dumps(row))
            return True

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self._rows.get((pk, sk))

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        # Filtered before sorting: the generated history's read model holds some 200,000 rows.
        keys = sorted(k for k in self._rows if k[0] == pk and k[1].startswith(sk_prefix))
        return [self._rows[k] for k in keys]

    def last(self, pk: str) -> dict[str, Any] | None:
        rows = self.query(pk)
        return rows[-1] if rows else None

    def queue(self, name: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = [r for r in self._rows.values() if r.get("queue") == name]
        return sorted(rows, key=lambda r: r["queue_at"])[:limit]

    def dump(self) -> list[dict[str, Any]]:
        return [self._rows[k] for k in sorted(self._rows)]

    def snapshot(self, pk: str, sk: str) -> Snapshot | None:
        row = self._rows.get((pk, sk))
        return Snapshot(json.loads(json.dumps(row)), json.dumps(row, sort_keys=True)) if row else None

    def swap(self, puts: list[dict[str, Any]], deletes: list[Key], guard: Key, seen: Snapshot | None) -> bool:
        with self._lock:
            now = self.snapshot(*guard)
            if (now and now.stored) != (seen and seen.stored):
                return False
            for key in deletes:
                self._rows.pop(key, None)
            for row in puts:
                self._rows[(row["pk"], row["sk"])] = json.loads(json.dumps(row))
            return True


def _expect(previous: Current | None) -> dict[str, Any]:
    """Compare-and-swap on the state row: stale-row deletion is only right against it."""
    if previous is None:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": str(previous.version)}}}


class DynamoReadModel:
    """Rows stored as (pk, sk, version, queue, queue_at, body); body is the row as JSON."""

    def __init__(self, client: Any, table: str, queue_index: str = "Queue") -> None:
        self._db = client
        self._table = table
        self._queue_index = queue_index

    @staticmethod
    def _item(row: dict[str, Any]) -> dict[str, Any]:
        item = {"pk": {"S": row["pk"]}, "sk": {"S": row["sk"]}, "body": {"S": json.dumps(row, sort_keys=True)}}
        if "version" in row:
            item["version"] = {"N": str(row["version"])}
        if "queue" in row:
            item["queue"] = {"S": row["queue"]}
            item["queue_at"] = {"S": row["queue_at"]}
        return item

    def current(self, pk: str) -> Current | None:
        # Strongly consistent: the compare-and-swap that follows must see the latest row.
        row = self.get(pk, STATE_SK, consistent=True)
        return Current(row["version"], [tuple(k) for k in row["row_keys"]]) if row else None

    def replace(self, rows: list[dict[str, Any]], version: int, previous: Current | None) -> bool:
        state = _state_row(rows, version)
        keep = {(r["pk"], r["sk"]) for r in rows}
        stale = [k for k in (previous.row_keys if previous else []) if tuple(k) not in keep]
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._item(state),
                    **_expect(previous),
                }
            }
        ]
        items += [{"Put": {"TableName": self._table, "Item": self._item(r)}} for r in rows[1:]]
        items += [{"Delete": {"TableName": self._table, "Key": {"pk": {"S": pk}, "sk": {"S": sk}}}} for pk, sk in stale]
        try:
            self._db.transact_write_items(TransactItems=items)
            return True
        except self._db.exceptions.TransactionCanceledException as err:
            codes = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                return False  # somebody replaced the rows meanwhile: the caller looks again
            raise

    def snapshot(self, pk: str, sk: str) -> Snapshot | None:
        key = {"pk": {"S": pk}, "sk": {"S": sk}}
        item = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return Snapshot(json.loads(item["body"]["S"]), item["body"]["S"]) if item else None

    def swap(self, puts: list[dict[str, Any]], deletes: list[Key], guard: Key, seen: Snapshot | None) -> bool:
        # The guard row's body as stored: any write by the projector changes it (its version at least).
        if seen is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "body = :seen",
                "ExpressionAttributeValues": {":seen": {"S": seen.stored}},
            }
        items: list[dict[str, Any]] = []
        for row in puts:
            guarded = condition if (row["pk"], row["sk"]) == tuple(guard) else {}
            items.append({"Put": {"TableName": self._table, "Item": self._item(row), **guarded}})
        for pk, sk in deletes:
            guarded = condition if (pk, sk) == tuple(guard) else {}
            key = {"pk": {"S": pk}, "sk": {"S": sk}}
            items.append({"Delete": {"TableName": self._table, "Key": key, **guarded}})
        if not any("ConditionExpression" in next(iter(i.values())) for i in items):
            key = {"pk": {"S": guard[0]}, "sk": {"S": guard[1]}}
            items.insert(0, {"ConditionCheck": {"TableName": self._table, "Key": key, **condition}})
        try:
            self._db.transact_write_items(TransactItems=items)
            return True
        except self._db.exceptions.TransactionCanceledException as err:
            codes = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in codes:
                return False  # the projector wrote meanwhile: its rows are the newer ones
            raise

    def get(self, pk: str, sk: str, consistent: bool = False) -> dict[str, Any] | None:
        key = {"pk": {"S": pk}, "sk": {"S": sk}}
        item = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=consistent).get("Item")
        return json.loads(item["body"]["S"]) if item else None

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            page = self._db.query(TableName=self._table, **kwargs)
            rows += [json.loads(i["body"]["S"]) for i in page["Items"]]
            if "LastEvaluatedKey" not in page or kwargs.get("Limit"):
                return rows
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        if not sk_prefix:  # DynamoDB rejects an empty string in a key condition
            return self._query_all(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}})
        return self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":p": {"S": sk_prefix}},
        )

    def last(self, pk: str) -> dict[str, Any] | None:
        page = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        return json.loads(page["Items"][0]["body"]["S"]) if page["Items"] else None

    def queue(self, name: str, limit: int = 100) -> list[dict[str, Any]]:
        return self._query_all(
            IndexName=self._queue_index,
            KeyConditionExpression="#q = :q",
            ExpressionAttributeNames={"#q": "queue"},
            ExpressionAttributeValues={":q": {"S": name}},
            Limit=limit,
        )

    def dump(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self._table, "ConsistentRead": True}
        while True:
            page = self._db.scan(**kwargs)
            rows += [json.loads(i["body"]["S"]) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return sorted(rows, key=lambda r: (r["pk"], r["sk"]))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
