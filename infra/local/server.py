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
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True  # the rest of the stream cannot be framed
            bad = [{"field": "header.Content-Length", "problem": "not a whole number"}]
            return self._send(json_response(400, {"message": "bad Content-Length", "errors": bad}))
        body = self.rfile.read(length) if length > 0 else b""
        try:
            response = self.server.stack.handle(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0]
            )
        except Exception:  # a handler that raises is a 502 in API Gateway too, without the exception's text
            log.exception("%s %s failed", self.command, self.path)
            response = json_response(502, {"message": "Internal server error"})
        self._send(response)

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The server's own refusals (a method it does not know, a malformed request line) in JSON
        like every other answer, not http.server's HTML; an unknown method is 405, not 501."""
        status = 405 if code == 501 else code
        problem = message or "the request is malformed"
        field = "method" if status == 405 else "request"
        self.close_connection = True
        self._send(json_response(status, {"message": problem, "errors": [{"field": field, "problem": problem}]}))

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 made the 6th of many clients connecting at once wait or be reset

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
