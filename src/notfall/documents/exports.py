"""Short-lived downloads in S3: a statement rendered for one request, stored under a random
key and handed out as a presigned link. The bucket expires them (template.yaml, a lifecycle
rule of one day); unlike invoices they are no records to keep, so no Object Lock.

Keys: `statements/<partner_id>/<random>.<csv|pdf>` - no personal data, and not guessable.
"""

from __future__ import annotations

import uuid
from typing import Any

URL_SECONDS = 300  # as the invoice documents' links


class ExportStore:
    def __init__(self, s3_client: Any, bucket: str) -> None:
        self.s3 = s3_client
        self.bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def url(self, key: str, expires: int = URL_SECONDS) -> str:
        """A presigned GET URL, valid `expires` seconds."""
        return self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
        )


def export_key(partner_id: str, suffix: str) -> str:
    return f"statements/{partner_id}/{uuid.uuid4().hex}.{suffix}"
