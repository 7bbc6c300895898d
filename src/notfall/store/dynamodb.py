"""The event store on DynamoDB.

Events table: key (stream_id, version); one item per event, payload as a JSON string so
auditors read back exactly what was written. A counter item (stream_id "$log") holds the last
global position; every append moves it in the same TransactWriteItems as the events, on the
condition that nobody moved it first. That makes positions gapless and equal to commit order.
The counter also keeps the last event's hash, so each append chains its events to the log
(notfall.store.chain) from what it read anyway: no extra request.
The GlobalOrder index (log_page = position // 1000, position) lets auditors page through the
whole history; index reads are eventually consistent, so `read_all` stops at the first gap
and never hands out a later event before an earlier one.

Commands table: one item per command id, written in the same transaction, holding the
command's answer and, for a client's Idempotency-Key, the request's fingerprint. A retry finds
it through the failed condition and gets the first answer, if it is the same request.
"""

from __future__ import annotations

import json
import random
import time
from datetime import datetime
from typing import Any

from notfall.clock import Clock, system_clock
from notfall.domain.decision import Decision
from notfall.domain.envelope import Envelope, Metadata
from notfall.domain.errors import VersionConflict
from notfall.store import chain
from notfall.store.base import AppendResult, LogPage, RecordPage, envelopes_for, same_request

LOG_COUNTER = "$log"
LOG_PAGE_SIZE = 1000
GLOBAL_ORDER_INDEX = "GlobalOrder"
_COUNTER_ATTEMPTS = 25  # losing the counter race only delays a writer; it never fails its decision


