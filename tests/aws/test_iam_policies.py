"""Every DynamoDB request each Lambda makes is allowed by that function's policy in
template.yaml: action, table or index ARN, and the LeadingKeys condition. moto enforces no
IAM, so the requests are recorded here (through the handlers, driven by API events, stream
batches and the schedule) and checked against the template's statements - a missing
permission fails here instead of as AccessDenied after a deployment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from infra.local.template import TABLE, Template

_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def _resource(ref: Any) -> tuple[str, str | None]:
    """(table logical id, index name or None) of `!GetAtt T.Arn` or `!Sub "${T.Arn}/index/I"`."""
    if "Fn::GetAtt" in ref:
        table, attribute = ref["Fn::GetAtt"]
        assert attribute == "Arn"
        return table, None
    text = ref["Fn::Sub"]
    assert text.startswith("${") and ".Arn}/index/" in text, text
    table, _, index = text[2:].partition(".Arn}/index/")
    return table, index


def statements(template: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    out = []
    for policy in template["Resources"][function_id]["Properties"].get("Policies", []):
        for st in policy["Statement"]:
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            out.append({"actions": set(st["Action"]), "resources": {_resource(r) for r in resources},
                        "condition": st.get("Condition"), "effect": st["Effect"]})
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
        self.hash_keys = {lid: next(k["AttributeName"] for k in r["Properties"]["KeySchema"] if k["KeyType"] == "HASH")
                          for lid, r in Template(template).of_type(TABLE).items()}
        self.needs: set[tuple[str, str, str | None, str | None]] = set()

    def _leading(self, table: str, key: dict[str, Any] | None) -> str | None:
        value = (key or {}).get(self.hash_keys[table])
        return next(iter(value.values())) if value else None

    def record(self, model, params, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                kind, body = next(iter(item.items()))
                table = self.names[body["TableName"]]
                self.needs.add((_ITEM_ACTIONS[kind], table, None, self._leading(table, body.get("Key") or body["Item"])))
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
    return {"EventStoreTable": aws.events_table, "CommandsTable": aws.commands_table,
            "ReadModelTable": aws.read_model_table}


def denied(template, function_id: str, needs) -> list[tuple]:
    allows = [s for s in statements(template, function_id) if s["effect"] == "Allow"]
    return sorted(
        need for need in needs
        if not any(f"dynamodb:{need[0]}" in s["actions"] and (need[1], need[2]) in s["resources"]
                   and _condition_holds(s["condition"], need[3]) for s in allows)
    )


@pytest.fixture
def drive(aws, template, api_event, lambda_context):
    """Runs each function through its real entry points and returns the recorded needs."""
    needs: dict[str, set] = {}
    intake = aws.load_function("intake")

    def call(path, body=None, method="POST", headers=None, status=(200, 201)):
        response = intake.handler(api_event(method, path, body=body, headers=headers), lambda_context)
        assert response["statusCode"] in status, response["body"]
        return json.loads(response["body"])

    with Recorder(aws, template).on(intake.wiring.client) as rec:
        event = {"type": "started", "call_id": "c1", "line": "hotline-1", "caller_number": "+49 30 1234567",
                 "at": "2026-10-30T07:55:00Z"}
        case_id = call("/calls/events", event)["case_id"]
        call("/calls/events", {**event, "call_id": "c2", "at": "2026-10-30T08:55:00Z"})
        call(f"/cases/{case_id}/need", {"persons": [{"kind": "child", "age": 3}], "location": {"kind": "home"},
                                        "window": {"start": "2026-10-31T06:00:00Z",
                                                   "expected_end": "2026-11-01T18:00:00Z"},
                                        "reasons": ["accident"], "municipality": "Berlin"})
        close = {"reason": "done", "at": "2026-10-30T09:00:00Z"}
        call(f"/cases/{case_id}/close", close, headers={"Idempotency-Key": "close-1"})
        call(f"/cases/{case_id}/close", close, headers={"Idempotency-Key": "close-1"})  # retry, via the command table
        call("/partners", {"partner_id": "acme", "kind": "company", "name": "ACME", "municipality": "Berlin",
                           "joined_on": "2026-01-01", "employees": 10})
    needs["IntakeFunction"] = rec.needs

    projector = aws.load_function("projector")
    with Recorder(aws, template).on(projector.wiring.client) as rec:
        for batch in aws.batches():
            assert projector.handler(batch, lambda_context) == {"batchItemFailures": []}
    needs["ProjectorFunction"] = rec.needs

    with Recorder(aws, template).on(intake.wiring.client) as rec:
        for path in (f"/cases/{case_id}", "/cases", "/callbacks", "/hours/2026-10", "/partners", "/partners/acme",
                     "/openapi.json"):
            call(path, method="GET", status=(200,))
        family = call(f"/cases/{case_id}", method="GET")["family_id"]
        call(f"/families/{family}/hours", method="GET", status=(200,))
    needs["IntakeFunction"] |= rec.needs

    audit = aws.load_function("audit")
    with Recorder(aws, template).on(audit.wiring.client) as rec:
        response = audit.handler(api_event("GET", "/audit/events", {"limit": "3"}), lambda_context)
        assert response["statusCode"] == 200
    needs["AuditFunction"] = rec.needs
    with Recorder(aws, template).on(audit.wiring.client) as rec:
        assert audit.replay_check_handler({}, lambda_context)["differing"] == []
    needs["ReplayCheckFunction"] = rec.needs
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
    assert ("Scan", "ReadModelTable", None, None) in drive["ReplayCheckFunction"]


def test_the_check_catches_a_missing_permission(template, drive):
    """The counter's UpdateItem is allowed only on the "$log" leading key: an update of an
    event item, or a read of the read model by the audit function, is denied."""
    assert denied(template, "IntakeFunction", {("UpdateItem", "EventStoreTable", None, "case-x")})
    assert denied(template, "AuditFunction", {("GetItem", "ReadModelTable", None, "case#x")})
    assert not denied(template, "IntakeFunction", {("UpdateItem", "EventStoreTable", None, "$log")})
