# Proves the events/api samples are API Gateway REST proxy requests, one or more for every API route of template.yaml.
from __future__ import annotations

import json
import re

import pytest
from api_harness import Route, sample, sample_names, template_routes

from notfall.domain.commands import CallEventIn

REQUIRED = {
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
    "body",
    "isBase64Encoded",
}
CONTEXT = {"resourcePath", "httpMethod", "requestId", "stage", "identity", "path", "accountId", "apiId"}


def _route_of(event: dict) -> tuple[str, str]:
    return event["resource"], event["httpMethod"]


@pytest.mark.parametrize("name", sample_names())
def test_sample_has_the_shape_api_gateway_delivers(name: str) -> None:
    event = sample(name)
    assert event.keys() >= REQUIRED
    ctx = event["requestContext"]
    assert ctx.keys() >= CONTEXT
    assert ctx["resourcePath"] == event["resource"]
    assert ctx["httpMethod"] == event["httpMethod"]
    assert ctx["path"] == f"/{ctx['stage']}{event['path']}"
    assert isinstance(ctx["identity"], dict) and ctx["identity"]["sourceIp"]
    assert event["isBase64Encoded"] is False
    # the path is the resource with the path parameters filled in
    params = event["pathParameters"] or {}
    assert set(re.findall(r"\{(\w+)\}", event["resource"])) == set(params)
    assert re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], event["resource"]) == event["path"]
    # single and multi-value forms agree, as API Gateway fills both
    assert event["multiValueHeaders"] == {k: [v] for k, v in event["headers"].items()}
    query = event["queryStringParameters"]
    assert event["multiValueQueryStringParameters"] == ({k: [v] for k, v in query.items()} if query else None)
    # the body is a JSON string on POST and PUT, and absent on GET and DELETE
    if event["httpMethod"] in ("POST", "PUT"):
        assert isinstance(event["body"], str) and isinstance(json.loads(event["body"]), dict)
        assert event["headers"]["Content-Type"] == "application/json"
    else:
        assert event["body"] is None


@pytest.mark.parametrize("name", sample_names())
def test_sample_targets_a_route_of_the_template(name: str) -> None:
    declared = {(r.path, r.method) for r in template_routes()}
    assert _route_of(sample(name)) in declared


def test_every_route_of_the_template_has_a_sample() -> None:
    covered = {_route_of(sample(n)) for n in sample_names()}
    missing = [r for r in template_routes() if (r.path, r.method) not in covered]
    assert missing == []


def test_call_samples_cover_every_call_event_type() -> None:
    types = {json.loads(sample(n)["body"])["type"] for n in sample_names() if sample(n)["resource"] == "/calls/events"}
    assert types == set(CallEventIn.model_fields["type"].annotation.__args__)


def test_outcome_samples_cover_every_outcome() -> None:
    outcomes = {
        json.loads(sample(n)["body"])["outcome"]
        for n in sample_names()
        if sample(n)["resource"] == "/cases/{case_id}/outcome"
    }
    assert outcomes == {"care_need", "advice", "referral"}


def test_samples_use_hannover_region_callers() -> None:
    numbers = {
        json.loads(sample(n)["body"]).get("caller_number")
        for n in sample_names()
        if sample(n)["resource"] == "/calls/events"
    }
    # 0511 Hannover, 05131 Garbsen: international format, as the phone system reports them
    assert numbers and all(re.fullmatch(r"\+49 51\d{1,2} \d{5,8}", n) for n in numbers)


def test_loader_moves_path_parameters_and_keeps_the_sample_intact() -> None:
    event = sample(
        "need",
        case_id="abc123def456",
        headers={"Idempotency-Key": "k-1", "Accept": None},
        body={"x": 1},
        query={"limit": "3"},
    )
    assert event["path"] == "/cases/abc123def456/need"
    assert event["pathParameters"] == {"case_id": "abc123def456"}
    assert event["requestContext"]["path"] == "/v1/cases/abc123def456/need"
    assert event["headers"]["Idempotency-Key"] == "k-1" and event["multiValueHeaders"]["Idempotency-Key"] == ["k-1"]
    assert "Accept" not in event["headers"] and "Accept" not in event["multiValueHeaders"]
    assert json.loads(event["body"]) == {"x": 1}
    assert event["multiValueQueryStringParameters"] == {"limit": ["3"]}
    fresh = sample("need")
    assert fresh["pathParameters"] == {"case_id": "5e0c2b7a91d4"} and "Idempotency-Key" not in fresh["headers"]


def test_template_routes_are_read_from_every_function() -> None:
    functions = {r.function for r in template_routes()}
    assert {"IntakeFunction", "AuditFunction"} <= functions
    assert Route("AuditFunction", "functions/audit/", "/audit/events", "GET") in template_routes()
