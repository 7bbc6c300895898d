"""Signed checkpoints of the log: its last position and hash, signed with a KMS key, stored write-once.

A checkpoint is a small JSON statement, `{"hash", "log", "position", "sealed_at"}` with sorted
keys and no spaces, signed by an asymmetric KMS key (ECC_NIST_P256, ECDSA_SHA_256) and stored
under `checkpoints/<position, 12 digits>.json` in a bucket with Object Lock (COMPLIANCE). The
object carries the statement exactly as signed, so a verifier checks the signature over those
bytes and then reads position and hash from them. An auditor who keeps checkpoints can detect
any later change to an event at or before one of them from the export and the public key alone
(tools/verify_log.py; docs/event-store.md, "Checkpoints").
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC
from typing import Any, Protocol

from botocore.exceptions import ClientError

from notfall.clock import Clock, system_clock

PREFIX = "checkpoints/"
ALGORITHM = "ECDSA_SHA_256"
LOG_NAME = "notfall"


class LogHead(Protocol):
    def log_head(self) -> tuple[int, str]: ...


def checkpoint_key(position: int) -> str:
    return f"{PREFIX}{position:012d}.json"


def statement(position: int, last_hash: str, sealed_at: str) -> str:
    """The signed text: canonical JSON (sorted keys, no spaces)."""
    body = {"hash": last_hash, "log": LOG_NAME, "position": position, "sealed_at": sealed_at}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def pem(der: bytes) -> str:
    """A DER SubjectPublicKeyInfo as PEM text."""
    text = base64.b64encode(der).decode("ascii")
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


class Checkpoints:
    """Seals the log (the scheduled function) and serves the checkpoints and the public key (auditors)."""

    def __init__(self, s3: Any, kms: Any, bucket: str, key_id: str, clock: Clock = system_clock) -> None:
        self.s3 = s3
        self.kms = kms
        self.bucket = bucket
        self.key_id = key_id
        self.clock = clock

    def seal(self, log: LogHead) -> dict[str, Any]:
        """Sign and store the log's head, unless a checkpoint of that position exists already."""
        position, last_hash = log.log_head()
        if position == 0:
            return {"sealed": False, "position": 0, "reason": "the log is empty"}
        key = checkpoint_key(position)
        if self._exists(key):
            return {"sealed": False, "position": position, "key": key, "reason": "already sealed"}
        sealed_at = self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = statement(position, last_hash, sealed_at)
        signed = self.kms.sign(
            KeyId=self.key_id, Message=text.encode("utf-8"), MessageType="RAW", SigningAlgorithm=ALGORITHM
        )
        body = json.dumps(
            {
                "statement": text,
                "signature": base64.b64encode(signed["Signature"]).decode("ascii"),
                "algorithm": ALGORITHM,
                "key_id": signed["KeyId"],
            },
            indent=1,
        ).encode("utf-8")
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",  # Object Lock puts need a checksum
                ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode("ascii"),
                IfNoneMatch="*",  # write-once; the bucket's default retention locks it
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
            return {"sealed": False, "position": position, "key": key, "reason": "already sealed"}
        return {"sealed": True, "position": position, "hash": last_hash, "sealed_at": sealed_at, "key": key}

    def list(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Checkpoints in position order, after a position."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": PREFIX, "MaxKeys": limit}
        if after:
            kwargs["StartAfter"] = checkpoint_key(after)
        listed = self.s3.list_objects_v2(**kwargs).get("Contents", [])
        return [{"position": int(o["Key"][len(PREFIX) : -len(".json")]), "key": o["Key"]} for o in listed]

    def get(self, position: int) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=checkpoint_key(position))["Body"].read()
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(body)

    def public_key(self) -> dict[str, Any]:
        answer = self.kms.get_public_key(KeyId=self.key_id)
        return {"key_id": answer["KeyId"], "algorithm": ALGORITHM, "public_key_pem": pem(answer["PublicKey"])}

    def _exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True
