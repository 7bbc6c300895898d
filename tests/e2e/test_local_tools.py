"""The parts of the local stack that stand in for AWS services: OpenAPI from the template, schedules, the
documents bucket, demo data."""

from __future__ import annotations

import json
from datetime import datetime

import boto3
import pytest

from infra.local.__main__ import main
from infra.local.demo import load_demo
from notfall.domain.hours import month_of

pytestmark = pytest.mark.e2e


def test_openapi_lists_every_route_of_the_template(api, stack):
    status, spec = api.get("/openapi.json")
    assert status == 200
    want = {
        (method.lower(), path)
        for method, path in stack.template.api_paths()
        if path not in ("/openapi.json", "/swagger")
    }
    have = {(method, path) for path, operations in spec["paths"].items() for method in operations}
    assert want - have == set()


def test_swagger_ui_is_served_beside_the_openapi_document(api):
    status, page = api.get("/swagger")
    assert status == 200
    assert isinstance(page, str) and page.lstrip().lower().startswith("<!doctype html")
    assert "SwaggerUIBundle" in page and '"/audit/events"' in page and '"/invoice-runs"' in page


def test_the_nightly_schedule_fires_on_demand_and_finds_no_drift(api, stack, caller, call_id):
    api.post(
        "/calls/events",
        {
            "type": "started",
            "call_id": call_id,
            "line": "hotline-1",
            "caller_number": caller,
            "at": "2026-11-03T10:00:00Z",
        },
    )
    stack.drain()

    status, body = api.post("/_local/schedules/Nightly")
    assert status == 200, body
    assert body["schedule"]["function"] == "ReplayCheckFunction"
    assert body["result"]["differing"] == []
    assert body["result"]["events"] > 0

    status, report = api.post("/_local/rebuild-check")
    assert (status, report["differing"]) == (200, [])

    status, body = api.post("/_local/schedules/Weekly")
    assert status == 404 and "Nightly" in body["schedules"]


def test_the_fire_command_prints_the_handler_result(stack, capsys):
    assert main(["fire", "Nightly", "--url", stack.url]) == 0
    assert json.loads(capsys.readouterr().out)["result"]["differing"] == []


def test_local_lists_routes_tables_streams_and_schedules(api):
    status, body = api.get("/_local")
    assert status == 200
    assert {"method": "GET", "path": "/cases/{case_id}", "function": "IntakeFunction", "event": "GetCase"} in body[
        "routes"
    ]
    assert body["tables"]["EventStoreTable"]["name"] == "notfall-local-EventStoreTable"
    assert body["streams"][0]["on_failure"].endswith(":notfall-local-ProjectorFailures")
    assert body["buckets"]["DocumentsBucket"]["name"] == "notfall-local-documentsbucket"
    assert sorted(s["event"] for s in body["schedules"]) == [
        "Checkpoint",
        "FamilyInvoices",
        "Nightly",
        "PartnerMonthlyInvoices",
        "PartnerYearlyInvoices",
        "SweepUnassigned",
    ]
    invoices = next(s for s in body["schedules"] if s["event"] == "FamilyInvoices")
    assert (invoices["function"], invoices["timezone"]) == ("InvoiceRunFunction", "Europe/Berlin")


def test_the_documents_bucket_is_created_write_once_as_declared(stack):
    s3 = boto3.client("s3", endpoint_url=stack.endpoint, region_name="eu-central-1")
    bucket = stack.resources.refs["DocumentsBucket"]
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    retention = lock["Rule"]["DefaultRetention"]
    assert (lock["ObjectLockEnabled"], retention["Mode"], retention["Years"]) == ("Enabled", "COMPLIANCE", 8)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    # the invoice functions know the bucket; the others do not need it
    assert stack.functions["InvoiceFunction"].environment["DOCUMENTS_BUCKET"] == bucket
    assert "DOCUMENTS_BUCKET" not in stack.functions["IntakeFunction"].environment


