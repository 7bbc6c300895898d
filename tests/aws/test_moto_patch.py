"""The local stack's moto patch (infra/local/moto_dynamodb.py) answers as moto's own does.

Each case runs three times, in a fresh moto: with moto's own TransactWriteItems and Query,
patched in memory, and patched with the tables on disk; the full responses, errors, table
contents and stream records must be equal. Each case also checks a few figures worked out by
hand, so that two equal wrong answers fail too.
Then: the patched transaction keeps the table and its stream shard (no copy), and its memory
does not grow with the table.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import time_machine
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from infra.local import moto_disk, moto_dynamodb
from infra.local.aws import ACCOUNT_ID, REGION

EVENTS, COMMANDS, LABELS = "events", "commands", "labels"
STOPPED = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


class Db:
    """A client, a streams client, and what a case observed, in order."""

    def __init__(self) -> None:
        self.client = boto3.client("dynamodb", region_name=REGION)
        self.streams = boto3.client("dynamodbstreams", region_name=REGION)
        self.seen: list[Any] = []

    def see(self, label: str, value: Any) -> Any:
        self.seen.append((label, value))
        return value

    def call(self, label: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        """The response or the error, without request ids."""
        try:
            response = getattr(self.client, operation)(**kwargs)
        except ClientError as err:
            response = {"error": err.response}
        response = {k: v for k, v in response.items() if k != "ResponseMetadata"}
        if "error" in response:
            response["error"] = {k: v for k, v in response["error"].items() if k != "ResponseMetadata"}
        return self.see(label, response)

    def contents(self, label: str) -> dict[str, list[dict[str, Any]]]:
        return self.see(label, {t: self.client.scan(TableName=t)["Items"] for t in (EVENTS, COMMANDS, LABELS)})

    def stream(self, table: str) -> list[dict[str, Any]]:
        """Every record of the table's stream, read through dynamodbstreams, but its random
        event id (the time is equal: both runs stop the clock)."""
        arn = self.client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = self.streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
        for record in records:  # random (moto's random numbers are shared with any other thread)
            assert len(record.pop("eventID")) == 32
        return records

    def streams_seen(self, label: str) -> dict[str, list[dict[str, Any]]]:
        return self.see(label, {t: self.stream(t) for t in (EVENTS, COMMANDS)})


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def s(value: str) -> dict[str, str]:
    return {"S": value}


def event(stream: str, version: int, position: int, **more: Any) -> dict[str, Any]:
    return {
        "stream_id": s(stream),
        "version": n(version),
        "position": n(position),
        "log_page": n(position // 4),
        **more,
    }


def create_tables(client: Any) -> None:
    """An event store's shape: events (stream, version) with a global order index and a stream
    of both images; commands by id with a stream of new images; labels with a string sort key
    and a queue index (string hash and range keys, as the hotline's queues)."""
    client.create_table(
        TableName=EVENTS,
        KeySchema=[{"AttributeName": "stream_id", "KeyType": "HASH"}, {"AttributeName": "version", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "stream_id", "AttributeType": "S"},
            {"AttributeName": "version", "AttributeType": "N"},
            {"AttributeName": "log_page", "AttributeType": "N"},
            {"AttributeName": "position", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GlobalOrder",
                "KeySchema": [
                    {"AttributeName": "log_page", "KeyType": "HASH"},
                    {"AttributeName": "position", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        BillingMode="PAY_PER_REQUEST",
    )
    client.create_table(
        TableName=COMMANDS,
        KeySchema=[{"AttributeName": "command_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "command_id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        BillingMode="PAY_PER_REQUEST",
    )
    client.create_table(
        TableName=LABELS,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "queue", "AttributeType": "S"},
            {"AttributeName": "queue_at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "Queue",
                "KeySchema": [
                    {"AttributeName": "queue", "KeyType": "HASH"},
                    {"AttributeName": "queue_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def seed(db: Db) -> None:
    """Two streams of three events (positions 1-6), the log counter at 6, one command, labels."""
    c = db.client
    for position, (stream, version) in enumerate([("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3), ("b", 3)], 1):
        c.put_item(TableName=EVENTS, Item=event(stream, version, position, data=s(f"{stream}{version}")))
    c.put_item(TableName=EVENTS, Item={"stream_id": s("$log"), "version": n(0), "last_position": n(6)})
    c.put_item(TableName=COMMANDS, Item={"command_id": s("cmd-1"), "answer": s("first")})
    for pk, sk in [("p", "apple"), ("p", "apricot"), ("p", "banana"), ("p", "cherry"), ("q", "apple")]:
        c.put_item(TableName=LABELS, Item={"pk": s(pk), "sk": s(sk), "len": n(len(sk))})


def append(
    stream: str, version: int, last: int, command: str, extra: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The event store's transaction: counter, one event, the command's item; `extra` adds
    parameters to the "counter", "event" or "command" item."""
    extra = extra or {}
    return [
        {
            "Update": {
                "TableName": EVENTS,
                "Key": {"stream_id": s("$log"), "version": n(0)},
                "UpdateExpression": "SET last_position = :new",
                "ConditionExpression": "last_position = :old",
                "ExpressionAttributeValues": {":new": n(last + 1), ":old": n(last)},
                **extra.get("counter", {}),
            }
        },
        {
            "Put": {
                "TableName": EVENTS,
                "Item": event(stream, version, last + 1, data=s(command)),
                "ConditionExpression": "attribute_not_exists(version)",
                **extra.get("event", {}),
            }
        },
        {
            "Put": {
                "TableName": COMMANDS,
                "Item": {"command_id": s(command), "answer": s(f"{stream}{version}")},
                "ConditionExpression": "attribute_not_exists(command_id)",
                **extra.get("command", {}),
            }
        },
    ]


VARIANTS = ("own", "patched", "disk")


def run(case: Callable[[Db], None], variant: str) -> list[Any]:
    """What the case observed against moto's own methods, the patched ones, or the patched ones
    with the tables' items on disk (infra/local/moto_disk.py)."""
    was = moto_dynamodb.installed()  # a local stack of the e2e tests may have installed it
    store = moto_disk.Store() if variant == "disk" else None
    if store:
        moto_disk.install()  # its methods leave tables in memory alone
    previous = moto_disk.use(store)
    try:
        if variant == "own":
            moto_dynamodb.uninstall()
        else:
            moto_dynamodb.install()
        with mock_aws(), time_machine.travel(STOPPED, tick=False):
            db = Db()
            create_tables(db.client)
            seed(db)
            case(db)
            on_disk = [isinstance(backend_table(t).items, moto_disk.DiskItems) for t in (EVENTS, COMMANDS, LABELS)]
            assert on_disk == [variant == "disk"] * 3
            return db.seen
    finally:
        moto_disk.use(previous)
        if store:
            store.close()
        if was:
            moto_dynamodb.install()
        else:
            moto_dynamodb.uninstall()


def both(case: Callable[[Db], None]) -> tuple[list[Any], list[Any]]:
    """What the case observed against moto's own methods, and against the patched ones (in
    memory and with the items on disk, which must have observed the same)."""
    own, patched, disk = (run(case, variant) for variant in VARIANTS)
    assert disk == patched
    return own, patched


def same(case: Callable[[Db], None]) -> dict[str, Any]:
    own, patched = both(case)
    assert patched == own
    return dict(patched)


# --- transactions ---------------------------------------------------------------------------


def test_a_successful_transaction_across_two_tables() -> None:
    def case(db: Db) -> None:
        db.call(
            "answer",
            "transact_write_items",
            TransactItems=[
                *append("a", 4, 6, "cmd-2"),
                {"Delete": {"TableName": EVENTS, "Key": {"stream_id": s("b"), "version": n(3)}}},
                {
                    "ConditionCheck": {
                        "TableName": COMMANDS,
                        "Key": {"command_id": s("cmd-1")},
                        "ConditionExpression": "answer = :a",
                        "ExpressionAttributeValues": {":a": s("first")},
                    }
                },
                {
                    "Update": {
                        "TableName": EVENTS,
                        "Key": {"stream_id": s("a"), "version": n(1)},
                        "UpdateExpression": "SET seen = if_not_exists(seen, :zero) + :one REMOVE log_page",
                        "ExpressionAttributeValues": {":zero": n(0), ":one": n(1)},
                    }
                },
            ],
        )
        db.contents("tables")
        db.streams_seen("streams")

    seen = same(case)
    assert seen["answer"] == {"ConsumedCapacity": [], "ItemCollectionMetrics": {}}
    events = {(i["stream_id"]["S"], i["version"]["N"]): i for i in seen["tables"][EVENTS]}
    assert set(events) == {("$log", "0"), ("a", "1"), ("a", "2"), ("a", "3"), ("a", "4"), ("b", "1"), ("b", "2")}
    assert events[("$log", "0")]["last_position"] == n(7)
    assert events[("a", "1")]["seen"] == n(1) and "log_page" not in events[("a", "1")]
    # The seed's 7 inserts, then one record per changed item, in transaction order.
    changes = seen["streams"][EVENTS][7:]
    assert [(r["eventName"], r["dynamodb"]["Keys"]) for r in changes] == [
        ("MODIFY", {"stream_id": s("$log"), "version": n(0)}),
        ("INSERT", {"stream_id": s("a"), "version": n(4)}),
        ("REMOVE", {"stream_id": s("b"), "version": n(3)}),
        ("MODIFY", {"stream_id": s("a"), "version": n(1)}),
    ]
    assert changes[0]["dynamodb"]["OldImage"]["last_position"] == n(6)
    assert changes[0]["dynamodb"]["NewImage"]["last_position"] == n(7)
    assert "NewImage" not in changes[2]["dynamodb"]
    assert [r["dynamodb"]["NewImage"] for r in seen["streams"][COMMANDS][1:]] == [
        {"command_id": s("cmd-2"), "answer": s("a4")}
    ]


@pytest.mark.parametrize("old_items", [False, True], ids=["plain", "ALL_OLD"])
def test_a_condition_failed_on_item_two_of_three_cancels_all(old_items: bool) -> None:
    """The event's slot is taken (version 3 of stream a exists): the counter moved in item 1 and
    the command's item 3 are undone; the reasons name item 2, with the winner if asked."""
    extra = {"event": {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}} if old_items else {}

    def case(db: Db) -> None:
        db.contents("before")
        db.call("answer", "transact_write_items", TransactItems=append("a", 3, 6, "cmd-2", extra))
        db.contents("after")
        db.streams_seen("streams")

    seen = same(case)
    error = seen["answer"]["error"]
    assert error["Error"]["Code"] == "TransactionCanceledException"
    reasons = error["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "None"]
    if old_items:
        assert reasons[1]["Item"] == event("a", 3, 5, data=s("a3"))
    else:
        assert "Item" not in reasons[1]
    assert seen["after"] == seen["before"]
    assert len(seen["streams"][EVENTS]) == 7 and len(seen["streams"][COMMANDS]) == 1  # the seed's only


def test_a_retried_command_fails_on_its_own_item_and_returns_the_first_answer() -> None:
    extra = {"command": {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}

    def case(db: Db) -> None:
        db.call("answer", "transact_write_items", TransactItems=append("c", 1, 6, "cmd-1", extra))
        db.contents("after")

    seen = same(case)
    reasons = seen["answer"]["error"]["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "None", "ConditionalCheckFailed"]
    assert reasons[2]["Item"] == {"command_id": s("cmd-1"), "answer": s("first")}


def test_a_failed_condition_on_a_missing_item_returns_no_old_item() -> None:
    def case(db: Db) -> None:
        db.call(
            "answer",
            "transact_write_items",
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": COMMANDS,
                        "Key": {"command_id": s("nobody")},
                        "ConditionExpression": "attribute_exists(command_id)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                *append("c", 1, 6, "cmd-2")[:1],
            ],
        )
        db.contents("after")

    seen = same(case)
    reasons = seen["answer"]["error"]["CancellationReasons"]
    assert reasons[0]["Code"] == "ConditionalCheckFailed" and "Item" not in reasons[0]
    assert reasons[1]["Code"] == "None"


def test_every_item_failing_reports_every_reason() -> None:
    """Another writer moved the counter and the command was seen: two reasons, one transaction."""

    def case(db: Db) -> None:
        db.call("answer", "transact_write_items", TransactItems=append("a", 3, 5, "cmd-1"))

    seen = same(case)
    codes = [r["Code"] for r in seen["answer"]["error"]["CancellationReasons"]]
    assert codes == ["ConditionalCheckFailed", "ConditionalCheckFailed", "ConditionalCheckFailed"]


def test_two_operations_on_one_item_are_refused_and_nothing_is_written() -> None:
    def case(db: Db) -> None:
        db.contents("before")
        items = append("c", 1, 6, "cmd-2")
        db.call("answer", "transact_write_items", TransactItems=[*items, items[2]])
        db.contents("after")
        db.streams_seen("streams")

    seen = same(case)
    assert seen["answer"]["error"]["Error"]["Code"] == "ValidationException"
    assert seen["after"] == seen["before"]
    assert len(seen["streams"][EVENTS]) == 7


def test_an_update_that_creates_an_item_is_undone_with_its_stream_records() -> None:
    """moto writes two records for an update that creates an item; a cancellation removes both
    and the item; the next transaction's records follow on with the next sequence numbers."""

    def case(db: Db) -> None:
        create = {
            "Update": {
                "TableName": EVENTS,
                "Key": {"stream_id": s("new"), "version": n(1)},
                "UpdateExpression": "SET #d = :d",
                "ExpressionAttributeNames": {"#d": "data"},
                "ExpressionAttributeValues": {":d": s("x")},
            }
        }
        db.call("cancelled", "transact_write_items", TransactItems=[create, *append("a", 3, 6, "cmd-2")])
        db.contents("after cancel")
        db.call("committed", "transact_write_items", TransactItems=[create])
        db.contents("after commit")
        db.streams_seen("streams")

    seen = same(case)
    assert [r["Code"] for r in seen["cancelled"]["error"]["CancellationReasons"]] == [
        "None",
        "None",
        "ConditionalCheckFailed",
        "None",
    ]
    assert {"stream_id": s("new"), "version": n(1)} not in [
        {k: i[k] for k in ("stream_id", "version")} for i in seen["after cancel"][EVENTS]
    ]
    changes = seen["streams"][EVENTS][7:]
    assert [r["eventName"] for r in changes] == ["INSERT", "INSERT"]
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in seen["streams"][EVENTS]]
    assert sequence == list(range(sequence[0], sequence[0] + 9))


def test_an_invalid_item_mid_transaction_undoes_the_items_before_it() -> None:
    def case(db: Db) -> None:
        db.contents("before")
        items = append("c", 1, 6, "cmd-2")
        items[2]["Put"]["Item"]["command_id"] = n(2)  # the key is a string attribute
        db.call("wrong type", "transact_write_items", TransactItems=items)
        update = {
            "Update": {
                "TableName": EVENTS,
                "Key": {"stream_id": s("a"), "version": n(1)},
                "UpdateExpression": "SET #d = :undefined",
                "ExpressionAttributeNames": {"#d": "data"},
            }
        }
        db.call("undefined value", "transact_write_items", TransactItems=[*append("c", 1, 6, "cmd-2")[:2], update])
        db.call(
            "no table",
            "transact_write_items",
            TransactItems=[
                *append("c", 1, 6, "cmd-2")[:1],
                *[{"Put": {"TableName": "missing", "Item": {"id": s("x")}}}],
            ],
        )
        db.contents("after")
        db.streams_seen("streams")

    seen = same(case)
    assert seen["wrong type"]["error"]["Error"]["Code"] == "ValidationException"
    # moto fails on an undefined value with a TypeError, and reports it as that item's reason.
    assert [r["Code"] for r in seen["undefined value"]["error"]["CancellationReasons"]] == ["None", "None", "TypeError"]
    assert seen["no table"]["error"]["Error"]["Code"] == "ResourceNotFoundException"
    assert seen["after"] == seen["before"]
    assert len(seen["streams"][EVENTS]) == 7


def test_deletes_and_condition_checks_on_a_hash_only_table() -> None:
    def case(db: Db) -> None:
        db.call(
            "deleted",
            "transact_write_items",
            TransactItems=[
                {
                    "Delete": {
                        "TableName": COMMANDS,
                        "Key": {"command_id": s("cmd-1")},
                        "ConditionExpression": "answer = :a",
                        "ExpressionAttributeValues": {":a": s("first")},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": EVENTS,
                        "Key": {"stream_id": s("$log"), "version": n(0)},
                        "ConditionExpression": "last_position = :six",
                        "ExpressionAttributeValues": {":six": n(6)},
                    }
                },
            ],
        )
        db.call(
            "deleted again",
            "transact_write_items",
            TransactItems=[
                {
                    "Delete": {
                        "TableName": COMMANDS,
                        "Key": {"command_id": s("cmd-1")},
                        "ConditionExpression": "attribute_exists(command_id)",
                    }
                }
            ],
        )
        db.contents("after")
        db.streams_seen("streams")

    seen = same(case)
    assert seen["deleted"] == {"ConsumedCapacity": [], "ItemCollectionMetrics": {}}
    assert seen["deleted again"]["error"]["CancellationReasons"][0]["Code"] == "ConditionalCheckFailed"
    assert seen["after"][COMMANDS] == []
    assert [r["eventName"] for r in seen["streams"][COMMANDS]] == ["INSERT", "REMOVE"]


# --- queries --------------------------------------------------------------------------------

QUERIES: dict[str, dict[str, Any]] = {
    "forward": {
        "TableName": EVENTS,
        "KeyConditionExpression": "stream_id = :s",
        "ExpressionAttributeValues": {":s": s("a")},
    },
    "backward": {
        "TableName": EVENTS,
        "KeyConditionExpression": "stream_id = :s",
        "ExpressionAttributeValues": {":s": s("a")},
        "ScanIndexForward": False,
    },
    "after a version": {
        "TableName": EVENTS,
        "KeyConditionExpression": "stream_id = :s AND version > :v",
        "ExpressionAttributeValues": {":s": s("b"), ":v": n(1)},
        "ConsistentRead": True,
    },
    "below": {
        "TableName": EVENTS,
        "KeyConditionExpression": "stream_id = :s AND version < :v",
        "ExpressionAttributeValues": {":s": s("b"), ":v": n(3)},
    },
    "between": {
        "TableName": EVENTS,
        "KeyConditionExpression": "#s = :s AND version BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": {"#s": "stream_id"},
        "ExpressionAttributeValues": {":s": s("a"), ":lo": n(2), ":hi": n(3)},
    },
    "begins_with": {
        "TableName": LABELS,
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :a)",
        "ExpressionAttributeValues": {":p": s("p"), ":a": s("ap")},
    },
    "filter": {
        "TableName": LABELS,
        "KeyConditionExpression": "pk = :p",
        "FilterExpression": "#l > :five",
        "ExpressionAttributeNames": {"#l": "len"},
        "ExpressionAttributeValues": {":p": s("p"), ":five": n(5)},
    },
    "projection": {
        "TableName": EVENTS,
        "KeyConditionExpression": "stream_id = :s",
        "ProjectionExpression": "version, #d",
        "ExpressionAttributeNames": {"#d": "data"},
        "ExpressionAttributeValues": {":s": s("b")},
    },
    "count": {
        "TableName": LABELS,
        "KeyConditionExpression": "pk = :p",
        "Select": "COUNT",
        "ExpressionAttributeValues": {":p": s("p")},
    },
    "hash only": {
        "TableName": COMMANDS,
        "KeyConditionExpression": "command_id = :c",
        "ExpressionAttributeValues": {":c": s("cmd-1")},
    },
    "no such partition": {
        "TableName": EVENTS,
        "KeyConditionExpression": "stream_id = :s",
        "ExpressionAttributeValues": {":s": s("zzz")},
    },
    "global order index": {
        "TableName": EVENTS,
        "IndexName": "GlobalOrder",
        "KeyConditionExpression": "log_page = :p AND #pos >= :from",
        "ExpressionAttributeNames": {"#pos": "position"},
        "ExpressionAttributeValues": {":p": n(1), ":from": n(5)},
    },
}

# Worked out from seed(): stream a holds versions 1-3 (positions 1, 3, 5), b 1-3 (2, 4, 6);
# log pages are position // 4, so page 1 holds positions 4-6.
EXPECTED = {
    "forward": ["a1", "a2", "a3"],
    "backward": ["a3", "a2", "a1"],
    "after a version": ["b2", "b3"],
    "below": ["b1", "b2"],
    "between": ["a2", "a3"],
    "begins_with": ["apple", "apricot"],
    "filter": ["apricot", "banana", "cherry"],
    "projection": ["b1", "b2", "b3"],
    "count": [],
    "hash only": ["first"],
    "no such partition": [],
    "global order index": ["a3", "b3"],
}


def shown(item: dict[str, Any]) -> str:
    return next(item[k]["S"] for k in ("data", "sk", "answer") if k in item)


@pytest.mark.parametrize("name", QUERIES)
def test_a_query_answers_as_moto_does(name: str) -> None:
    def case(db: Db) -> None:
        db.call("answer", "query", **QUERIES[name])

    answer = same(case)["answer"]
    assert [shown(i) for i in answer.get("Items", [])] == EXPECTED[name]
    if name == "count":
        assert answer["Count"] == 4
    if name == "projection":
        assert all(set(i) == {"version", "data"} for i in answer["Items"])


@pytest.mark.parametrize("forward", [True, False], ids=["forward", "backward"])
@pytest.mark.parametrize("index", [None, "GlobalOrder"], ids=["table", "index"])
def test_paging_with_a_limit_answers_as_moto_does(forward: bool, index: str | None) -> None:
    """Pages of two: every page, its LastEvaluatedKey and the resumption from it."""
    if index:
        query = {
            "IndexName": index,
            "KeyConditionExpression": "log_page = :p",
            "ExpressionAttributeValues": {":p": n(1)},
        }
    else:
        query = {"KeyConditionExpression": "stream_id = :s", "ExpressionAttributeValues": {":s": s("a")}}

    def case(db: Db) -> None:
        kwargs: dict[str, Any] = {"TableName": EVENTS, "Limit": 2, "ScanIndexForward": forward, **query}
        for page in range(3):
            answer = db.call(f"page {page}", "query", **kwargs)
            if "LastEvaluatedKey" not in answer:
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    seen = same(case)
    pages = [[shown(i) for i in seen[p]["Items"]] for p in ("page 0", "page 1")]
    expected = ["b2", "a3", "b3"] if index else ["a1", "a2", "a3"]  # page 1: positions 4, 5, 6
    if not forward:
        expected.reverse()
    assert pages[0] + pages[1] == expected and len(pages[0]) == 2
    assert "LastEvaluatedKey" in seen["page 0"]


def test_a_query_sees_what_a_transaction_wrote_and_not_what_a_cancelled_one_undid() -> None:
    def case(db: Db) -> None:
        db.call("cancelled", "transact_write_items", TransactItems=append("a", 3, 6, "cmd-2"))
        db.call("committed", "transact_write_items", TransactItems=append("a", 4, 6, "cmd-3"))
        db.call("stream a", "query", **QUERIES["forward"])

    seen = same(case)
    assert [shown(i) for i in seen["stream a"]["Items"]] == ["a1", "a2", "a3", "cmd-3"]


# --- index queries through writes (the patch reads one index partition) ----------------------


def page_through(db: Db, label: str, query: dict[str, Any]) -> list[str]:
    """Every page of two of an index query, each from the LastEvaluatedKey before."""
    kwargs: dict[str, Any] = {"Limit": 2, **query}
    shown_items: list[str] = []
    for page in range(10):
        answer = db.call(f"{label} {page}", "query", **kwargs)
        shown_items += [shown(i) for i in answer["Items"]]
        if "LastEvaluatedKey" not in answer:
            return shown_items
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    raise AssertionError("more pages than items")


def log_page(page: int, forward: bool = True) -> dict[str, Any]:
    return {
        "TableName": EVENTS,
        "IndexName": "GlobalOrder",
        "KeyConditionExpression": "log_page = :p",
        "ExpressionAttributeValues": {":p": n(page)},
        "ScanIndexForward": forward,
    }


def queue(name: str, forward: bool = True) -> dict[str, Any]:
    return {
        "TableName": LABELS,
        "IndexName": "Queue",
        "KeyConditionExpression": "#q = :q",
        "ExpressionAttributeNames": {"#q": "queue"},
        "ExpressionAttributeValues": {":q": s(name)},
        "ScanIndexForward": forward,
    }


def test_index_queries_follow_every_write_as_moto_does() -> None:
    """Both index shapes (a number hash and range key on events, string ones on labels), paged
    by two forward and backward, through puts of items with and without the index's keys, an
    update that moves an item to another index partition, one that takes an item out and one
    that brings it in, a delete, cancelled transactions (undone) and a committed one."""
    pages: dict[str, list[str]] = {}

    def both_ways(db: Db, label: str, query: Callable[..., dict[str, Any]], *args: Any) -> None:
        pages[label] = page_through(db, label, query(*args))
        pages[f"{label} backward"] = page_through(db, f"{label} backward", query(*args, False))

    def case(db: Db) -> None:
        c = db.client
        labels = [
            ("p", "t1", {"queue": s("urgent"), "queue_at": s("08:00")}),
            ("p", "t2", {"queue": s("urgent"), "queue_at": s("07:30")}),
            ("q", "t3", {"queue": s("urgent"), "queue_at": s("08:00")}),  # ties with t1: table key decides
            ("q", "t4", {"queue": s("later"), "queue_at": s("09:00")}),
            ("q", "t5", {"queue": s("urgent")}),  # no range key: in no partition of the index
        ]
        for pk, sk, more in labels:
            c.put_item(TableName=LABELS, Item={"pk": s(pk), "sk": s(sk), **more})
        both_ways(db, "urgent", queue, "urgent")
        both_ways(db, "page 1", log_page, 1)
        db.call(
            "t1 leaves",
            "update_item",
            TableName=LABELS,
            Key={"pk": s("p"), "sk": s("t1")},
            UpdateExpression="REMOVE #q",
            ExpressionAttributeNames={"#q": "queue"},
        )
        db.call(
            "t4 comes",
            "update_item",
            TableName=LABELS,
            Key={"pk": s("q"), "sk": s("t4")},
            UpdateExpression="SET #q = :q, queue_at = :at",
            ExpressionAttributeNames={"#q": "queue"},
            ExpressionAttributeValues={":q": s("urgent"), ":at": s("07:00")},
        )
        both_ways(db, "urgent after updates", queue, "urgent")
        both_ways(db, "later after updates", queue, "later")
        db.call(
            "b2 moves",
            "update_item",
            TableName=EVENTS,
            Key=key("b", 2),
            UpdateExpression="SET log_page = :p",
            ExpressionAttributeValues={":p": n(0)},
        )
        db.call("a3 goes", "delete_item", TableName=EVENTS, Key=key("a", 3))
        both_ways(db, "page 0 after", log_page, 0)
        both_ways(db, "page 1 after", log_page, 1)
        moved_then_refused = [
            {
                "Update": {
                    "TableName": EVENTS,
                    "Key": key("b", 3),
                    "UpdateExpression": "SET log_page = :p",
                    "ExpressionAttributeValues": {":p": n(2)},
                }
            },
            {"Put": {"TableName": EVENTS, "Item": event("c", 1, 9, data=s("c1"))}},  # log page 2
            {
                "Update": {
                    "TableName": LABELS,
                    "Key": {"pk": s("q"), "sk": s("t3")},
                    "UpdateExpression": "REMOVE #q",
                    "ExpressionAttributeNames": {"#q": "queue"},
                }
            },
            {
                "Put": {
                    "TableName": EVENTS,
                    "Item": event("a", 2, 10),
                    "ConditionExpression": "attribute_not_exists(version)",
                }
            },
        ]
        db.call("cancelled", "transact_write_items", TransactItems=moved_then_refused)
        db.call("committed", "transact_write_items", TransactItems=append("c", 1, 6, "cmd-3"))  # position 7
        both_ways(db, "page 1 at last", log_page, 1)
        both_ways(db, "page 2 at last", log_page, 2)
        both_ways(db, "urgent at last", queue, "urgent")

    seen = same(case)
    assert seen["cancelled"]["error"]["Error"]["Code"] == "TransactionCanceledException"
    # Worked out by hand: events at positions 1-6 (log page position // 4); labels by queue_at,
    # then by table key (p before q); t5 lacks queue_at and the seeded labels lack both.
    expected = {
        "urgent": ["t2", "t1", "t3"],
        "page 1": ["b2", "a3", "b3"],
        "urgent after updates": ["t4", "t2", "t3"],
        "later after updates": [],
        "page 0 after": ["a1", "b1", "a2", "b2"],
        "page 1 after": ["b3"],
        "page 1 at last": ["b3", "cmd-3"],
        "page 2 at last": [],
        "urgent at last": ["t4", "t2", "t3"],
    }
    for label, items in expected.items():
        assert pages[label] == items, label
        assert pages[f"{label} backward"] == items[::-1], label


def handed_to_moto(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many items each query hands moto's own query to look through."""
    handed: list[int] = []
    own = moto_dynamodb._MOTO_QUERY

    def counting(table: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(sum(1 for _ in table.all_items()))
        return own(table, *args, **kwargs)

    monkeypatch.setattr(moto_dynamodb, "_MOTO_QUERY", counting)
    return handed


@pytest.mark.parametrize("variant", ["patched", "disk"])
def test_an_index_query_reads_its_partition_not_the_table(variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With 1,000 and 10,000 more events on other log pages, a query of log page 1 (three
    events) hands moto three items and, on disk, reads three items from disk."""
    loaded: list[int] = []
    load = moto_disk._load

    def counting_load(blob: bytes) -> Item:
        loaded.append(1)
        return load(blob)

    monkeypatch.setattr(moto_disk, "_load", counting_load)
    handed = handed_to_moto(monkeypatch)
    read: list[tuple[int, int]] = []
    for filled in (1_000, 10_000):

        def case(db: Db, filled: int = filled) -> None:
            table = backend_table(EVENTS)
            shard, table.stream_shard = table.stream_shard, None
            for version in range(1, filled + 1):  # log pages 1000 and on: none is page 1
                table.put_item({**event("filled", version, 4000 + version), "log_page": n(1000 + version // 1000)})
            table.stream_shard = shard
            db.call("warm", "query", **log_page(1))  # in memory, the first index query makes the entries
            handed.clear(), loaded.clear()
            db.see("page 1", [shown(i) for i in db.call("page", "query", **log_page(1))["Items"]])
            read.append((handed[0], len(loaded)))

        assert dict(run(case, variant))["page 1"] == ["b2", "a3", "b3"]
    assert read == [(3, 3 if variant == "disk" else 0)] * 2


# --- single writes, reads and scans (what the disk store must answer as moto does) -----------


def key(stream: str, version: int | str) -> dict[str, Any]:
    return {"stream_id": s(stream), "version": {"N": str(version)}}


def test_single_writes_and_reads_answer_as_moto_does() -> None:
    """Gets, puts, updates and deletes, with and without conditions, through moto's own
    operations: on disk, an item updated twice keeps both updates, a number key is one key
    however it is written, and a failed condition changes nothing."""

    def case(db: Db) -> None:
        c = {"TableName": EVENTS}
        db.call("get a2", "get_item", Key=key("a", 2), **c)
        db.call("get missing", "get_item", Key=key("c", 1), **c)
        db.call(
            "get projected",
            "get_item",
            Key=key("b", 3),
            ProjectionExpression="#d",
            ExpressionAttributeNames={"#d": "data"},
            **c,
        )
        db.call("get command", "get_item", TableName=COMMANDS, Key={"command_id": s("cmd-1")})
        taken = {
            "ConditionExpression": "attribute_not_exists(version)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        db.call("put taken", "put_item", Item=event("a", 1, 9, data=s("again")), **taken, **c)
        db.call("put 2.0", "put_item", Item=event("a", "2.0", 9, data=s("a2 again")), ReturnValues="ALL_OLD", **c)  # type: ignore[arg-type]
        for label in ("add 1", "add 2"):
            db.call(
                label,
                "update_item",
                Key=key("b", 1),
                UpdateExpression="SET #d = :d ADD hits :one REMOVE log_page",
                ExpressionAttributeNames={"#d": "data"},
                ExpressionAttributeValues={":d": s(label), ":one": n(1)},
                ReturnValues="ALL_NEW",
                **c,
            )
        db.call(
            "update creates",
            "update_item",
            Key=key("c", 1),
            UpdateExpression="SET #d = :d",
            ExpressionAttributeNames={"#d": "data"},
            ExpressionAttributeValues={":d": s("c1")},
            ReturnValues="UPDATED_NEW",
            **c,
        )
        db.call(
            "update refused",
            "update_item",
            Key=key("b", 2),
            UpdateExpression="SET #d = :d",
            ConditionExpression="hits > :z",
            ExpressionAttributeNames={"#d": "data"},
            ExpressionAttributeValues={":d": s("no"), ":z": n(0)},
            **c,
        )
        db.call("delete refused", "delete_item", Key=key("b", 3), ConditionExpression="attribute_exists(hits)", **c)
        db.call("delete b3", "delete_item", Key=key("b", 3), ReturnValues="ALL_OLD", **c)
        db.call("delete missing", "delete_item", Key=key("b", 3), ReturnValues="ALL_OLD", **c)
        db.call(
            "delete command", "delete_item", TableName=COMMANDS, Key={"command_id": s("cmd-1")}, ReturnValues="ALL_OLD"
        )
        db.call("get b1", "get_item", Key=key("b", 1), **c)
        db.call("described", "describe_table", **c)["Table"].pop("CreationDateTime")
        db.contents("after")
        db.streams_seen("streams")

    seen = same(case)
    assert "Item" not in seen["get missing"] and seen["get projected"]["Item"] == {"data": s("b3")}
    assert seen["put taken"]["error"]["Item"]["data"] == s("a1")  # refused, with the item as it is
    assert seen["put 2.0"]["Attributes"]["data"] == s("a2")  # version 2.0 is version 2
    assert seen["get b1"]["Item"]["hits"] == n(2) and "log_page" not in seen["get b1"]["Item"]
    assert seen["update creates"]["Attributes"] == {**key("c", 1), "data": s("c1")}  # moto adds the key
    assert seen["update refused"]["error"]["Error"]["Code"] == "ConditionalCheckFailedException"
    assert seen["delete refused"]["error"]["Error"]["Code"] == "ConditionalCheckFailedException"
    assert seen["delete b3"]["Attributes"]["data"] == s("b3") and "Attributes" not in seen["delete missing"]
    assert seen["described"]["Table"]["ItemCount"] == 7  # $log, a1-a3, b1, b2, c1
    assert [shown(i) for i in seen["after"][EVENTS] if "data" in i] == ["a1", "a2 again", "a3", "add 2", "b2", "c1"]
    # seven puts of the seed, then: put 2.0, two updates, the created item (moto: two INSERTs), b3 deleted
    changes = ["MODIFY", "MODIFY", "MODIFY", "INSERT", "INSERT", "REMOVE"]
    assert [r["eventName"] for r in seen["streams"][EVENTS]] == ["INSERT"] * 7 + changes


@pytest.mark.parametrize("table", [EVENTS, COMMANDS, LABELS])
def test_scans_page_as_moto_does(table: str) -> None:
    """Pages of two in moto's order (hash key, then range key), each resumed from the
    LastEvaluatedKey of the one before; and a filtered scan."""

    def case(db: Db) -> None:
        for command in ("cmd-3", "cmd-0", "cmd-2"):
            db.client.put_item(TableName=COMMANDS, Item={"command_id": s(command), "answer": s(command)})
        kwargs: dict[str, Any] = {"TableName": table, "Limit": 2}
        for page in range(6):
            answer = db.call(f"page {page}", "scan", **kwargs)
            if "LastEvaluatedKey" not in answer:
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        db.call(
            "filtered",
            "scan",
            TableName=table,
            FilterExpression="attribute_exists(#a)",
            ExpressionAttributeNames={"#a": "answer"},
        )

    seen = same(case)
    pages = [item for label, answer in seen.items() if label.startswith("page") for item in answer["Items"]]
    expected = {
        EVENTS: ["$log", "a1", "a2", "a3", "b1", "b2", "b3"],
        COMMANDS: ["cmd-0", "first", "cmd-2", "cmd-3"],  # cmd-1 answers "first"
        LABELS: ["apple", "apricot", "banana", "cherry", "apple"],
    }[table]
    assert [i["stream_id"]["S"] if "last_position" in i else shown(i) for i in pages] == expected
    assert len(seen["filtered"]["Items"]) == (4 if table == COMMANDS else 0)


# --- the patch keeps the table --------------------------------------------------------------


@pytest.fixture
def patched_db():
    with mock_aws(), moto_dynamodb.patched():
        db = Db()
        create_tables(db.client)
        seed(db)
        yield db


def backend_table(name: str) -> Any:
    return dynamodb_backends[ACCOUNT_ID][REGION].tables[name]


def test_a_cancelled_transaction_keeps_the_table_and_its_stream(patched_db: Db) -> None:
    """moto's own puts back a copy of the table, stream shard included: a reader's shard
    iterator, taken before, then never sees another record."""
    table, shard = backend_table(EVENTS), backend_table(EVENTS).stream_shard
    arn = patched_db.client.describe_table(TableName=EVENTS)["Table"]["LatestStreamArn"]
    shard_id = patched_db.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = patched_db.streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="LATEST")

    patched_db.call("cancelled", "transact_write_items", TransactItems=append("a", 3, 6, "cmd-2"))
    patched_db.call("committed", "transact_write_items", TransactItems=append("a", 4, 6, "cmd-2"))

    assert backend_table(EVENTS) is table and table.stream_shard is shard
    records = patched_db.streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [r["dynamodb"]["Keys"]["version"] for r in records] == [n(0), n(4)]


def test_the_patch_refuses_another_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_dynamodb.moto, "__version__", "5.3.0")
    methods = (Table.query, DynamoDBBackend.transact_write_items)
    with pytest.raises(RuntimeError, match=r"patches moto 5\.2\.5, found 5\.3\.0"):
        moto_dynamodb.install()
    assert (Table.query, DynamoDBBackend.transact_write_items) == methods


def fill(table: Any, count: int) -> None:
    """`count` events in one stream, straight into moto's table (no HTTP, no stream records)."""
    shard, table.stream_shard = table.stream_shard, None
    for version in range(1, count + 1):
        table.put_item(event("filled", version, 100 + version, data=s("x" * 200)))
    table.stream_shard = shard


def transaction_memory(db: Db, filled: int) -> int:
    """Peak bytes allocated by one cancelled and one committed append, with `filled` events."""
    fill(backend_table(EVENTS), filled)
    tracemalloc.start()
    try:
        db.call("cancelled", "transact_write_items", TransactItems=append("a", 3, 6, f"c-{filled}"))
        db.call("committed", "transact_write_items", TransactItems=append("a", 4, 6, f"c-{filled}"))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_transactions_memory_does_not_grow_with_the_table() -> None:
    """10,000 events of 200 bytes are over 2 MB; moto's own copy of them would be many times
    that. The patched transaction allocates about as much at 100 as at 10,000."""
    peaks = []
    for filled in (100, 10_000):
        with mock_aws(), moto_dynamodb.patched():
            db = Db()
            create_tables(db.client)
            seed(db)
            peaks.append(transaction_memory(db, filled))
    assert peaks[1] < peaks[0] * 1.5 + 200_000, peaks


def live_items() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Item))


def test_items_a_query_answers_with_are_not_kept(patched_db: Db) -> None:
    """moto lists every object it makes (for its dashboard) and so kept every item copy that
    a query answered with; the patch lets them go."""
    before = live_items()
    for _ in range(50):
        patched_db.call("stream a", "query", **QUERIES["forward"])
    patched_db.call("committed", "transact_write_items", TransactItems=append("a", 4, 6, "cmd-2"))
    assert live_items() == before + 2  # the event and the command: the counter item is updated in place
