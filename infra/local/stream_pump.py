"""Imitates Lambda's DynamoDB event source mapping: polls a table's stream and feeds a handler.

What it reproduces, because the projector relies on it: batches of BatchSize in stream order,
FilterCriteria (filtered-out records are dropped), ReportBatchItemFailures (redelivery from the
lowest failed SequenceNumber, that record and every later one of the batch), retries of a
batch whose invocation raised (split in halves with BisectBatchOnFunctionError), and after
MaximumRetryAttempts a failure record to the OnFailure destination, then moving on.
What it leaves out: MaximumBatchingWindowInSeconds (records go out as soon as they are seen),
ParallelizationFactor, TumblingWindow, record age limits, and Lambda's exponential backoff
(a short fixed delay instead, so local retries stay quick).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto.events.models import EventPattern

from infra.local import moto_streams
from infra.local.aws import REGION
from infra.local.functions import LoadedFunction
from infra.local.resources import Resources
from infra.local.stream_records import filter_patterns, lambda_record, passes_filters
from infra.local.template import Event

log = logging.getLogger("infra.local.stream")


@dataclass
class PumpStats:
    invocations: int = 0  # handler calls, retries included
    records_delivered: int = 0  # records handed over, redeliveries included
    records_filtered: int = 0  # dropped by FilterCriteria
    retries: int = 0  # batches delivered again
    function_errors: int = 0  # invocations that raised
    partial_failures: int = 0  # invocations that answered batchItemFailures
    sent_to_destination: int = 0  # records given up on, to the OnFailure destination


@dataclass
class StreamSource:
    """One `Type: DynamoDB` event of a function, resolved."""

    function: LoadedFunction
    event_name: str
    stream_arn: str
    batch_size: int = 100
    starting_position: str = "TRIM_HORIZON"
    max_retries: int = -1  # Lambda's default: retry until the record expires
    bisect: bool = False
    report_item_failures: bool = False
    filters: list[EventPattern] = field(default_factory=list)
    on_failure: str | None = None  # destination ARN

    @classmethod
    def from_event(cls, function: LoadedFunction, event: Event, resources: Resources) -> StreamSource:
        props = resources.resolve(event.properties)
        return cls(
            function=function,
            event_name=event.name,
            stream_arn=props["Stream"],
            batch_size=int(props.get("BatchSize", 100)),
            starting_position=props.get("StartingPosition", "TRIM_HORIZON"),
            max_retries=int(props.get("MaximumRetryAttempts", -1)),
            bisect=bool(props.get("BisectBatchOnFunctionError", False)),
            report_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            filters=filter_patterns(props.get("FilterCriteria")),
            on_failure=props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
        )

    def wants(self, record: dict[str, Any]) -> bool:
        return passes_filters(record, self.filters)


class StreamPump:
    def __init__(self, source: StreamSource, poll_interval: float = 0.2, retry_delay: float = 0.02) -> None:
        self.source = source
        self.poll_interval = poll_interval
        self.retry_delay = retry_delay
        self.stats = PumpStats()
        self._streams = boto3.client("dynamodbstreams", region_name=REGION)
        self._shard_id = ""
        self._last_read = ""  # sequence number of the last record read from the shard: the read position
        self._next_iterator = ""  # NextShardIterator of the last GetRecords
        self._pending: list[dict[str, Any]] = []  # fetched and wanted, not yet settled, stream order
        self._plan: list[int] = []  # sizes of the next batches after a failure; empty = BatchSize
        self._attempts = 0  # failed invocations for the record at the head of _pending
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._cond = threading.Condition()
        self._cycles_started = 0
        self._last_idle_cycle = 0
        self._thread = threading.Thread(target=self._run, name=f"pump-{source.event_name}", daemon=True)

    @property
    def name(self) -> str:
        return f"{self.source.function.spec.logical_id}.{self.source.event_name}"

    def start(self) -> None:
        moto_streams.register_reader(self.source.stream_arn, self.name)  # the stream keeps records until read
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        moto_streams.unregister_reader(self.source.stream_arn, self.name)
        log.info("%s stopped: %s", self.name, asdict(self.stats))

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until a poll that began after this call found nothing new and nothing pending."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._cycles_started
            self._wake.set()  # skip the idle sleep
            while self._last_idle_cycle <= target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    # --- the loop -------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            with self._cond:
                self._cycles_started += 1
                cycle = self._cycles_started
            try:
                busy = self._cycle()
            except Exception:  # moto gone at shutdown, or a bug here: keep the pump alive, say so
                if self._stop.is_set():
                    return
                log.exception("%s: polling the stream failed", self.name)
                busy = False
            else:
                if not busy:
                    with self._cond:
                        self._last_idle_cycle = cycle
                        self._cond.notify_all()
            if not busy:
                self._wake.wait(self.poll_interval)

    def _cycle(self) -> bool:
        if len(self._pending) < self.source.batch_size:
            self._fetch()
        if not self._pending:
            return False
        self._deliver_head()
        return True

    def _fetch(self) -> None:
        try:
            page = self._streams.get_records(ShardIterator=self._shard_iterator(), Limit=1000)
        except ClientError as err:
            if err.response["Error"]["Code"] != "ExpiredIteratorException":
                raise
            self._next_iterator = ""  # unused for 15 minutes: start again from the read position
            page = self._streams.get_records(ShardIterator=self._shard_iterator(), Limit=1000)
        self._next_iterator = page["NextShardIterator"]
        for raw in page["Records"]:
            self._last_read = raw["dynamodb"]["SequenceNumber"]
            record = lambda_record(raw, self.source.stream_arn)
            if self.source.wants(record):
                self._pending.append(record)
            else:
                self.stats.records_filtered += 1
        if self._last_read:  # records held in _pending are never read again: the stream may let them go
            moto_streams.checkpoint(self.source.stream_arn, self.name, self._last_read)

    def _shard_iterator(self) -> str:
        """The last answer's NextShardIterator, as Lambda follows it; at first (or after it
        expired) a fresh one from the read position, the last sequence number read.

        GetRecords retires the iterator it used (the local stack's moto, like AWS, keeps an
        iterator 15 minutes at most): asking for a fresh one each poll would leave one unused
        iterator per poll behind.
        """
        if self._next_iterator:
            return self._next_iterator
        if not self._shard_id:
            shards = self._streams.describe_stream(StreamArn=self.source.stream_arn)["StreamDescription"]["Shards"]
            # moto keeps one shard per table; real streams split, which the local stack need not imitate.
            self._shard_id = shards[0]["ShardId"]
        where: dict[str, str] = {"ShardIteratorType": self.source.starting_position}
        if self._last_read:
            where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self._last_read}
        return self._streams.get_shard_iterator(StreamArn=self.source.stream_arn, ShardId=self._shard_id, **where)[
            "ShardIterator"
        ]

    def _deliver_head(self) -> None:
        batch = self._pending[: self._plan[0] if self._plan else self.source.batch_size]
        self.stats.invocations += 1
        self.stats.records_delivered += len(batch)
        log.debug(
            "%s: %d record(s) to %s%s",
            self.name,
            len(batch),
            self.source.function.spec.logical_id,
            f" (attempt {self._attempts + 1})" if self._attempts else "",
        )
        try:
            result = self.source.function.invoke({"Records": batch})
        except Exception as err:
            self.stats.function_errors += 1
            log.warning("%s: handler raised on a batch of %d: %r", self.name, len(batch), err)
            self._failed(batch, raised=True)
            return
        first_failed = self._first_failed(batch, result)
        if first_failed is None:
            self._settle(len(batch))
            return
        self.stats.partial_failures += 1
        log.warning(
            "%s: %d reported failed; redelivering %d of %d records, from sequence number %s",
            self.name,
            len(result["batchItemFailures"]),
            len(batch) - first_failed,
            len(batch),
            batch[first_failed]["dynamodb"]["SequenceNumber"],
        )
        self._settle(first_failed)  # the records before the lowest failure are done
        self._failed(batch[first_failed:], raised=False)

    def _first_failed(self, batch: list[dict[str, Any]], result: Any) -> int | None:
        """Index of the lowest failed record, from the handler's batchItemFailures."""
        if not self.source.report_item_failures or not isinstance(result, dict):
            return None
        failures = result.get("batchItemFailures") or []
        if not failures:
            return None
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if any(i not in sequence for i in ids):
            return 0  # Lambda treats an unknown or empty identifier as the whole batch failing
        return min(sequence.index(i) for i in ids)

    def _settle(self, count: int) -> None:
        del self._pending[:count]
        if count:
            self._attempts = 0
        if self._plan:
            self._plan[0] -= count
            if self._plan[0] <= 0:
                self._plan.pop(0)

    def _failed(self, records: list[dict[str, Any]], raised: bool) -> None:
        """`records` lead _pending: retry them, split them, or give them up."""
        self._attempts += 1
        if 0 <= self.source.max_retries < self._attempts:
            self._give_up(records, raised)
            self._settle(len(records))
            return
        self.stats.retries += 1
        if raised and self.source.bisect and len(records) > 1:
            half = len(records) // 2
            sizes = [half, len(records) - half]
        else:
            sizes = [len(records)]  # the same records again, no newer ones mixed in
        self._plan[:1] = sizes
        time.sleep(self.retry_delay)

    def _give_up(self, records: list[dict[str, Any]], raised: bool) -> None:
        self.stats.sent_to_destination += len(records)
        log.error(
            "%s: %d records failed %d times; sending them to %s",
            self.name,
            len(records),
            self._attempts,
            self.source.on_failure or "nowhere (no OnFailure destination)",
        )
        if not self.source.on_failure:
            return
        first, last = records[0], records[-1]
        message: dict[str, Any] = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.source.function.arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self._attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                **({"functionError": "Unhandled"} if raised else {}),
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": self._shard_id,
                "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first),
                "approximateArrivalOfLastRecord": _iso(last),
                "batchSize": len(records),
                "streamArn": self.source.stream_arn,
            },
        }
        send_to_destination(self.source.on_failure, message)

    def describe(self) -> dict[str, Any]:
        return {
            "function": self.source.function.spec.logical_id,
            "event": self.source.event_name,
            "stream": self.source.stream_arn,
            "batch_size": self.source.batch_size,
            "on_failure": self.source.on_failure,
            "pending": len(self._pending),
            "stats": asdict(self.stats),
        }


def _iso(record: dict[str, Any]) -> str | None:
    epoch = record["dynamodb"].get("ApproximateCreationDateTime")
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if epoch else None


def send_to_destination(arn: str, message: dict[str, Any]) -> None:
    service = arn.split(":")[2]
    if service != "sqs":
        log.error("on-failure destination %s: only SQS exists locally; message dropped: %s", arn, message)
        return
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
