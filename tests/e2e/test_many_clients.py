"""Many clients connect to the local stack at once, as a phone system's or a load test's do."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

CLIENTS = 64


def test_64_clients_connected_at_once_are_each_let_in_and_answered(stack):
    """All connect before any is answered. The kernel completes a connection at once while the
    listen queue has room; beyond it (it held 5) a client waits for a resend after a second or
    more, or is reset. So each connection must be made within 0.9 s, then each gets its answer."""
    parts = urlsplit(stack.url)
    clients = []
    try:
        for _ in range(CLIENTS):
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=0.9)
            clients.append(conn)
            conn.connect()
        answers = []
        for conn in clients:
            conn.sock.settimeout(60)  # answers come one function call at a time
            conn.request("GET", "/openapi.json")
        for conn in clients:
            response = conn.getresponse()
            response.read()
            answers.append(response.status)
    finally:
        for conn in clients:
            conn.close()
    assert answers == [200] * CLIENTS
