"""The local HTTP server: API Gateway routes from the template, plus /_local tools for developers."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from infra.local.apigw import HttpResponse

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

log = logging.getLogger("infra.local.http")


def json_response(status: int, body: Any) -> HttpResponse:
    return HttpResponse(
        status, [("Content-Type", "application/json")], json.dumps(body, indent=2, default=str).encode()
    )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway offers

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            response = self.server.stack.handle(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0]
            )
        except Exception as err:  # a handler that raises is a 502 in API Gateway too
            log.exception("%s %s failed", self.command, self.path)
            response = json_response(502, {"message": "Internal server error", "error": repr(err)})
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], stack: LocalStack) -> None:
        super().__init__(address, _Handler)
        self.stack = stack


class HttpServer:
    def __init__(self, stack: LocalStack, host: str, port: int) -> None:
        self._server = _Server((host, port), stack)
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever, which may never have run
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
