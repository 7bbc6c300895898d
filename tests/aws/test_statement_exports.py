# Proves the statements' short-lived downloads in moto: the template's bucket expires them, the store puts
# them under random keys of the partner, and the links are presigned for 5 minutes.
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import boto3

from infra.local.aws import REGION
from notfall.documents.exports import URL_SECONDS, ExportStore, export_key


def test_a_statement_download_is_stored_under_a_random_key_and_linked_for_five_minutes(aws) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    bucket = aws.statements_bucket
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert (rule["Status"], rule["Expiration"]["Days"]) == ("Enabled", 1)
    store = ExportStore(s3, bucket)
    first, second = export_key("leine-logistik", "csv"), export_key("leine-logistik", "csv")
    assert first != second and first.startswith("statements/leine-logistik/") and first.endswith(".csv")
    store.put(first, b"month;consultations\r\n", "text/csv; charset=utf-8")
    got = s3.get_object(Bucket=bucket, Key=first)
    assert got["Body"].read() == b"month;consultations\r\n" and got["ContentType"] == "text/csv; charset=utf-8"
    query = parse_qs(urlsplit(store.url(first)).query)
    assert query["X-Amz-Expires"] == [str(URL_SECONDS)] == ["300"]
