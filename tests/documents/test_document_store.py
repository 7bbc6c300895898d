"""Write-once storage in an Object Lock bucket (moto)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from botocore.exceptions import ClientError
from invoice_builders import credit_note, family_invoice

from notfall.documents.einvoice import invoice_cii
from notfall.documents.pdf import invoice_pdf
from notfall.documents.storage import DocumentStore, Stored, keys_for, retain_until

ISSUED = date(2026, 12, 1)
BUCKET = "notfall-documents-test"  # the bucket conftest.py creates


def versions(s3, key: str) -> list[dict]:
    return [v for v in s3.list_object_versions(Bucket=BUCKET, Prefix=key).get("Versions", []) if v["Key"] == key]


def retain_header(s3, key: str) -> datetime:
    """The retain-until date exactly as S3 sends it (botocore's parsing of this header varies)."""
    head = s3.head_object(Bucket=BUCKET, Key=key)
    return datetime.fromisoformat(head["ResponseMetadata"]["HTTPHeaders"]["x-amz-object-lock-retain-until-date"])


def test_keys_from_the_number_or_the_issue_date():
    assert keys_for("R-2026-00042") == ("invoices/2026/R-2026-00042.pdf", "invoices/2026/R-2026-00042.xml")
    assert keys_for("G-2027-00005", date(2026, 12, 30)) == (
        "invoices/2027/G-2027-00005.pdf",
        "invoices/2027/G-2027-00005.xml",
    )
    assert keys_for("R-000017", date(2026, 3, 1))[0] == "invoices/2026/R-000017.pdf"
    assert keys_for("R-120261", date(2026, 3, 1))[0] == "invoices/2026/R-120261.pdf"  # no stray year
    with pytest.raises(ValueError, match="no year"):
        keys_for("R-000017")
    for unsafe in ("RE/2026/0001", "../2026-1", "", "R 2026 1"):
        with pytest.raises(ValueError, match="cannot be used"):
            keys_for(unsafe, ISSUED)


@pytest.mark.parametrize(
    ("issued", "until"),
    [
        (date(2026, 1, 15), datetime(2034, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (date(2026, 12, 31), datetime(2034, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (date(2027, 1, 1), datetime(2035, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_retention_ends_with_the_eighth_calendar_year_after_issue(issued, until):
    assert retain_until(issued) == until


def test_put_once_writes_once(s3):
    store = DocumentStore(s3, BUCKET)
    key, _ = keys_for("R-2026-00042")
    first = store.put_once(key, b"%PDF-original", "application/pdf", issue_date=ISSUED)
    again = store.put_once(key, b"%PDF-original", "application/pdf", issue_date=ISSUED)
    assert (first.created, again.created) == (True, False)  # an invoice run counts the two apart
    assert again.version_id == first.version_id
    assert [v["VersionId"] for v in versions(s3, key)] == [first.version_id]


def test_a_rerun_with_other_bytes_keeps_the_original(s3, caplog):
    store = DocumentStore(s3, BUCKET)
    key, _ = keys_for("R-2026-00042")
    first = store.put_once(key, b"%PDF-original", "application/pdf", issue_date=ISSUED)
    with caplog.at_level(logging.WARNING, logger="notfall.documents.storage"):
        assert store.put_once(key, b"%PDF-rendered-otherwise", "application/pdf", issue_date=ISSUED) == Stored(
            first.version_id, created=False
        )
    assert "the stored original stands" in caplog.text
    assert len(versions(s3, key)) == 1
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"%PDF-original"


def test_each_put_sets_compliance_retention(s3):
    store = DocumentStore(s3, BUCKET)
    key, _ = keys_for("K-2026-00003")
    store.put_once(key, b"<xml/>", "application/xml", issue_date=date(2026, 1, 15))
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert retain_header(s3, key) == datetime(2034, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert head["ContentType"] == "application/xml"
    assert len(head["Metadata"]["sha256"]) == 64


def test_the_bucket_default_alone_would_end_too_early(s3):
    """Why the explicit date: the default rule counts 8 years from the upload."""
    s3.put_object(Bucket=BUCKET, Key="plain", Body=b"x")
    uploaded = s3.head_object(Bucket=BUCKET, Key="plain")["LastModified"].date()
    assert retain_header(s3, "plain") < retain_until(uploaded)


def test_a_locked_version_cannot_be_deleted(s3):
    """moto enforces Object Lock on DeleteObject with a VersionId: AccessDenied, also with the
    governance bypass (COMPLIANCE allows none)."""
    store = DocumentStore(s3, BUCKET)
    key, _ = keys_for("R-2026-00042")
    version = store.put_once(key, b"%PDF-original", "application/pdf", issue_date=ISSUED).version_id
    for extra in ({}, {"BypassGovernanceRetention": True}):
        with pytest.raises(ClientError) as refused:
            s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version, **extra)
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert [v["VersionId"] for v in versions(s3, key)] == [version]


def test_a_delete_marker_does_not_make_put_once_write_again(s3):
    """A plain DELETE only hides the locked version behind a delete marker (S3 allows that);
    a rerun must not store a second original."""
    store = DocumentStore(s3, BUCKET)
    key, _ = keys_for("R-2026-00042")
    version = store.put_once(key, b"%PDF-original", "application/pdf", issue_date=ISSUED).version_id
    s3.delete_object(Bucket=BUCKET, Key=key)
    assert store.put_once(key, b"%PDF-original", "application/pdf", issue_date=ISSUED) == Stored(version, False)
    assert [v["VersionId"] for v in versions(s3, key)] == [version]


def test_a_concurrent_writer_loses_the_conditional_put(s3):
    """Two runs both saw no document; the second put fails its If-None-Match and returns the
    version the first one stored."""
    store = DocumentStore(s3, BUCKET)
    key, _ = keys_for("R-2026-00042")
    winner = store.put_once(key, b"%PDF-original", "application/pdf", issue_date=ISSUED)
    real = store._existing
    calls = []

    def stale_then_real(k):
        calls.append(k)
        return None if len(calls) == 1 else real(k)

    store._existing = stale_then_real
    assert store.put_once(key, b"%PDF-original", "application/pdf", issue_date=ISSUED) == Stored(
        winner.version_id, created=False
    )
    assert len(calls) == 2
    assert len(versions(s3, key)) == 1


def test_presigned_url_expires_after_300_seconds_by_default(s3):
    """moto checks neither expiry nor signature: the parameter is what can be tested."""
    store = DocumentStore(s3, BUCKET)
    key, _ = keys_for("R-2026-00042")
    store.put_once(key, b"%PDF-original", "application/pdf", issue_date=ISSUED)
    url = urlparse(store.url(key))
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["300"]
    assert "X-Amz-Signature" in query
    assert url.path.endswith("/invoices/2026/R-2026-00042.pdf")
    assert parse_qs(urlparse(store.url(key, expires=60)).query)["X-Amz-Expires"] == ["60"]


def test_an_invoice_and_its_credit_note_are_stored_side_by_side(s3):
    store = DocumentStore(s3, BUCKET)
    for event in (family_invoice(), credit_note()):
        pdf_key, xml_key = keys_for(event.number, event.issue_date)
        store.put_once(pdf_key, invoice_pdf(event), "application/pdf", issue_date=event.issue_date)
        store.put_once(xml_key, invoice_cii(event), "application/xml", issue_date=event.issue_date)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == [
        "invoices/2026/G-2026-00005.pdf",
        "invoices/2026/G-2026-00005.xml",
        "invoices/2026/R-2026-00042.pdf",
        "invoices/2026/R-2026-00042.xml",
    ]
    body = s3.get_object(Bucket=BUCKET, Key="invoices/2026/R-2026-00042.pdf")["Body"].read()
    assert body == invoice_pdf(family_invoice())
