"""DynamoDB stream records as Lambda's event source mapping hands them to a function.

The one converter from GetRecords records (as moto answers them) to Lambda's record shape, and
the one FilterCriteria match; the stream pump and the tests against moto both use these.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from moto.events.models import EventPattern

from infra.local.aws import REGION

_RECORD_KEYS = ("eventID", "eventName", "eventVersion", "eventSource", "userIdentity")
_STREAM_KEYS = ("Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType")
# What Lambda delivers for DynamoDB streams (and events/dynamodb-stream-batch.json shows); moto says "1.0".
EVENT_VERSION = "1.1"


def lambda_record(raw: dict[str, Any], stream_arn: str, region: str = REGION) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda delivers it (moto leaves out the ARN, gives a datetime)."""
    record = {k: raw[k] for k in _RECORD_KEYS if k in raw}
    record["eventVersion"] = EVENT_VERSION
    record["awsRegion"] = region
    stream = {k: raw["dynamodb"][k] for k in _STREAM_KEYS if k in raw["dynamodb"]}
    created = raw["dynamodb"].get("ApproximateCreationDateTime")
    if created is not None:
        stream["ApproximateCreationDateTime"] = int(created.timestamp()) if isinstance(created, datetime) else created
    record["dynamodb"] = stream
    record["eventSourceARN"] = stream_arn
    return record


def filter_patterns(filter_criteria: dict[str, Any] | None) -> list[EventPattern]:
    """The patterns of an event's FilterCriteria (each Pattern a JSON string or, resolved, a mapping)."""
    patterns = [f["Pattern"] for f in (filter_criteria or {}).get("Filters", [])]
    return [EventPattern.load(p if isinstance(p, str) else json.dumps(p)) for p in patterns]


def passes_filters(record: dict[str, Any], patterns: Iterable[EventPattern]) -> bool:
    """Lambda event filtering: the filters are ORed, and no filters let everything through."""
    patterns = list(patterns)
    return not patterns or any(p.matches_event(record) for p in patterns)
