"""The checkpoint function on moto: KMS signs (ECC_NIST_P256), the Object Lock bucket keeps the
checkpoint write-once, and the signature verifies offline with the public key alone."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import boto3
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infra.local.aws import REGION
from notfall.domain import case as c
from notfall.domain.commands import CallEventIn
from notfall.domain.envelope import Metadata
from notfall.store.checkpoints import Checkpoints

NOW = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def open_case(store, i: int) -> None:
    cmd = CallEventIn(
        type="started",
        call_id=f"c{i}",
        line="hotline-1",
        caller_number=f"+49 30 55500{i:02d}",
        at="2026-11-03T07:55:00Z",
    )
    routing_id = c.caller_stream(cmd.caller_number, cmd.call_id)
    routing = c.fold_routing(routing_id, store.load(routing_id))
    meta = Metadata(command_id=f"open-{i}", actor="user:tester", correlation_id="corr")
    store.append(c.decide_call_event(cmd, routing, None, f"case{i:04d}"), meta)


@pytest.fixture
def sealer(aws) -> Checkpoints:
    s3, kms = boto3.client("s3", region_name=REGION), boto3.client("kms", region_name=REGION)
    return Checkpoints(s3, kms, aws.checkpoints_bucket, aws.signing_key, lambda: NOW)


def test_the_template_key_signs_and_the_public_key_verifies_offline(aws, sealer):
    store = aws.store(lambda: NOW)
    open_case(store, 1)  # positions 1..4
    sealed = sealer.seal(store)
    assert sealed == {
        "sealed": True,
        "position": 4,
        "hash": store.log_head()[1],
        "sealed_at": "2026-11-03T10:00:00Z",
        "key": "checkpoints/000000000004.json",
    }
    stored = sealer.get(4)
    assert json.loads(stored["statement"]) == {
        "hash": store.log_head()[1],
        "log": "notfall",
        "position": 4,
        "sealed_at": "2026-11-03T10:00:00Z",
    }
    assert stored["algorithm"] == "ECDSA_SHA_256"
    pem = sealer.public_key()["public_key_pem"]
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    key.verify(base64.b64decode(stored["signature"]), stored["statement"].encode(), ec.ECDSA(hashes.SHA256()))


def test_a_checkpoint_is_written_once_and_locked(aws, sealer):
    store = aws.store(lambda: NOW)
    assert sealer.seal(store) == {"sealed": False, "position": 0, "reason": "the log is empty"}
    open_case(store, 1)
    sealer.seal(store)
    again = sealer.seal(store)  # nothing appended since: the same position is not sealed twice
    assert again["sealed"] is False and again["reason"] == "already sealed"
    open_case(store, 2)
    assert sealer.seal(store)["position"] == 8
    assert sealer.list() == [
        {"position": 4, "key": "checkpoints/000000000004.json"},
        {"position": 8, "key": "checkpoints/000000000008.json"},
    ]
    assert sealer.list(after=4) == [{"position": 8, "key": "checkpoints/000000000008.json"}]

    s3 = boto3.client("s3", region_name=REGION)
    head = s3.head_object(Bucket=aws.checkpoints_bucket, Key="checkpoints/000000000004.json")
    assert head["ObjectLockMode"] == "COMPLIANCE"  # the bucket's default rule
    with pytest.raises(s3.exceptions.ClientError):
        s3.delete_object(
            Bucket=aws.checkpoints_bucket, Key="checkpoints/000000000004.json", VersionId=head["VersionId"]
        )
    assert sealer.get(4) is not None


def test_the_scheduled_handler_seals_through_the_functions_wiring(aws, lambda_context):
    open_case(aws.store(lambda: NOW), 1)
    fn = aws.load_function("audit")
    sealed = fn.checkpoint_handler({"detail-type": "Scheduled Event"}, lambda_context)
    assert sealed["sealed"] is True and sealed["position"] == 4
    assert fn.checkpoints.get(4)["statement"].startswith('{"hash":')
