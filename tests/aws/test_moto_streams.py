"""The local stack's stream patch (infra/local/moto_streams.py): a stream keeps what its readers
have not read and the retention holds, with moto's sequence numbers; shard iterators do not pile
up; stream records and iterators are not kept in moto's dashboard lists."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.utils import utcnow
from moto.dynamodb.models.table import StreamRecord
from moto.dynamodbstreams.models import ShardIterator, dynamodbstreams_backends

from infra.local import moto_dynamodb, moto_streams
from infra.local.aws import ACCOUNT_ID, REGION

TABLE = "scratch"


class Clock:
    """The retention's clock: moto's time, moved on by hand."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> Any:
        return utcnow() + self.ahead


class Stream:
    def __init__(self) -> None:
        self.db = boto3.client("dynamodb", region_name=REGION)
        self.api = boto3.client("dynamodbstreams", region_name=REGION)
        self.db.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
            BillingMode="PAY_PER_REQUEST",
        )
        self.arn = self.db.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        self.shard_id = self.api.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def put(self, *keys: str) -> None:
        for k in keys:
            self.db.put_item(TableName=TABLE, Item={"k": {"S": k}})

    def iterator(self, kind: str, sequence: str | None = None) -> str:
        where = {"SequenceNumber": sequence} if sequence else {}
        return self.api.get_shard_iterator(StreamArn=self.arn, ShardId=self.shard_id, ShardIteratorType=kind, **where)[
            "ShardIterator"
        ]

    def read(self, iterator: str, limit: int = 1000) -> tuple[list[tuple[str, str]], str]:
        """(key, sequence number) of each record, and the next iterator."""
        page = self.api.get_records(ShardIterator=iterator, Limit=limit)
        records = [(r["dynamodb"]["Keys"]["k"]["S"], r["dynamodb"]["SequenceNumber"]) for r in page["Records"]]
        return records, page["NextShardIterator"]


@pytest.fixture
def stream() -> Iterator[Stream]:
    with mock_aws(), moto_dynamodb.patched(), moto_streams.patched():
        moto_streams.configure(None)  # each test sets its own retention
        yield Stream()


def iterators() -> dict[str, Any]:
    return dynamodbstreams_backends[ACCOUNT_ID][REGION].shard_iterators


def error(err: pytest.ExceptionInfo[ClientError]) -> str:
    return err.value.response["Error"]["Code"]


def test_following_next_shard_iterator_keeps_one_iterator(stream: Stream) -> None:
    """moto keeps every iterator it hands out; GetRecords now retires the one it used."""
    stream.put("a")
    iterator = stream.iterator("TRIM_HORIZON")
    for _ in range(50):
        _, iterator = stream.read(iterator)
    assert len(iterators()) == 1
    stream.read(iterator)  # the last NextShardIterator works, once
    with pytest.raises(ClientError) as used:
        stream.read(iterator)
    assert error(used) == "ExpiredIteratorException"