def event_item(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record (notfall.store.chain.stored_record, sealed) as a DynamoDB item."""
    item = {
        "log_page": {"N": str(record["position"] // LOG_PAGE_SIZE)},
    }
    for name, value in record.items():
        if value is None:
            continue  # no causation
        item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    return item


_NUMBERS = ("position", "version", "schema_version")


def record_from_item(item: dict[str, Any]) -> dict[str, Any]:
    """An event item as its stored record (the export's line)."""
    record: dict[str, Any] = {k: next(iter(v.values())) for k, v in item.items() if k != "log_page"}
    for name in _NUMBERS:
        if name in record:
            record[name] = int(record[name])
    record.setdefault("causation_id", None)
    return record


def command_item(
    command_id: str, result: dict[str, Any], recorded_at: str, actor: str, fingerprint: str | None = None
) -> dict[str, Any]:
    """A command's item: its first answer, when and by whom, and the request it answered."""
    item = {
        "command_id": {"S": command_id},
        "result": {"S": json.dumps(result, sort_keys=True, default=str)},
        "recorded_at": {"S": recorded_at},
        "actor": {"S": actor},
    }
    if fingerprint:
        item["request_fingerprint"] = {"S": fingerprint}
    return item


def envelope_from_item(item: dict[str, Any]) -> Envelope:
    skip = ("log_page", "hash", "prev_hash")
    record: dict[str, Any] = {k: next(iter(v.values())) for k, v in item.items() if k not in skip}
    record["data"] = json.loads(record["data"])
    record.setdefault("causation_id", None)
    return Envelope.from_record(record)


class DynamoEventStore:
    def __init__(self, client: Any, events_table: str, commands_table: str, clock: Clock = system_clock) -> None:
        self._db = client
        self._clock = clock  # stamps recorded_at
        self._events = events_table
        self._commands = commands_table

    def load(self, stream_id: str) -> list[Envelope]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._events,
            "KeyConditionExpression": "stream_id = :s",
            "ExpressionAttributeValues": {":s": {"S": stream_id}},
            "ConsistentRead": True,
        }
        while True:
            page = self._db.query(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return [envelope_from_item(i) for i in items]
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def log_head(self) -> tuple[int, str]:
        item = self._db.get_item(
            TableName=self._events,
            Key={"stream_id": {"S": LOG_COUNTER}, "version": {"N": "0"}},
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return 0, chain.GENESIS
        return int(item["last_position"]["N"]), item.get("last_hash", {}).get("S", chain.GENESIS)

    def append(self, decision: Decision, meta: Metadata) -> AppendResult:
        for attempt in range(_COUNTER_ATTEMPTS):
            last, last_hash = self.log_head()
            envelopes = envelopes_for(decision.appends, meta, last + 1, self._clock())
            records = [chain.stored_record(env) for env in envelopes]
            new_hash = chain.seal(records, last_hash)
            items = self._transaction(decision, meta, envelopes, records, last, new_hash)
            try:
                self._db.transact_write_items(TransactItems=items)
                return AppendResult(decision.result, duplicate=False)
            except self._db.exceptions.TransactionCanceledException as err:
                reasons = err.response.get("CancellationReasons", [])
                outcome = self._read_cancellation(reasons, items, meta)
                if isinstance(outcome, AppendResult):
                    return outcome
                # Only the global counter moved (another stream's writer): take the next slot.
                time.sleep(random.uniform(0, min(0.005 * 2**attempt, 0.2)))
        raise VersionConflict(LOG_COUNTER)

    def _transaction(
        self,
        decision: Decision,
        meta: Metadata,
        envelopes: list[Envelope],
        records: list[dict[str, Any]],
        last: int,
        new_hash: str,
    ) -> list[dict[str, Any]]:
        counter_key = {"stream_id": {"S": LOG_COUNTER}, "version": {"N": "0"}}
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._events,
                    "Key": counter_key,
                    "UpdateExpression": "SET last_position = :new, last_hash = :hash",
                    "ConditionExpression": "attribute_not_exists(last_position) OR last_position = :old"
                    if last == 0
                    else "last_position = :old",
                    "ExpressionAttributeValues": {
                        ":new": {"N": str(last + len(envelopes))},
                        ":old": {"N": str(last)},
                        ":hash": {"S": new_hash},
                    },
                }
            }
        ]
        for append in decision.appends:
            if append.expected_version > 0:
                # The stream must really be at the expected version: no gaps, no guessing ahead.
                items.append(
                    {
                        "ConditionCheck": {
                            "TableName": self._events,
                            "Key": {
                                "stream_id": {"S": append.stream_id},
                                "version": {"N": str(append.expected_version)},
                            },
                            "ConditionExpression": "attribute_exists(stream_id)",
                        }
                    }
                )
            if not append.events:
                # Nothing to put, whose condition would catch a newer event: check the next version is free.
                next_version = {"N": str(append.expected_version + 1)}
                items.append(
                    {
                        "ConditionCheck": {
                            "TableName": self._events,
                            "Key": {"stream_id": {"S": append.stream_id}, "version": next_version},
                            "ConditionExpression": "attribute_not_exists(stream_id)",
                        }
                    }
                )
        for record in records:
            items.append(
                {
                    "Put": {
                        "TableName": self._events,
                        "Item": event_item(record),
                        "ConditionExpression": "attribute_not_exists(stream_id)",
                    }
                }
            )
        recorded_at = envelopes[0].recorded_at.isoformat() if envelopes else ""
        command = command_item(meta.command_id, decision.result, recorded_at, meta.actor, meta.request_fingerprint)
        items.append(
            {
                "Put": {
                    "TableName": self._commands,
                    "Item": command,
                    "ConditionExpression": "attribute_not_exists(command_id)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        )
        return items

    def _read_cancellation(
        self, reasons: list[dict[str, Any]], items: list[dict[str, Any]], meta: Metadata
    ) -> AppendResult | None:
        """Tell a retried command, a key reused for another request, a real version conflict
        and a moved counter apart."""
        command_reason = reasons[-1] if reasons else {}
        if command_reason.get("Code") == "ConditionalCheckFailed":
            stored = command_reason.get("Item") or self._command_item(meta.command_id)
            if stored is None:  # the condition failed on that very item, and command items are never deleted
                raise RuntimeError("a command's item vanished after it cancelled the transaction")
            return AppendResult(self._first(stored, meta.request_fingerprint), duplicate=True)
        for reason, item in zip(reasons[1:-1], items[1:-1], strict=True):
            if reason.get("Code") == "ConditionalCheckFailed":
                body = item.get("Put") or item["ConditionCheck"]
                key = body.get("Item") or body.get("Key")
                raise VersionConflict(key["stream_id"]["S"])
        return None

    def _command_item(self, command_id: str) -> dict[str, Any] | None:
        return self._db.get_item(
            TableName=self._commands, Key={"command_id": {"S": command_id}}, ConsistentRead=True
        ).get("Item")

    def command_result(self, command_id: str, fingerprint: str | None = None) -> dict[str, Any] | None:
        item = self._command_item(command_id)
        return self._first(item, fingerprint) if item else None

    @staticmethod
    def _first(item: dict[str, Any], fingerprint: str | None) -> dict[str, Any]:
        same_request(item.get("request_fingerprint", {}).get("S"), fingerprint)
        return json.loads(item["result"]["S"])

    def read_all(self, after: int = 0, limit: int = 500) -> LogPage:
        items, next_position = self._read_log(after, limit, None)
        return LogPage([envelope_from_item(i) for i in items], next_position)

    def read_records(self, after: int = 0, limit: int = 500, settled_before: datetime | None = None) -> RecordPage:
        items, next_position = self._read_log(after, limit, settled_before)
        return RecordPage([record_from_item(i) for i in items], next_position)

    def _read_log(self, after: int, limit: int, settled_before: datetime | None) -> tuple[list[dict[str, Any]], int]:
        items: list[dict[str, Any]] = []
        expected = after + 1
        while len(items) < limit:
            page_no = expected // LOG_PAGE_SIZE
            response = self._db.query(
                TableName=self._events,
                IndexName=GLOBAL_ORDER_INDEX,
                KeyConditionExpression="log_page = :p AND #pos >= :from",
                ExpressionAttributeNames={"#pos": "position"},
                ExpressionAttributeValues={":p": {"N": str(page_no)}, ":from": {"N": str(expected)}},
                Limit=limit - len(items),
            )
            got = 0
            for item in response["Items"]:
                position = int(item["position"]["N"])
                if position != expected and not _a_hole(item, settled_before):
                    return items, expected - 1  # a gap: the index has not caught up yet
                items.append(item)
                expected = position + 1
                got += 1
            # Read on past a log page's end, or past a response cut short at 1 MB.
            if got == 0 or (expected % LOG_PAGE_SIZE != 0 and "LastEvaluatedKey" not in response):
                break
        return items, expected - 1


def _a_hole(item: dict[str, Any], settled_before: datetime | None) -> bool:
    """A missing position before an event recorded before `settled_before` is not index lag."""
    if settled_before is None:
        return False
    return datetime.fromisoformat(item["recorded_at"]["S"]) < settled_before
