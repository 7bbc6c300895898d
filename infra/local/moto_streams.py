"""moto's DynamoDB Streams with a bounded memory: records are trimmed, shard iterators expire.

moto 5.2.5 keeps every stream record of a table for good (real streams keep them 24 hours) and
every shard iterator it ever handed out (each GetRecords registers a new one; real iterators
expire after 15 minutes), and lists each of them in its class-wide dashboard list as well. A
local stack under load then grows by every record and every poll. docs/local-stack.md has the
figures.

`install()` changes, for the local stack:
- `StreamShard.add`: moto's, then trims the records that every registered reader (the stack's
  stream pumps) has read and that are older than the retention set with `configure()`.
  `starting_sequence_number` moves with the trim, so moto's sequence numbers and `get()` stay
  right; reading before the trim horizon answers `TrimmedDataAccessException`, as AWS does.
  Unconfigured (the default, and in tests of the moto patch) nothing is trimmed.
- `GetRecords` retires the iterator it used (the answer's NextShardIterator replaces it), and
  iterators older than 15 minutes expire (`ExpiredIteratorException`, as AWS answers).
- Stream records and shard iterators are not listed in moto's class-wide `instances_tracked`.

Adding, trimming, reading and handing out iterators take the moto patch's transaction lock,
which a transaction holds until it has committed or truncated the stream back to where it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.utils import utcnow
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import StreamRecord, StreamShard
from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

from infra.local.moto_dynamodb import TRANSACTIONS

ITERATOR_LIFETIME = 15 * 60  # seconds, as AWS
_MOTO_ADD = StreamShard.add
_MOTO_GET = StreamShard.get
_MOTO_ITERATOR_INIT = ShardIterator.__init__
_MOTO_GET_SHARD_ITERATOR = DynamoDBStreamsBackend.get_shard_iterator
_MOTO_GET_RECORDS = DynamoDBStreamsBackend.get_records
monotonic = time.monotonic  # the iterators' clock; tests move it


class TrimmedDataAccessException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            "TrimmedDataAccessException", "The operation attempted to read past the oldest stream record in a shard."
        )


class ExpiredIteratorException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("ExpiredIteratorException", "The shard iterator has expired or was used already.")


class Retention:
    """How long records stay once read, and who has to read them: per shard, each reader's last
    sequence number read (None until it has read one)."""

    def __init__(self, seconds: float, clock: Callable[[], datetime] = utcnow) -> None:
        self.seconds = seconds
        self.clock = clock  # naive UTC, as moto stamps ApproximateCreationDateTime
        self.readers: dict[StreamShard, dict[str, int | None]] = {}


_retention: Retention | None = None


def configure(retention: Retention | None) -> None:
    """Trim streams after `retention` (None: keep every record, moto's own behaviour)."""
    global _retention
    _retention = retention


def shard_of(stream_arn: str) -> StreamShard:
    """The shard of a stream, in this process's moto (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL)."""
    _, _, _, region, account, resource = stream_arn.split(":", 5)
    shard = dynamodb_backends[account][region].get_table(resource.split("/")[1]).stream_shard
    if shard is None:
        raise ValueError(f"{stream_arn}: the table has no stream")
    return shard


def register_reader(stream_arn: str, reader: str) -> None:
    """Records of the stream stay until `reader` has read them (see `checkpoint`). Streams
    nobody registered for keep every record."""
    if _retention is not None:
        with TRANSACTIONS:
            _retention.readers.setdefault(shard_of(stream_arn), {})[reader] = None


def checkpoint(stream_arn: str, reader: str, sequence_number: str) -> None:
    """`reader` has read the stream through `sequence_number`: it will not ask for those again."""
    if _retention is not None:
        with TRANSACTIONS:
            readers = _retention.readers.get(shard_of(stream_arn), {})
            if reader in readers:
                readers[reader] = int(sequence_number)


def unregister_reader(stream_arn: str, reader: str) -> None:
    if _retention is not None:
        with TRANSACTIONS:
            for shard, readers in list(_retention.readers.items()):
                if readers.pop(reader, False) is not False and not readers:
                    del _retention.readers[shard]


def trim(shard: StreamShard) -> int:
    """Drop the records every reader has read and that are older than the retention; how many."""
    if _retention is None:
        return 0
    with TRANSACTIONS:
        read = list(_retention.readers.get(shard, {}).values())
        if not read or any(seq is None for seq in read):
            return 0
        horizon = min(seq for seq in read if seq is not None)
        cutoff = _retention.clock() - timedelta(seconds=_retention.seconds)
        count = 0
        for record in shard.items:
            stream = record.record["dynamodb"]
            if int(stream["SequenceNumber"]) > horizon or stream["ApproximateCreationDateTime"] > cutoff:
                break
            count += 1
        if count:
            del shard.items[:count]  # the same list: a transaction's journal holds it
            shard.starting_sequence_number += count
        return count


def add(self: StreamShard, old: Item | None, new: Item | None) -> None:
    with TRANSACTIONS:
        _MOTO_ADD(self, old, new)
        trim(self)


def get(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
    with TRANSACTIONS:  # a trim moves the records and the starting sequence number together
        if start < self.starting_sequence_number:  # moto asserts; AWS answers this
            raise TrimmedDataAccessException()
        return _MOTO_GET(self, start, quantity)


def _iterator_init(self: ShardIterator, *args: Any, **kwargs: Any) -> None:
    _MOTO_ITERATOR_INIT(self, *args, **kwargs)
    self.issued = monotonic()  # type: ignore[attr-defined]


def _expire(backend: DynamoDBStreamsBackend) -> None:
    """Drop iterators older than their lifetime (the dict holds them in the order they were issued)."""
    oldest = monotonic() - ITERATOR_LIFETIME
    iterators = backend.shard_iterators
    while iterators:
        arn, iterator = next(iter(iterators.items()))
        if getattr(iterator, "issued", oldest) > oldest:
            return
        del iterators[arn]


def get_shard_iterator(self: DynamoDBStreamsBackend, *args: Any, **kwargs: Any) -> ShardIterator:
    with TRANSACTIONS:  # iterators, and LATEST reads the shard's length
        _expire(self)
        return _MOTO_GET_SHARD_ITERATOR(self, *args, **kwargs)


def get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> dict[str, Any]:
    with TRANSACTIONS:  # iterators, and LATEST reads the shard's length
        _expire(self)
        iterator = self.shard_iterators.pop(iterator_arn, None)  # used: its NextShardIterator replaces it
        if iterator is None:
            raise ExpiredIteratorException()
        return iterator.get(limit)  # registers the next iterator


def _untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


def install() -> None:
    """Patch moto (idempotent). moto_dynamodb.install() checks the moto version."""
    StreamShard.add = add  # type: ignore[method-assign]
    StreamShard.get = get  # type: ignore[method-assign]
    ShardIterator.__init__ = _iterator_init  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_shard_iterator = get_shard_iterator  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = get_records  # type: ignore[method-assign]
    StreamRecord.__new__ = staticmethod(_untracked)  # type: ignore[method-assign]
    ShardIterator.__new__ = staticmethod(_untracked)  # type: ignore[method-assign]


def uninstall() -> None:
    StreamShard.add = _MOTO_ADD  # type: ignore[method-assign]
    StreamShard.get = _MOTO_GET  # type: ignore[method-assign]
    ShardIterator.__init__ = _MOTO_ITERATOR_INIT  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_shard_iterator = _MOTO_GET_SHARD_ITERATOR  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = _MOTO_GET_RECORDS  # type: ignore[method-assign]
    for cls in (StreamRecord, ShardIterator):
        if "__new__" in cls.__dict__:
            del cls.__new__  # moto's own, inherited from BaseModel
    configure(None)


def installed() -> bool:
    return StreamShard.add is add


@contextmanager
def patched() -> Iterator[None]:
    """The patch for the duration of a block, then moto (and the retention) as it was, for tests."""
    was, retention = installed(), _retention
    install()
    try:
        yield
    finally:
        configure(retention)
        if not was:
            uninstall()
