"""`--clock` moves the whole session, moto's server and the local stack included: what they stamp
is the process clock's time, and with `--clock` that time lies where the option put it."""

from __future__ import annotations

from datetime import datetime, timedelta

import boto3
import pytest

from notfall.clock import system_clock

pytestmark = pytest.mark.e2e

CLOSE = timedelta(minutes=5)  # a moment ago: the calls below take well under a second


def test_moto_and_the_stack_stamp_the_session_clock(clock_option, api, stack, caller, call_id):
    now = system_clock()
    if clock_option is not None:
        assert clock_option <= now < clock_option + timedelta(hours=1)  # one session ticks on for minutes

    # moto's server stamps what it stores with the clock of this process
    s3 = boto3.client("s3", endpoint_url=stack.endpoint, region_name="eu-central-1")
    bucket = stack.resources.refs["DocumentsBucket"]
    s3.put_object(
        Bucket=bucket,
        Key="clock-check",
        Body=b"x",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=now + timedelta(days=1),
    )
    stored = s3.head_object(Bucket=bucket, Key="clock-check")["LastModified"]
    assert abs(stored - now) < CLOSE

    # the stack's functions record events at the clock's time
    after = api.audit_count()
    status, opened = api.post(
        "/calls/events",
        {"type": "started", "call_id": call_id, "line": "hotline-1", "caller_number": caller, "at": now.isoformat()},
    )
    assert status == 201, opened
    status, page = api.get(f"/audit/events?after={after}&limit=10")
    recorded = [datetime.fromisoformat(e["recorded_at"]) for e in page["events"]]
    assert recorded and all(abs(at - now) < CLOSE for at in recorded)
