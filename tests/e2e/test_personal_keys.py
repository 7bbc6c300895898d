"""No personal data in keys or URLs (issue 13.1): with the demo data loaded on the local stack,
every table's keys and index keys, the documents bucket's object keys, and the paths the stack's
banner prints hold none of the demo's phone numbers, names, addresses or e-mail addresses.

The demo's values are taken from the demo data as loaded (infra/local/demo_data.json); a value
counts as found when its words appear as words of a key, so `cg-anke-brenner` would hold the
name "Anke Brenner", while the hex of a hash holds no phone number by chance."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.local.__main__ import banner
from infra.local.demo import DEMO_DATA

pytestmark = pytest.mark.e2e

REGION = "eu-central-1"
_NOT_A_NAME = {"familie", "family", "demo"}


def words(text: str) -> str:
    """Lowercase words separated by single spaces, padded: `" cg anke brenner "`."""
    return " " + " ".join(re.findall(r"[0-9a-zäöüß]+", text.lower())) + " "


def _bodies(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for case in data["cases"]:
        yield from (step["body"] for step in case["steps"])


def demo_values() -> dict[str, set[str]]:
    """The demo's personal values by kind, each as the words to look for."""
    data = json.loads(DEMO_DATA.read_text())
    bodies = list(_bodies(data))
    billing = [case["billing_address"] for case in data["cases"] if "billing_address" in case]
    phones = {b["caller_number"] for b in bodies if b.get("caller_number")}
    addresses = {b["location"]["address"] for b in bodies if b.get("location", {}).get("address")}
    addresses |= {b[k] for b in bodies for k in ("from_place", "to_place") if k in b}
    addresses |= {a.split(",")[0] for a in set(addresses)}  # the street alone
    addresses |= {f"{b['street']}, {b['postcode']} {b['city']}" for b in billing} | {b["street"] for b in billing}
    return {
        # E.164 digits, the national form and the number as written
        "phone numbers": {
            form
            for number in phones
            for digits in [re.sub(r"\D", "", number)]
            for form in (digits, "0" + digits.removeprefix("49"), number)
        },
        # "Familie Brenner-Yilmaz" is one name: Brenner alone is a caregiver's
        "family names": {" ".join(w for w in words(b["name"]).split() if w not in _NOT_A_NAME) for b in billing},
        # one word alone ("home") is no address; "Am Hasselhof 3" is
        "addresses": {a for a in addresses if len(words(a).split()) > 1},
        "e-mail addresses": {b["email"] for b in billing if b.get("email")},
        "caregiver names": {
            w
            for c in data["caregivers"]
            for w in words(c["register"]["profile"]["name"]).split()
            if w not in _NOT_A_NAME
        },
    }


def table_keys(endpoint: str) -> Iterator[tuple[str, str]]:
    """(table, value) for every key and index-key attribute of every item of every table."""
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    for table in client.list_tables()["TableNames"]:
        described = client.describe_table(TableName=table)["Table"]
        schemas = [described["KeySchema"]] + [
            index["KeySchema"]
            for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
            for index in described.get(kind, [])
        ]
        names = {key["AttributeName"] for schema in schemas for key in schema}
        for page in client.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                for name in names & item.keys():
                    yield table, str(next(iter(item[name].values())))


def object_keys(endpoint: str) -> Iterator[tuple[str, str]]:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                yield bucket["Name"], obj["Key"]


def printed_paths(stack: Any, demo: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The paths the banner prints for the demo, and those of the families and caregivers it loaded."""
    text = banner(stack.url, stack.stage, stack.endpoint, demo)
    for url in re.findall(r"https?://[^\s'\"]+", text):
        yield "banner", url
    for family_id in demo["families"].values():
        yield "family", f"/families/{family_id}/billing-address"
    for caregiver_id in demo["caregivers"]:
        yield "caregiver", f"/caregivers/{caregiver_id}/statements"


@pytest.fixture(scope="module")
def haystacks(stack, demo) -> list[tuple[str, str]]:
    stack.drain()
    found = [*table_keys(stack.endpoint), *object_keys(stack.endpoint), *printed_paths(stack, demo)]
    assert len(found) > 100 and any("ReadModel" in where for where, _ in found), "the demo left keys to scan"
    return found


KINDS = ["phone numbers", "family names", "addresses", "e-mail addresses", "caregiver names"]


@pytest.mark.parametrize("kind", KINDS)
def test_no_demo_personal_value_in_keys_or_paths(kind: str, haystacks: list[tuple[str, str]]) -> None:
    needles = {words(v) for v in demo_values()[kind]}
    assert needles, f"the demo data has {kind}"
    hits = sorted({(where, key) for where, key in haystacks for n in needles if n in words(key)})
    assert hits == [], f"{kind} in keys or paths: {hits[:10]}"


def test_the_scan_finds_a_value_where_one_is() -> None:
    """The matching itself: a name in a key is found, a hash's hex is no phone number."""
    values = demo_values()
    assert " brenner " in {words(v) for v in values["caregiver names"]}
    assert words("brenner") in words("caregiver#cg-brenner")
    assert not any(words(p) in words("caller-3fa4c0e95114400101ab") for p in values["phone numbers"])
    assert words("Lister Meile 27") in words("family-billing#lister-meile-27")
