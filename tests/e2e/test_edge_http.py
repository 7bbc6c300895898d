"""The local stack's own edge, over raw HTTP: malformed requests answer 4xx JSON and write nothing."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e


def send(url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    """(status, Content-Type, raw body): bytes exactly as given, no client-side checks."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


CALL = {
    "type": "started",
    "call_id": "e2e-edge",
    "line": "hotline-1",
    "caller_number": "+49 511 0",
    "at": "2026-11-02T08:00:00Z",
}
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        pytest.param(json.dumps(CALL).encode().replace(b"{", b"{\xff", 1), JSON, 400, id="not UTF-8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, JSON, 400, id="nested 100000 deep"),
        pytest.param(json.dumps(CALL).encode()[:-1] + b', "n": ' + b"9" * 5000 + b"}", JSON, 400, id="5000 digits"),
        pytest.param(json.dumps(CALL).encode(), {}, 415, id="no Content-Type"),
        pytest.param(
            b"type=started&call_id=e2e-edge", {"Content-Type": "application/x-www-form-urlencoded"}, 415, id="form"
        ),
        pytest.param(json.dumps(CALL).encode(), {"Content-Type": "text/plain"}, 415, id="text/plain"),
        pytest.param(json.dumps(CALL).encode(), {**JSON, "Idempotency-Key": "k" * 3000}, 422, id="key of 3000"),
    ],
)
def test_malformed_requests_answer_4xx_json_and_write_nothing(api, body, headers, status):
    before = api.audit_count()
    signed = {**headers, "Authorization": api.token("phone-system")}  # past the authorizer, to the function
    got, content_type, raw = send(api.url, "POST", "/calls/events", body, signed)
    assert got == status, raw[:500]
    assert content_type == "application/json"
    answer = json.loads(raw)
    assert answer["message"] and answer["errors"][0]["field"]
    assert "Error" not in raw.decode()  # no Python exception text
    api.stack.drain()
    assert api.audit_count() == before


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
def test_unknown_methods_answer_json(api, method):
    status, content_type, raw = send(api.url, method, "/cases")
    assert status in (404, 405), raw
    assert content_type == "application/json"
    assert json.loads(raw)["errors"]


def test_a_broken_content_length_answers_400_json(api):
    status, content_type, raw = send(api.url, "POST", "/calls/events", b"{}", {**JSON, "Content-Length": "zwei"})
    assert status == 400, raw
    assert content_type == "application/json"
    assert json.loads(raw)["errors"] == [{"field": "header.Content-Length", "problem": "not a whole number"}]


def test_a_failure_answers_json_without_exception_text(api, monkeypatch):
    def broken(*_args):
        raise RuntimeError("secret detail /home/x/y.py")

    monkeypatch.setattr(api.stack, "handle", broken)
    status, content_type, raw = send(api.url, "GET", "/cases")
    assert status == 502
    assert content_type == "application/json"
    assert json.loads(raw) == {"message": "Internal server error"}
