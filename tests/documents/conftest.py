"""Fixtures of the document tests: an S3 bucket with Object Lock on moto."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

REGION = "eu-central-1"
BUCKET = "notfall-documents-test"  # test_document_store.py names it too


@pytest.fixture
def s3():
    """A moto S3 client and a bucket like the real one: Object Lock enabled (which turns on
    versioning), default retention COMPLIANCE for 8 years."""
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}, ObjectLockEnabledForBucket=True
        )
        client.put_object_lock_configuration(
            Bucket=BUCKET,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 8}},
            },
        )
        yield client
