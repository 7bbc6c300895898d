# Proves the edge (make_resolver) answers every malformed request with a 4xx JSON problem and writes nothing.
from __future__ import annotations

import base64
import json

import pytest
from api_harness import Api, sample, sample_body

ROUTES = ["call_started", "need", "consultation", "close", "partner_register", "family_billing_address"]


@pytest.fixture
def case_id(api: Api) -> str:
    return api.open_case()


def _problem(api: Api, event: dict, status: int, field: str) -> None:
    before = api.log_length()
    reply = api.send(event)
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.body["message"]
    assert reply.fields() == [field], reply.body
    assert api.log_length() == before


def _raw_body(name: str, case_id: str, raw: bytes, content_type: str | None = "application/json") -> dict:
    """The sample request carrying `raw` bytes, base64-encoded as API Gateway passes bytes that are not text."""
    event = sample(name, case_id=case_id, headers={"Content-Type": content_type})
    event["body"] = base64.b64encode(raw).decode("ascii")
    event["isBase64Encoded"] = True
    return event


@pytest.mark.parametrize("name", ROUTES)
def test_body_that_is_not_utf8_is_400(api: Api, case_id: str, name: str) -> None:
    raw = json.dumps(sample_body(name)).encode("utf-8").replace(b"{", b"{\xff\xfe", 1)
    _problem(api, _raw_body(name, case_id, raw), 400, "body")


def test_json_nested_100000_deep_is_400(api: Api, case_id: str) -> None:
    _problem(api, sample("close", case_id=case_id, body="[" * 100_000 + "]" * 100_000), 400, "body")
    _problem(api, sample("close", case_id=case_id, body='{"a":' * 100_000 + "1" + "}" * 100_000), 400, "body")


def test_json_nested_65_deep_is_400_but_brackets_in_strings_do_not_count(api: Api, case_id: str) -> None:
    _problem(api, sample("close", case_id=case_id, body="[" * 65 + "]" * 65), 400, "body")
    note = {**sample_body("close"), "reason": '[[{"' * 40}
    assert api.call("close", case_id=case_id, body=note).status == 200


def test_5000_digit_number_is_refused(api: Api) -> None:
    body = json.dumps(sample_body("call_started"))[:-1] + ', "extra": ' + "7" * 5000 + "}"
    _problem(api, sample("call_started", body=body), 400, "body")
    body = json.dumps(sample_body("call_started"))[:-1] + ', "extra": 1.' + "7" * 5000 + "}"
    _problem(api, sample("call_started", body=body), 400, "body")


@pytest.mark.parametrize(
    "content_type",
    [None, "", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/json"],
)
def test_body_without_json_content_type_is_415(api: Api, case_id: str, content_type: str | None) -> None:
    event = sample("close", case_id=case_id, headers={"Content-Type": content_type})
    _problem(api, event, 415, "header.Content-Type")


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_json_content_type_with_or_without_charset_is_accepted(api: Api, case_id: str, content_type: str) -> None:
    assert api.call("close", case_id=case_id, headers={"Content-Type": content_type}).status == 200


def test_json_in_another_charset_is_415(api: Api, case_id: str) -> None:
    event = sample("close", case_id=case_id, headers={"Content-Type": "application/json; charset=latin-1"})
    _problem(api, event, 415, "header.Content-Type")


def test_request_without_body_needs_no_content_type(api: Api, case_id: str) -> None:
    api.project()
    reply = api.call("get_case", case_id=case_id, headers={"Content-Type": None})
    assert reply.status == 200, reply.body


def test_idempotency_key_over_255_characters_is_still_422(api: Api) -> None:
    reply = api.call("partner_register", headers={"Idempotency-Key": "k" * 3000})
    assert reply.status == 422, reply.body
    assert api.log_length() == 0


def test_an_unexpected_exception_is_a_json_500_without_its_text(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("detail of the failure")

    monkeypatch.setattr(api.store, "append", broken)
    reply = api.call("call_started")
    assert reply.status == 500
    assert reply.headers["Content-Type"] == "application/json"
    assert "detail" not in json.dumps(reply.body) and "RuntimeError" not in json.dumps(reply.body)
    assert reply.fields() == ["request"]