def test_unused_iterators_expire_after_15_minutes(stream: Stream, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(moto_streams, "monotonic", lambda: now[0])
    stream.put("a")
    old = [stream.iterator("TRIM_HORIZON") for _ in range(10)]
    now[0] += 15 * 60 - 1
    young = stream.iterator("TRIM_HORIZON")
    assert len(iterators()) == 11  # none has expired yet
    now[0] += 2
    assert [k for k, _ in stream.read(young)[0]] == ["a"]
    assert len(iterators()) == 1  # the ten old ones expired, young was used: only its next is left
    with pytest.raises(ClientError) as expired:
        stream.read(old[0])
    assert error(expired) == "ExpiredIteratorException"


def test_the_stream_keeps_what_is_unread_or_within_the_retention(stream: Stream) -> None:
    clock = Clock()
    moto_streams.configure(moto_streams.Retention(60, clock))
    moto_streams.register_reader(stream.arn, "reader")
    moto_streams.register_reader(stream.arn, "slow reader")
    stream.put(*"abcdefghij")
    before, _ = stream.read(stream.iterator("TRIM_HORIZON"))
    assert [k for k, _ in before] == list("abcdefghij")
    first = int(before[0][1])
    assert [int(seq) for _, seq in before] == list(range(first, first + 10))  # moto's numbering

    moto_streams.checkpoint(stream.arn, "reader", before[5][1])  # read a..f
    clock.ahead = timedelta(seconds=61)
    stream.put("k")
    assert len(moto_streams.shard_of(stream.arn).items) == 11  # the slow reader has read nothing yet

    moto_streams.checkpoint(stream.arn, "slow reader", before[7][1])  # read a..h
    stream.put("l")  # a write trims: a..f, read by both and older than a minute
    shard = moto_streams.shard_of(stream.arn)
    assert shard.starting_sequence_number == first + 6
    after, _ = stream.read(stream.iterator("TRIM_HORIZON"))
    assert after == [*before[6:], ("k", str(first + 10)), ("l", str(first + 11))]
    assert stream.read(stream.iterator("AFTER_SEQUENCE_NUMBER", before[7][1]))[0] == after[2:]

    with pytest.raises(ClientError) as trimmed:
        stream.read(stream.iterator("AT_SEQUENCE_NUMBER", before[2][1]))
    assert error(trimmed) == "TrimmedDataAccessException"

    moto_streams.checkpoint(stream.arn, "reader", after[-1][1])
    moto_streams.checkpoint(stream.arn, "slow reader", after[-1][1])
    clock.ahead = timedelta(seconds=30)
    stream.put("m")  # g..l read by both, but younger than a minute
    assert [k for k, _ in stream.read(stream.iterator("TRIM_HORIZON"))[0]] == list("ghijklm")
    clock.ahead = timedelta(seconds=61)
    stream.put("n")
    assert [k for k, _ in stream.read(stream.iterator("TRIM_HORIZON"))[0]] == ["m", "n"]


def test_an_unregistered_or_unread_stream_keeps_every_record(stream: Stream) -> None:
    clock = Clock()
    moto_streams.configure(moto_streams.Retention(0, clock))
    clock.ahead = timedelta(days=2)
    stream.put("a", "b")
    moto_streams.register_reader(stream.arn, "reader")
    stream.put("c")
    assert len(moto_streams.shard_of(stream.arn).items) == 3


def test_a_cancelled_transaction_after_a_trim_takes_back_only_its_own_records(stream: Stream) -> None:
    """The transaction's first write trims the stream; its rollback must still cut at its own start."""
    clock = Clock()
    moto_streams.configure(moto_streams.Retention(60, clock))
    moto_streams.register_reader(stream.arn, "reader")
    stream.put("a", "b", "c")
    read, _ = stream.read(stream.iterator("TRIM_HORIZON"))
    moto_streams.checkpoint(stream.arn, "reader", read[-1][1])
    clock.ahead = timedelta(seconds=61)
    with pytest.raises(ClientError) as cancelled:
        stream.db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"k": {"S": "d"}}}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"k": {"S": "a"}},
                        "ConditionExpression": "attribute_not_exists(k)",
                    }
                },
            ]
        )
    assert error(cancelled) == "TransactionCanceledException"
    shard = moto_streams.shard_of(stream.arn)
    assert (shard.items, shard.starting_sequence_number) == ([], int(read[0][1]) + 3)
    stream.put("e")
    assert stream.read(stream.iterator("TRIM_HORIZON"))[0] == [("e", str(int(read[0][1]) + 3))]


def test_stream_records_and_iterators_are_not_kept_for_motos_dashboard(stream: Stream) -> None:
    records, iterators_made = len(StreamRecord.instances_tracked), len(ShardIterator.instances_tracked)
    stream.put("a", "b")
    stream.read(stream.iterator("TRIM_HORIZON"))
    assert (len(StreamRecord.instances_tracked), len(ShardIterator.instances_tracked)) == (records, iterators_made)
