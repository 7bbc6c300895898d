# Proves the OpenAPI document lists every status an operation can answer, errors with the body they really have.
from __future__ import annotations

from typing import Any

import pytest
from api_harness import Api

COMMANDS = ("post", "put", "patch", "delete")


@pytest.fixture
def doc(api: Api) -> dict[str, Any]:
    reply = api.call("openapi")
    assert reply.status == 200
    return reply.body


def _operations(doc: dict[str, Any]):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_every_operation_documents_the_statuses_it_can_answer(doc: dict[str, Any]) -> None:
    for path, method, op in _operations(doc):
        statuses = set(op["responses"])
        assert "422" in statuses, (path, method)
        assert {"401", "403"} <= statuses, (path, method)  # every documented route needs a sign-in
        if "requestBody" in op:
            assert {"400", "415", "422"} <= statuses, (path, method)
        if "{" in path or "requestBody" in op:
            assert "404" in statuses, (path, method)
        if method in COMMANDS:
            assert "409" in statuses, (path, method)
        else:
            assert "409" not in statuses, (path, method)


def test_errors_are_documented_with_the_body_they_have(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["Problem"]["required"] == ["message", "errors"]
    assert schemas["Problem"]["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/ProblemField"}
    assert schemas["ProblemField"]["required"] == ["field", "problem"]
    assert "HTTPValidationError" not in schemas  # powertools' own 422 body, which the API never sends
    for path, method, op in _operations(doc):
        for status, response in op["responses"].items():
            if status.startswith("4"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (path, method, status)


def test_created_and_joined_are_told_apart(doc: dict[str, Any]) -> None:
    success = {(p, m): {s for s in op["responses"] if s.startswith("2")} for p, m, op in _operations(doc)}
    assert success[("/partners", "post")] == {"201"}
    assert success[("/caregivers/{caregiver_id}/trainings", "post")] == {"201"}
    assert success[("/calls/events", "post")] == {"200", "201"}  # 201 opened a case, 200 joined one
    assert success[("/partners/{partner_id}/billing", "put")] == {"200"}
    assert success[("/cases/{case_id}", "get")] == {"200"}


def test_the_csv_statement_is_documented(doc: dict[str, Any]) -> None:
    content = doc["paths"]["/caregivers/{caregiver_id}/statements/{month}"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv"}


def test_a_created_answer_is_201_as_documented(api: Api) -> None:
    assert api.call("partner_register").status == 201
