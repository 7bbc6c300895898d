"""A tiny JSON-over-HTTP client (urllib) for the demo loader, the CLI and the e2e tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def call(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, Any]:
    """(status, parsed JSON body or text); HTTP errors are answers too, not exceptions."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")
