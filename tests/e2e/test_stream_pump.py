"""The stream pump behaves like Lambda's DynamoDB event source mapping: filters, partial failures, retries, DLQ."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import boto3
import pytest
from moto.dynamodbstreams.models import dynamodbstreams_backends
from moto.events.models import EventPattern

from infra.local.aws import ACCOUNT_ID, REGION
from infra.local.stream_pump import StreamPump, StreamSource

pytestmark = pytest.mark.e2e


class FakeFunction:
    """Stands in for a loaded handler: records each batch and answers with `answer(keys)`."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.batches: list[list[str]] = []
        self.records: list[dict] = []
        self.arn = "arn:aws:lambda:eu-central-1:123456789012:function:fake"
        self.spec = SimpleNamespace(logical_id="Fake")

    def invoke(self, event):
        keys = [r["dynamodb"]["Keys"]["k"]["S"] for r in event["Records"]]
        self.batches.append(keys)
        self.records += event["Records"]
        return self.answer(keys, event["Records"])


@pytest.fixture
def table(stack):
    """A scratch table with a KEYS_ONLY stream in the stack's moto."""
    name = f"pump-test-{uuid.uuid4().hex[:8]}"
    db = boto3.client("dynamodb")
    desc = db.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    return SimpleNamespace(
        name=name,
        stream=desc["TableDescription"]["LatestStreamArn"],
        put=lambda k: db.put_item(TableName=name, Item={"k": {"S": k}, "n": {"N": "1"}}),
        update=lambda k: db.put_item(TableName=name, Item={"k": {"S": k}, "n": {"N": "2"}}),
    )


def run_pump(fn, table, **options) -> StreamPump:
    source = StreamSource(
        function=fn,
        event_name="Test",
        stream_arn=table.stream,
        filters=[EventPattern.load('{"eventName": ["INSERT"]}')],
        **options,
    )
    pump = StreamPump(source, poll_interval=0.01, retry_delay=0.0)
    pump.start()
    try:
        assert pump.drain(timeout=10)
    finally:
        pump.stop()
    return pump


def test_partial_failure_redelivers_from_the_lowest_failed_record(table):
    for k in ("k1", "k2", "k3", "k4", "k5"):
        table.put(k)
    table.update("k1")  # a MODIFY: the filter drops it

    def answer(keys, records):
        if len(fn.batches) == 1:  # first delivery: k3 and k5 fail
            return {
                "batchItemFailures": [
                    {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                    for r in records
                    if r["dynamodb"]["Keys"]["k"]["S"] in ("k5", "k3")
                ]
            }
        return {"batchItemFailures": []}

    fn = FakeFunction(answer)
    pump = run_pump(fn, table, batch_size=10, report_item_failures=True, max_retries=3)

    assert fn.batches == [["k1", "k2", "k3", "k4", "k5"], ["k3", "k4", "k5"]]
    assert (pump.stats.partial_failures, pump.stats.retries, pump.stats.records_filtered) == (1, 1, 1)
    first = fn.records[0]
    assert first["eventSourceARN"] == table.stream
    assert first["awsRegion"] == "eu-central-1"
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], int)
    assert first["dynamodb"]["StreamViewType"] == "KEYS_ONLY"


def test_errors_bisect_the_batch_then_the_poison_record_goes_to_the_failure_queue(table):
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName=f"pump-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for k in ("k1", "k2", "k3", "k4"):
        table.put(k)

    def answer(keys, records):
        if "k2" in keys:
            raise RuntimeError("poison")
        return None

    fn = FakeFunction(answer)
    pump = run_pump(fn, table, batch_size=4, bisect=True, max_retries=3, on_failure=queue_arn)

    assert fn.batches == [["k1", "k2", "k3", "k4"], ["k1", "k2"], ["k1"], ["k2"], ["k2"], ["k2"], ["k2"], ["k3", "k4"]]
    assert (pump.stats.function_errors, pump.stats.sent_to_destination) == (6, 1)
    message = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    k2 = next(r for r in fn.records if r["dynamodb"]["Keys"]["k"]["S"] == "k2")
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == k2["dynamodb"]["SequenceNumber"]
    assert message["DDBStreamBatchInfo"]["batchSize"] == 1
    assert message["DDBStreamBatchInfo"]["streamArn"] == table.stream


