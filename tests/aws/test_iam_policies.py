"""Every DynamoDB and S3 request each Lambda makes is allowed by that function's policy in
template.yaml: action, table or index ARN, the LeadingKeys condition, the bucket or object
ARN. moto enforces no IAM, so the requests are recorded here (through the handlers, driven by
API events, stream batches and the schedules: the nightly replay, the sweep and the invoice
runs) and checked against the template's statements - a missing permission fails here
instead of as AccessDenied after a deployment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest

from infra.local.aws import REGION
from infra.local.template import TABLE, Template

_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _resource(ref: Any) -> tuple[str, str | None]:
    """(logical id, None) of `!GetAtt T.Arn`; (table, index name) of `!Sub "${T.Arn}/index/I"`;
    (bucket, key pattern) of `!Sub "${B.Arn}/prefix/*"`."""
    if "Fn::GetAtt" in ref:
        table, attribute = ref["Fn::GetAtt"]
        assert attribute == "Arn"
        return table, None
    text = ref["Fn::Sub"]
    assert text.startswith("${") and ".Arn}/" in text, text
    name, _, rest = text[2:].partition(".Arn}/")
    return name, rest.removeprefix("index/")


def statements(template: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    out = []
    for policy in template["Resources"][function_id]["Properties"].get("Policies", []):
        for st in policy["Statement"]:
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            out.append(
                {
                    "actions": set(st["Action"]),
                    "resources": {_resource(r) for r in resources},
                    "condition": st.get("Condition"),
                    "effect": st["Effect"],
                }
            )
    return out


def _condition_holds(condition: dict[str, Any] | None, leading_key: str | None) -> bool:
    if not condition:
        return True
    assert set(condition) == {"ForAllValues:StringEquals"}, f"condition not modelled here: {condition}"
    [(key, allowed)] = condition["ForAllValues:StringEquals"].items()
    assert key == "dynamodb:LeadingKeys"
    return leading_key is not None and leading_key in allowed


class Recorder:
    """DynamoDB requests of one client as (action, table logical id, index, leading key)."""

    def __init__(self, aws, template) -> None:
        self.names = {name: lid for lid, name in _table_names(aws).items()}
        self.hash_keys = {
            lid: next(k["AttributeName"] for k in r["Properties"]["KeySchema"] if k["KeyType"] == "HASH")
            for lid, r in Template(template).of_type(TABLE).items()
        }
        self.needs: set[tuple[str, str, str | None, str | None]] = set()

    def _leading(self, table: str, key: dict[str, Any] | None) -> str | None:
        value = (key or {}).get(self.hash_keys[table])
        return next(iter(value.values())) if value else None

    def record(self, model, params, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                kind, body = next(iter(item.items()))
                table = self.names[body["TableName"]]
                self.needs.add(
                    (_ITEM_ACTIONS[kind], table, None, self._leading(table, body.get("Key") or body["Item"]))
                )
        else:
            table = self.names[params["TableName"]]
            self.needs.add((model.name, table, params.get("IndexName"), self._leading(table, params.get("Key"))))

    @contextmanager
    def on(self, client) -> Iterator[Recorder]:
        client.meta.events.register("before-parameter-build.dynamodb", self.record, unique_id="notfall-iam")
        try:
            yield self
        finally:
            client.meta.events.unregister("before-parameter-build.dynamodb", unique_id="notfall-iam")


def _table_names(aws) -> dict[str, str]:
    return {
        "EventStoreTable": aws.events_table,
        "CommandsTable": aws.commands_table,
        "ReadModelTable": aws.read_model_table,
    }


def _allows(statement: dict[str, Any], need: tuple) -> bool:
    action, resource, sub, leading = need
    if action.startswith("kms:"):  # (kms action, key, None, None)
        return action in statement["actions"] and (resource, None) in statement["resources"]
    if action.startswith("s3:"):  # (s3 action, bucket, object key or None for the bucket, None)
        return action in statement["actions"] and any(
            name == resource and (pattern is None if sub is None else pattern is not None and fnmatchcase(sub, pattern))
            for name, pattern in statement["resources"]
        )
    return (
        f"dynamodb:{action}" in statement["actions"]
        and (resource, sub) in statement["resources"]
        and _condition_holds(statement["condition"], leading)
    )


def denied(template, function_id: str, needs) -> list[tuple]:
    allows = [s for s in statements(template, function_id) if s["effect"] == "Allow"]
    return sorted(need for need in needs if not any(_allows(s, need) for s in allows))


class S3Recorder:
    """S3 requests of one client as the IAM actions they need: (action, bucket logical id, key, None).

    HeadObject needs s3:GetObject, and s3:ListBucket on the bucket for a missing key to answer
    404 rather than 403 (put_once relies on the 404); a put with a retention date needs
    s3:PutObjectRetention; ListObjectVersions needs s3:ListBucketVersions. A presigned GET is
    made with the function's credentials, so the function needs s3:GetObject for the link.
    """

    def __init__(self, aws) -> None:
        self.names = {aws.documents_bucket: "DocumentsBucket", aws.checkpoints_bucket: "CheckpointsBucket"}
        self.needs: set[tuple[str, str, str | None, None]] = set()

    def record(self, model, params, **_: Any) -> None:
        bucket, key = self.names[params["Bucket"]], params.get("Key")
        actions = {
            "PutObject": ["s3:PutObject"],
            "HeadObject": ["s3:GetObject"],
            "GetObject": ["s3:GetObject"],
            "ListObjectVersions": [],
            "ListObjectsV2": [],
        }[model.name]
        for action in actions:
            self.needs.add((action, bucket, key, None))
        if model.name == "PutObject" and ("ObjectLockRetainUntilDate" in params or "ObjectLockMode" in params):
            self.needs.add(("s3:PutObjectRetention", bucket, key, None))
        if model.name in ("HeadObject", "ListObjectsV2"):
            self.needs.add(("s3:ListBucket", bucket, None, None))
        if model.name == "ListObjectVersions":
            self.needs.add(("s3:ListBucketVersions", bucket, None, None))

    @contextmanager
    def on(self, client) -> Iterator[S3Recorder]:
        client.meta.events.register("before-parameter-build.s3", self.record, unique_id="notfall-iam-s3")
        try:
            yield self
        finally:
            client.meta.events.unregister("before-parameter-build.s3", unique_id="notfall-iam-s3")


class KmsRecorder:
    """KMS requests of one client as (action, key logical id, None, None)."""

    def __init__(self, aws) -> None:
        self.names = {aws.signing_key: "LogSigningKey"}
        self.needs: set[tuple[str, str, None, None]] = set()

    def record(self, model, params, **_: Any) -> None:
        self.needs.add((f"kms:{model.name}", self.names[params["KeyId"]], None, None))

    @contextmanager
    def on(self, client) -> Iterator[KmsRecorder]:
        client.meta.events.register("before-parameter-build.kms", self.record, unique_id="notfall-iam-kms")
        try:
            yield self
        finally:
            client.meta.events.unregister("before-parameter-build.kms", unique_id="notfall-iam-kms")


@pytest.fixture
def drive(aws, template, api_event, lambda_context):
    """Runs each function through its real entry points and returns the recorded needs."""
    needs: dict[str, set] = {}
    intake = aws.load_function("intake")

    def call(path, body=None, method="POST", headers=None, status=(200, 201)):
        response = intake.handler(api_event(method, path, body=body, headers=headers), lambda_context)
        assert response["statusCode"] in status, response["body"]
        return json.loads(response["body"])

    def need(municipality: str, start: str, end: str) -> dict:
        return {
            "persons": [{"kind": "child", "age": 3}],
            "location": {"kind": "home"},
            "window": {"start": start, "expected_end": end},
            "reasons": ["accident"],
            "municipality": municipality,
        }

    with Recorder(aws, template).on(intake.wiring.client) as rec:
        event = {
            "type": "started",
            "call_id": "c1",
            "line": "hotline-1",
            "caller_number": "+49 30 1234567",
            "at": "2026-10-30T07:55:00Z",
        }
        case_id = call("/calls/events", event)["case_id"]
        call("/calls/events", {**event, "call_id": "c2", "at": "2026-10-30T08:55:00Z"})
        call(
            f"/cases/{case_id}/need",
            {
                "persons": [{"kind": "child", "age": 3}],
                "location": {"kind": "home"},
                "window": {"start": "2026-10-31T06:00:00Z", "expected_end": "2026-11-01T18:00:00Z"},
                "reasons": ["accident"],
                "municipality": "Berlin",
            },
        )
        close = {"reason": "done", "at": "2026-10-30T09:00:00Z"}
        call(f"/cases/{case_id}/close", close, headers={"Idempotency-Key": "close-1"})
        call(f"/cases/{case_id}/close", close, headers={"Idempotency-Key": "close-1"})  # retry, via the command table
        call(
            "/partners",
            {
                "partner_id": "acme",
                "kind": "company",
                "name": "ACME",
                "municipality": "Berlin",
                "joined_on": "2026-01-01",
                "employees": 10,
            },
        )
        # two emergencies for the care work below: one gets a caregiver, one nobody can take
        emergencies = []
        for n, window in enumerate(
            (("2026-10-27T07:00:00Z", "2026-10-27T12:00:00Z"), ("2026-10-28T01:00:00Z", "2026-10-28T03:00:00Z"))
        ):
            opened = call("/calls/events", {**event, "call_id": f"e{n}", "caller_number": f"+49 511 555010{n}"})
            call(f"/cases/{opened['case_id']}/need", need("hannover", *window))
            call(f"/cases/{opened['case_id']}/outcome", {"outcome": "care_need"})
            emergencies.append(opened["case_id"])
    needs["IntakeFunction"] = rec.needs

    # The care function: the register, offers, assignments, sessions, transport, a refused retry.
    assign = aws.load_function("assign")

    def care(path, body=None, method="POST", status=(200, 201), headers=None):
        response = assign.handler(api_event(method, path, body=body, headers=headers), lambda_context)
        assert response["statusCode"] in status, response["body"]
        return json.loads(response["body"])

    case_id_e = emergencies[0]
    profile = {
        "name": "Petra Sommerfeld",
        "qualification": "pedagogical",
        "certificate_level": 2,
        "age_groups": ["preschool", "infant"],
        "home_municipality": "hannover",
        "municipalities_served": ["hannover"],
        "drives": True,
        "offers_transport": True,
        "police_clearance_on": "2024-01-10",
        "first_aid_on": "2025-06-01",
    }
    weekdays = [{"weekday": d, "start": "06:00:00", "end": "18:00:00"} for d in range(7)]
    with Recorder(aws, template).on(assign.wiring.client) as rec:
        for cid in ("cg-a", "cg-b"):
            care("/caregivers", {"caregiver_id": cid, "profile": {**profile, "name": cid}, "weekly": weekdays})
        care("/caregivers/cg-a/profile", profile, method="PUT")
        care("/caregivers/cg-a/trainings", {"title": "Erste Hilfe", "kind": "further", "on": "2026-01-10", "days": 1})
        care("/caregivers/cg-a/availability/weekly", {"windows": weekdays}, method="PUT")
        care(
            "/caregivers/cg-a/availability/one-off",
            {"window_id": "w1", "start": "2026-10-31T08:00:00Z", "end": "2026-10-31T12:00:00Z"},
        )
        care("/caregivers/cg-a/availability/one-off/w1", method="DELETE")
        offer = care(f"/cases/{case_id_e}/offers", {"caregiver_id": "cg-b"})
        care(f"/caregivers/cg-b/cases/{case_id_e}/offers/{offer['offer_id']}/accept")
        care(f"/caregivers/cg-b/cases/{case_id_e}/check-in", {"at": "2026-10-27T07:00:00Z"})
        care(f"/caregivers/cg-b/cases/{case_id_e}/check-out", {"at": "2026-10-27T09:00:00Z", "travel_km": 5})
        session = care(
            f"/cases/{case_id_e}/sessions",
            {"caregiver_id": "cg-b", "start": "2026-10-27T10:00:00Z", "end": "2026-10-27T11:00:00Z"},
        )
        care(
            f"/cases/{case_id_e}/sessions/{session['session_id']}/correction",
            {"start": "2026-10-27T10:00:00Z", "end": "2026-10-27T11:30:00Z", "reason": "late"},
        )
        trip = care(
            f"/cases/{case_id_e}/transports",
            {"from_place": "Kita", "to_place": "home", "at": "2026-10-27T11:30:00Z", "driver_id": "cg-a"},
        )
        care(f"/cases/{case_id_e}/transports/{trip['transport_id']}/done", {"at": "2026-10-27T12:00:00Z", "km": 3})
        care(f"/cases/{case_id_e}/reassign", {"caregiver_id": "cg-a", "by": "staff", "reason": "ill"})
        care(
            f"/cases/{case_id_e}/cancel-assignment",
            {"by": "family", "reason": "done"},
            headers={"Idempotency-Key": "cancel-1"},
        )
        # the retry breaks a rule now (nothing to cancel): answered from the command table
        care(
            f"/cases/{case_id_e}/cancel-assignment",
            {"by": "family", "reason": "done"},
            headers={"Idempotency-Key": "cancel-1"},
        )
    needs["AssignFunction"] = rec.needs

    projector = aws.load_function("projector")
    with Recorder(aws, template).on(projector.wiring.client) as rec:
        for batch in aws.batches():
            assert projector.handler(batch, lambda_context) == {"batchItemFailures": []}
    needs["ProjectorFunction"] = rec.needs

    with Recorder(aws, template).on(intake.wiring.client) as rec:
        for path in (
            f"/cases/{case_id}",
            "/cases",
            "/callbacks",
            "/hours/2026-10",
            "/partners",
            "/partners/acme",
            "/openapi.json",
        ):
            call(path, method="GET", status=(200,))
        family = call(f"/cases/{case_id}", method="GET")["family_id"]
        call(f"/families/{family}/hours", method="GET", status=(200,))
    needs["IntakeFunction"] |= rec.needs

    with Recorder(aws, template).on(assign.wiring.client) as rec:
        for path in (
            f"/cases/{case_id_e}/candidates",
            "/caregivers",
            "/caregivers/cg-b",
            "/caregivers/cg-b/offers",
            "/caregivers/cg-b/assignments",
            "/caregivers/cg-b/hours",
            "/caregivers/cg-b/statements/2026-10",
            "/reports/transports/2026-10",
        ):
            care(path, method="GET", status=(200,))
        response = assign.handler(
            api_event("GET", "/reports/demand", {"from": "2026-10", "to": "2026-11"}), lambda_context
        )
        assert response["statusCode"] == 200, response["body"]
    needs["AssignFunction"] |= rec.needs

    # The sweep, with a target time of 0 so the second emergency is flagged unfilled at once.
    sweeper = aws.load_function("assign", CARE_TARGET_MINUTES="0")
    with Recorder(aws, template).on(sweeper.wiring.client) as rec:
        swept = sweeper.sweep_handler({}, lambda_context)
        assert swept["needs_flagged_unfilled"] >= 1 and swept["failed"] == [], swept
    needs["SweepFunction"] = rec.needs
    with Recorder(aws, template).on(projector.wiring.client) as rec:  # the sweep's events reach the read model
        for batch in aws.batches():
            assert projector.handler(batch, lambda_context) == {"batchItemFailures": []}
    needs["ProjectorFunction"] |= rec.needs

    def project() -> None:
        with Recorder(aws, template).on(projector.wiring.client) as rec:
            for batch in aws.batches():
                assert projector.handler(batch, lambda_context) == {"batchItemFailures": []}
        needs["ProjectorFunction"] |= rec.needs

    # Billing's registers through the intake function: tariffs, contracts, child counts,
    # billing details, a family's address (the family cared for in October, above).
    family = call(f"/cases/{case_id_e}", method="GET")["family_id"]

    def address(name: str) -> dict:
        return {"name": name, "street": "Lister Meile 12", "postcode": "30161", "city": "Hannover"}

    with Recorder(aws, template).on(intake.wiring.client) as rec:
        call("/tariffs/published", {})
        call("/tariffs", {"tier": "partner", "cents_per_hour": 350, "valid_from": "2027-01-01"})
        call("/tariffs", method="GET")
        call(
            "/partners/acme/contracts",
            {"contract_id": "rv-1", "fee_model": "monthly", "start": "2026-01-01", "monthly_fee_cents": 10000},
        )
        call("/partners/acme/billing", {"address": address("ACME")}, method="PUT")
        call(
            "/partners",
            {
                "partner_id": "garbsen",
                "kind": "municipality",
                "name": "Stadt Garbsen",
                "municipality": "garbsen",
                "joined_on": "2016-10-01",
                "inhabitants": 61000,
                "children_under_10": 5400,
            },
        )
        call("/partners/garbsen/contracts", {"contract_id": "rv-g", "fee_model": "per_child", "start": "2016-10-01"})
        call("/partners/garbsen/child-counts", {"year": 2025, "children_under_10": 5400})
        call(
            "/partners/garbsen/billing",
            {"address": address("Stadt Garbsen"), "buyer_reference": "03-1-2"},
            method="PUT",
        )
        call("/partners/garbsen/contracts/rv-g/end", {"end": "2030-12-31"})
        call(f"/families/{family}/billing-address", address("Familie Kaya"), method="PUT")
    needs["IntakeFunction"] |= rec.needs
    project()

    # The invoice function: runs by staff, the lists, documents, a payment, a credit note.
    invoice = aws.load_function("invoice")

    def bill(path, body=None, method="POST", query=None, status=(200, 201)):
        response = invoice.handler(api_event(method, path, query, body), lambda_context)
        assert response["statusCode"] in status, response["body"]
        return json.loads(response["body"])

    with Recorder(aws, template).on(invoice.wiring.client) as rec, S3Recorder(aws).on(invoice.s3) as s3_rec:
        family_run = bill("/invoice-runs", {"kind": "family", "period": "2026-10"})
        monthly = bill("/invoice-runs", {"kind": "partner-monthly", "period": "2026-10"})
        yearly = bill("/invoice-runs", {"kind": "partner-yearly", "period": "2025"})
        for report in (family_run, monthly, yearly):
            assert len(report["issued"]) == 1 and report["document_errors"] == [], report
        f_number, p_number = family_run["issued"][0]["number"], monthly["issued"][0]["number"]
        project()
        bill("/invoices", method="GET", query={"month": family_run["issue_date"][:7]})
        bill(f"/invoices/{f_number}", method="GET")
        links = bill(f"/invoices/{p_number}/documents", method="GET")
        bill(f"/invoices/{f_number}/payments", {"amount_cents": 100, "paid_on": family_run["issue_date"]})
        bill(f"/invoices/{p_number}/cancel", {"reason": "wrong fee"})
        project()
        bill(f"/debtors/{family}/open-items", method="GET")
    needs["InvoiceFunction"] = rec.needs | s3_rec.needs
    # the presigned links are made with the function's credentials: it needs GetObject on them
    keys = {f"invoices/{p_number.split('-')[1]}/{p_number}.{ext}" for ext in ("pdf", "xml")}
    assert all(unquote(urlsplit(links[ext]).path).endswith(f"{p_number}.{ext}") for ext in ("pdf", "xml"))
    assert {("s3:GetObject", "DocumentsBucket", key, None) for key in keys} <= needs["InvoiceFunction"]

    # The scheduled runs: the cancelled partner invoice's month is billed again; a document
    # hidden by a delete marker is found under it (its locked original stays).
    s3 = boto3.client("s3", region_name=REGION)
    s3.delete_object(Bucket=aws.documents_bucket, Key=f"invoices/{f_number.split('-')[1]}/{f_number}.pdf")
    runner = aws.load_function("invoice")
    with Recorder(aws, template).on(runner.wiring.client) as rec, S3Recorder(aws).on(runner.s3) as s3_rec:
        rerun = runner.run_handler({"kind": "partner-monthly", "period": "2026-10"}, lambda_context)
        assert [i["debtor_id"] for i in rerun["issued"]] == ["acme"], rerun
        again = runner.run_handler({"kind": "family", "period": "2026-10"}, lambda_context)
        assert again["issued"] == [] and again["document_errors"] == [] and len(again["already_billed"]) == 1, again
        runner.run_handler({"kind": "partner-yearly", "period": "previous"}, lambda_context)
    needs["InvoiceRunFunction"] = rec.needs | s3_rec.needs
    project()

    audit = aws.load_function("audit")
    with Recorder(aws, template).on(audit.wiring.client) as rec:
        response = audit.handler(api_event("GET", "/audit/events", {"limit": "3"}), lambda_context)
        assert response["statusCode"] == 200
        report = audit.handler(
            api_event("GET", "/reports/statistics", {"from": "2026-10", "to": "2026-10"}), lambda_context
        )
        assert report["statusCode"] == 200 and json.loads(report["body"])["figures"]["requests"] > 0, report
    needs["AuditFunction"] = rec.needs
    with Recorder(aws, template).on(audit.wiring.client) as rec:
        assert audit.replay_check_handler({}, lambda_context)["differing"] == []
    needs["ReplayCheckFunction"] = rec.needs
    # The hourly checkpoint, then the auditors' export, checkpoints and key (issue 12).
    sealer = aws.load_function("audit")
    with (
        Recorder(aws, template).on(sealer.wiring.client) as rec,
        S3Recorder(aws).on(sealer.checkpoints.s3) as s3_rec,
        KmsRecorder(aws).on(sealer.checkpoints.kms) as kms_rec,
    ):
        sealed = sealer.checkpoint_handler({}, lambda_context)
        assert sealed["sealed"] is True, sealed
    needs["CheckpointFunction"] = rec.needs | s3_rec.needs | kms_rec.needs
    with (
        Recorder(aws, template).on(audit.wiring.client) as rec,
        S3Recorder(aws).on(audit.checkpoints.s3) as s3_rec,
        KmsRecorder(aws).on(audit.checkpoints.kms) as kms_rec,
    ):
        for path, query in (
            ("/audit/export", {"from": "1", "limit": "5"}),
            ("/audit/checkpoints", None),
            (f"/audit/checkpoints/{sealed['position']}", None),
            ("/audit/public-key", None),
        ):
            response = audit.handler(api_event("GET", path, query), lambda_context)
            assert response["statusCode"] == 200, response["body"]
    needs["AuditFunction"] |= rec.needs | s3_rec.needs | kms_rec.needs
    return needs


def test_every_request_of_every_function_is_allowed_by_its_policy(template, drive):
    for function_id, needs in drive.items():
        print(f"\n{function_id}: " + ", ".join(sorted({f"{a} {t}{'/' + i if i else ''}" for a, t, i, _ in needs})))
    for function_id, needs in drive.items():
        assert needs, f"{function_id} made no DynamoDB request"
        assert denied(template, function_id, needs) == [], function_id
    # The recording saw the paths that matter, so the check above means something.
    actions = {fid: {n[0] for n in needs} for fid, needs in drive.items()}
    assert actions["IntakeFunction"] >= {"Query", "GetItem", "PutItem", "UpdateItem", "ConditionCheckItem"}
    assert actions["ProjectorFunction"] >= {"Query", "GetItem", "PutItem"}
    assert ("Query", "EventStoreTable", "GlobalOrder", None) in drive["AuditFunction"]
    assert {(n[0], n[1], n[2]) for n in drive["AuditFunction"]} >= {
        ("Query", "ReadModelTable", None),  # the statistics report's cases of the month
        ("Query", "EventStoreTable", None),  # and its partner streams
    }
    assert ("Scan", "ReadModelTable", None, None) in drive["ReplayCheckFunction"]
    assert {("kms:Sign", "LogSigningKey", None, None), ("GetItem", "EventStoreTable", None, "$log")} <= drive[
        "CheckpointFunction"
    ]
    assert ("kms:GetPublicKey", "LogSigningKey", None, None) in drive["AuditFunction"]
    assert actions["AssignFunction"] >= {"Query", "GetItem", "PutItem", "UpdateItem", "ConditionCheckItem"}
    # the retried cancel's first answer: its key is stored scoped to the caller and hashed
    assert any(n[:3] == ("GetItem", "CommandsTable", None) and n[3].startswith("key-") for n in drive["AssignFunction"])
    assert ("Query", "ReadModelTable", "Queue", None) in drive["SweepFunction"]
    assert actions["SweepFunction"] >= {"Query", "GetItem", "PutItem", "UpdateItem", "ConditionCheckItem"}
    writes = {"Query", "GetItem", "PutItem", "UpdateItem", "ConditionCheckItem"}
    documents = {"s3:PutObject", "s3:PutObjectRetention", "s3:GetObject", "s3:ListBucket"}
    assert actions["InvoiceFunction"] >= writes | documents
    assert actions["InvoiceRunFunction"] >= writes | documents | {"s3:ListBucketVersions"}
    # the projector follows invoices and families' addresses too
    assert {n[3].split("#")[0] for n in drive["ProjectorFunction"] if n[0] == "GetItem"} >= {
        "invoice",
        "family-billing",
        "partner",
        "case",
    }


def test_the_check_catches_a_missing_permission(template, drive):
    """The counter's UpdateItem is allowed only on the "$log" leading key: an update of an
    event item, or a read of the read model by the audit function, is denied."""
    assert denied(template, "IntakeFunction", {("UpdateItem", "EventStoreTable", None, "case-x")})
    assert denied(template, "AuditFunction", {("GetItem", "ReadModelTable", None, "case#x")})
    assert not denied(template, "IntakeFunction", {("UpdateItem", "EventStoreTable", None, "$log")})
    # The care function and the sweep get what they use and no more.
    assert denied(template, "AssignFunction", {("UpdateItem", "EventStoreTable", None, "caregiver-x")})
    assert denied(template, "AssignFunction", {("Query", "ReadModelTable", "Queue", None)})
    assert denied(template, "SweepFunction", {("GetItem", "ReadModelTable", None, "case#x")})
    assert denied(template, "SweepFunction", {("UpdateItem", "EventStoreTable", None, "case-x")})
    # Documents are never deleted nor written elsewhere; only the invoice functions see them.
    pdf = "invoices/2026/F-2026-00001.pdf"
    assert not denied(template, "InvoiceFunction", {("s3:PutObject", "DocumentsBucket", pdf, None)})
    for function_id in ("InvoiceFunction", "InvoiceRunFunction"):
        assert denied(template, function_id, {("s3:DeleteObject", "DocumentsBucket", pdf, None)})
        assert denied(template, function_id, {("s3:BypassGovernanceRetention", "DocumentsBucket", pdf, None)})
        assert denied(template, function_id, {("s3:PutObject", "DocumentsBucket", "elsewhere/x.pdf", None)})
    for function_id in ("IntakeFunction", "AssignFunction", "ProjectorFunction", "AuditFunction"):
        assert denied(template, function_id, {("s3:GetObject", "DocumentsBucket", pdf, None)})
    assert denied(template, "InvoiceRunFunction", {("GetItem", "ReadModelTable", None, "invoice#F-2026-00001")})
