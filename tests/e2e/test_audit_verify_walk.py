"""The auditor's walk of issue 12 over HTTP on the local stack: seal, export, verify; change one
attribute of one event item in DynamoDB, export again and see verify name it; delete one event
item and see verify name the gap. The damage is undone at the end: the stack is shared."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import boto3
import pytest

from notfall import audit

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("verify_log", ROOT / "tools" / "verify_log.py")
assert _spec and _spec.loader
verify_log = importlib.util.module_from_spec(_spec)
sys.modules["verify_log"] = verify_log
_spec.loader.exec_module(verify_log)


def export(api, path: Path) -> None:
    out = io.StringIO()
    audit.export(api.url, api.token("auditor"), out, pause=0.05, stall_limit=3)
    path.write_text(out.getvalue(), encoding="utf-8")


def verify(log: Path, folder: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = verify_log.main([str(log), "--key", str(folder / "public-key.pem"), "--checkpoint", str(folder)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_export_verify_tamper_and_see_it_named(api, stack, caller, call_id, tmp_path, capsys):
    status, _ = api.post(
        "/calls/events",
        {
            "type": "started",
            "call_id": call_id,
            "line": "hotline-1",
            "caller_number": caller,
            "at": "2026-11-03T10:00Z",
        },
    )
    assert status in (200, 201)
    status, fired = api.post("/_local/schedules/Checkpoint")
    assert status == 200 and fired["result"]["position"] > 0, fired
    sealed = fired["result"]["position"]

    folder = tmp_path / "checkpoints"
    assert audit.save_checkpoints(api.url, api.token("auditor"), folder) >= 1
    log = tmp_path / "log.ndjson"
    export(api, log)
    code, out = verify(log, folder, capsys)
    assert code == 0 and out.startswith("OK: positions 1..") and f"(last at {sealed})" in out, out

    # One attribute of one event item, changed directly in the table, as the README shows.
    db = boto3.client("dynamodb", endpoint_url=stack.endpoint, region_name="eu-central-1")
    table = stack.resources.refs["EventStoreTable"]
    target = sealed - 1
    [item] = db.query(
        TableName=table,
        IndexName="GlobalOrder",
        KeyConditionExpression="log_page = :p AND #pos = :n",
        ExpressionAttributeNames={"#pos": "position"},
        ExpressionAttributeValues={":p": {"N": str(target // 1000)}, ":n": {"N": str(target)}},
    )["Items"]
    key = {"stream_id": item["stream_id"], "version": item["version"]}
    full = db.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    try:
        db.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET actor = :a",
            ExpressionAttributeValues={":a": {"S": "user:00000000-0000-0000-0000-000000000000"}},
        )
        export(api, log)
        code, out = verify(log, folder, capsys)
        assert code == 1 and f"position {target}: changed: " in out, out

        db.put_item(TableName=table, Item=full)  # as it was
        db.delete_item(TableName=table, Key=key)  # and now gone
        export(api, log)
        code, out = verify(log, folder, capsys)
        assert code == 1 and f"position {target + 1}: missing: position {target} is not in the export" in out, out
    finally:
        db.put_item(TableName=table, Item=full)
    export(api, log)
    assert verify(log, folder, capsys)[0] == 0