def test_the_projector_recovers_from_a_failed_record(api, stack, caller, call_id):
    """The real projector, made to fail once for the next case stream: the pump redelivers, the state is right."""
    module = stack.functions["ProjectorFunction"].module
    pump = stack.pump("ProjectorFunction")
    real_project = module.projector.project
    failed: list[str] = []

    def flaky(stream_id: str, version: int) -> str:
        if stream_id.startswith("case-") and not failed:
            failed.append(stream_id)
            raise RuntimeError("injected failure")
        return real_project(stream_id, version)

    before = (pump.stats.retries, pump.stats.partial_failures + pump.stats.function_errors)
    module.projector.project = flaky
    try:
        status, opened = api.post(
            "/calls/events",
            {
                "type": "started",
                "call_id": call_id,
                "line": "hotline-2",
                "caller_number": caller,
                "at": "2026-11-04T12:00:00Z",
            },
        )
        assert status == 201
        stack.drain()
    finally:
        del module.projector.project  # the instance attribute goes; the class's method is back

    assert failed == [f"case-{opened['case_id']}"]
    assert pump.stats.retries > before[0]
    assert pump.stats.partial_failures + pump.stats.function_errors > before[1]
    status, case = api.get(f"/cases/{opened['case_id']}")
    assert (status, case["version"], case["calls"][0]["call_id"]) == (200, 2, call_id)


def test_the_pump_keeps_reading_after_a_cancelled_transaction(table):
    """moto swaps the table for a copy when a transaction is cancelled (as every duplicate command is)."""
    fn = FakeFunction(lambda keys, records: None)
    pump = StreamPump(StreamSource(function=fn, event_name="Test", stream_arn=table.stream), poll_interval=0.01)
    pump.start()
    try:
        table.put("k1")
        assert pump.drain(timeout=10)
        db = boto3.client("dynamodb")
        with pytest.raises(db.exceptions.TransactionCanceledException):
            db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table.name,
                            "Item": {"k": {"S": "k1"}},
                            "ConditionExpression": "attribute_not_exists(k)",
                        }
                    }
                ]
            )
        table.put("k2")
        assert pump.drain(timeout=10)
    finally:
        pump.stop()
    assert fn.batches == [["k1"], ["k2"]]


def shard_iterators_of(table_name: str) -> list:
    iterators = dynamodbstreams_backends[ACCOUNT_ID][REGION].shard_iterators
    return [i for i in list(iterators.values()) if i.stream_shard.table.name == table_name]


def test_the_pump_leaves_one_shard_iterator_however_often_it_polls(table):
    """It follows NextShardIterator, and GetRecords retires the iterator it used; a fresh
    iterator per poll used to stay in moto for good, two per poll."""
    fn = FakeFunction(lambda keys, records: None)
    pump = StreamPump(StreamSource(function=fn, event_name="Test", stream_arn=table.stream), poll_interval=0.001)
    pump.start()
    try:
        for k in range(20):
            table.put(f"k{k}")
            assert pump.drain(timeout=10)
        polls = pump._cycles_started
    finally:
        pump.stop()
    assert len(fn.records) == 20
    assert polls > 20
    assert len(shard_iterators_of(table.name)) == 1


def test_the_pump_starts_again_from_its_position_when_its_iterator_expired(table):
    fn = FakeFunction(lambda keys, records: None)
    pump = StreamPump(StreamSource(function=fn, event_name="Test", stream_arn=table.stream), poll_interval=0.01)
    pump.start()
    try:
        table.put("k1")
        assert pump.drain(timeout=10)
        iterators = dynamodbstreams_backends[ACCOUNT_ID][REGION].shard_iterators
        for iterator in shard_iterators_of(table.name):  # as 15 minutes without a poll would
            iterators.pop(iterator.arn, None)
        table.put("k2")
        assert pump.drain(timeout=10)
    finally:
        pump.stop()
    assert fn.batches == [["k1"], ["k2"]]
    assert pump.stats.function_errors == 0