def test_demo_data_loads_through_the_api_and_fills_the_queues(api, stack, demo):
    assert len(demo["cases"]) == 11 and all(c["case_id"] for c in demo["cases"])
    assert len(demo["caregivers"]) == 10
    assert len(demo["partners"]) == 8
    calendar = demo["calendar"]  # the demo's dates, moved to the day it was loaded
    status, garbsen = api.get("/partners/m-garbsen")
    assert status == 200 and garbsen["contracts"][0]["start"] == f"{calendar.year(2016)}-10-01"
    assert garbsen["child_counts"] == {str(calendar.year(2025)): 5400}
    assert len(demo["families"]) == 6  # billing addresses of every family with care

    ids = {c["label"]: c["case_id"] for c in demo["cases"]}
    _, queue = api.get("/cases?limit=500")
    queued = {c["case_id"]: c["status"] for c in queue["cases"]}
    assert queued[ids["children, care need: emergency"]] == "emergency"
    assert queued[ids["still open after the consultation"]] == "open"
    assert ids["advice, closed"] not in queued and ids["referral, closed"] not in queued
    _, callbacks = api.get("/callbacks?limit=500")
    assert ids["voicemail outside hotline hours: waits for a callback"] in {c["case_id"] for c in callbacks["cases"]}
    assert api.get(f"/cases/{ids['referral, closed']}")[1]["status"] == "closed"

    # Care: the demo emergencies went through offers, an accept, a direct assignment, sessions and a trip.
    _, children = api.get(f"/cases/{ids['children, care need: emergency']}")
    assert [o["status"] for o in children["offers"]] == ["declined", "accepted"]
    assert [(s["source"], s["end"] is not None) for s in children["sessions"]] == [("check-in", True)]
    assert [t["status"] for t in children["transports"]] == ["done"]
    _, elder = api.get(f"/cases/{ids['eldercare, care need: emergency']}")
    assert elder["assignments"][0]["caregiver_id"] == "cg-demo-02" and elder["assignments"][0]["offer_id"] is None
    # Early in a month the recent cases share their month with the month to invoice: read their own lines.
    month = calendar.month("2026-11-05T06:27:00Z")
    status, statement = api.get(f"/caregivers/cg-demo-01/statements/{month}")
    [line] = [line for line in statement["lines"] if line["case_id"] == ids["children, care need: emergency"]]
    assert status == 200 and line["cared_minutes"] == 275 and line["amount_cents"] == 1225
    laatzen = ids["eldercare in Laatzen: offer accepted, two sessions recorded, one corrected"]
    _, statement = api.get(f"/caregivers/cg-demo-06/statements/{calendar.month('2026-11-10T07:00:00Z')}")
    [line] = [line for line in statement["lines"] if line["case_id"] == laatzen]
    assert line["sessions"] == 2 and line["cared_minutes"] == 420
    _, trips = api.get(f"/reports/transports/{month}")
    assert trips["done"] >= 1 and trips["price_total_cents"] >= 800
    _, found = api.get(f"/cases/{ids['children, Saturday evening in Langenhagen: waiting for a caregiver']}/candidates")
    assert [c["caregiver_id"] for c in found["candidates"]][:2] == ["cg-demo-05", "cg-demo-10"]
    rejected = {r["caregiver_id"]: r["failed"] for r in found["rejected"]}
    assert "clearance" in rejected["cg-demo-04"] and "active" in rejected["cg-demo-07"]
    month = month_of(datetime.fromisoformat(children["need_at"]))
    _, demand = api.get(f"/reports/demand?from={month}&to={month}&by=municipality")
    assert demand["total"]["needs"] >= 4 and demand["total"]["filled"] >= 3

    # Loading again changes nothing: phone events and staff commands carry the same idempotency keys.
    written = api.audit_count()
    assert demo["events_after"] > demo["events_before"]
    again = load_demo(stack.url, clock=lambda: demo["loaded_at"])  # the same day, whatever the clock says now
    assert again == {k: v for k, v in demo.items() if k not in ("events_before", "events_after")}
    assert api.audit_count() == written
