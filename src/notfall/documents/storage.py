"""Write-once storage of invoice documents in S3 with Object Lock.

The bucket has S3 Object Lock in COMPLIANCE mode (default retention 8 years), so a stored
document can be neither overwritten in place nor deleted, by anybody, until its retention
ends. Every put also sets the retention explicitly:

    retain until 31 December of (issue year + 8), 23:59:59 UTC

Section 147 (3), (4) AO and section 14b UStG: invoices are kept 8 years (Buchungsbelege, since
2025), and the period starts at the end of the calendar year in which the invoice was issued.
An invoice of 15 Jan 2026 is therefore kept until 31 Dec 2034. The bucket's default rule
(8 years from the upload) would end too early for every document uploaded before the end of
its issue year - hence the explicit date. (Taken in UTC, the end of 31 December lies one or two
hours after the end of the day in Berlin, never before it.)

`put_once` is idempotent for reruns of an invoice run: it looks first (HEAD) and writes only
when the key holds no document yet; the write itself is conditional (If-None-Match: *), so two
concurrent runs cannot both create a version either. A key whose current version is a delete
marker still holds its locked original underneath: that counts as existing, nothing is written.

Keys: `invoices/<year>/<number>.pdf` and `.xml`, the year taken from the number
("R-2026-00042") or else from the issue date.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

RETENTION_YEARS = 8
LOCK_MODE = "COMPLIANCE"
PDF_TYPE = "application/pdf"
XML_TYPE = "application/xml"
_SAFE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_YEAR = re.compile(r"(?<![0-9])(20[0-9]{2})(?![0-9])")


@dataclass(frozen=True)
class Stored:
    """The outcome of `put_once`: the document's version, and whether this call wrote it."""

    version_id: str
    created: bool


def retain_until(issue_date: date) -> datetime:
    """The end of the retention period of a document issued on `issue_date` (see module doc)."""
    return datetime(issue_date.year + RETENTION_YEARS, 12, 31, 23, 59, 59, tzinfo=UTC)


def keys_for(number: str, issue_date: date | None = None) -> tuple[str, str]:
    """(pdf_key, xml_key) of an invoice or credit note: `invoices/<year>/<number>.pdf|.xml`.

    The year comes from the number (its four-digit 20xx part) or else from `issue_date`. A
    number that is not a safe key segment is refused rather than rewritten: two numbers must
    never map to the same key, since a key is written once.
    """
    if not _SAFE_NUMBER.match(number):
        raise ValueError(f"invoice number {number!r} cannot be used in a document key")
    match = _YEAR.search(number)
    if match:
        year = int(match.group(1))
    elif issue_date is not None:
        year = issue_date.year
    else:
        raise ValueError(f"invoice number {number!r} has no year: pass the issue date")
    base = f"invoices/{year}/{number}"
    return f"{base}.pdf", f"{base}.xml"


class DocumentStore:
    def __init__(self, s3_client: Any, bucket: str) -> None:
        self.s3 = s3_client
        self.bucket = bucket

    def put_once(self, key: str, body: bytes, content_type: str, *, issue_date: date) -> Stored:
        """Store `body` under `key` unless a document is there already; the version id of the
        stored document (the new one, or the one found), and whether this call stored it.

        Retention: COMPLIANCE until `retain_until(issue_date)`. A document found with other
        bytes (e.g. rendered by an older library version) stays as it is - it is the original
        that was issued - and a warning is logged.
        """
        digest = hashlib.sha256(body).hexdigest()
        found = self._existing(key)
        if found is not None:
            return self._keep(key, found, digest)
        try:
            answer = self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",  # Object Lock puts need a checksum; S3 verifies it
                ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode("ascii"),
                Metadata={"sha256": digest},
                ObjectLockMode=LOCK_MODE,
                ObjectLockRetainUntilDate=retain_until(issue_date),
                IfNoneMatch="*",
            )
        except ClientError as err:
            if _code(err) not in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                raise
            found = self._existing(key)  # a concurrent run stored it first
            if found is None:
                raise
            return self._keep(key, found, digest)
        return Stored(answer["VersionId"], created=True)

    def url(self, key: str, expires: int = 300) -> str:
        """A presigned GET URL of the document, valid `expires` seconds."""
        return self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
        )

    # --- internals ----------------------------------------------------------------------

    def _existing(self, key: str) -> dict[str, Any] | None:
        """HEAD of the key's current version; under a delete marker, the newest real version."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
            return {"VersionId": head.get("VersionId"), "sha256": head.get("Metadata", {}).get("sha256")}
        except ClientError as err:
            if _code(err) not in ("404", "NoSuchKey", "NotFound"):
                raise
            headers = err.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            if headers.get("x-amz-delete-marker") != "true":
                return None
        # the current version is a delete marker: the locked original is still there
        listing = self.s3.list_object_versions(Bucket=self.bucket, Prefix=key)
        versions = [v for v in listing.get("Versions", []) if v["Key"] == key]
        if not versions:
            return None
        newest = max(versions, key=lambda v: v["LastModified"])
        log.warning("document %s is hidden by a delete marker; its locked version %s is kept", key, newest["VersionId"])
        return {"VersionId": newest["VersionId"], "sha256": None}

    def _keep(self, key: str, found: dict[str, Any], digest: str) -> Stored:
        if found.get("sha256") and found["sha256"] != digest:
            log.warning(
                "document %s exists with other bytes (sha256 %s, now %s); the stored original stands",
                key,
                found["sha256"],
                digest,
            )
        return Stored(found["VersionId"], created=False)


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))
