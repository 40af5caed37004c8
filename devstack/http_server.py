"""A small threaded HTTP server base shared by the stand-ins (loopback only)."""

from __future__ import annotations

import errno
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class PortBusy(RuntimeError):
    def __init__(self, host: str, port: int, what: str) -> None:
        super().__init__(
            f"port {port} on {host} is already in use, so the {what} cannot start; stop whatever holds it"
        )


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Many short-lived local clients; the default backlog of 5 drops connections under load tests.
    request_queue_size = 128

    def __init__(
        self, port: int, handler: type[BaseHTTPRequestHandler], what: str, host: str = "127.0.0.1"
    ) -> None:
        try:
            super().__init__((host, port), handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortBusy(host, port, what) from None
            raise
        self.what = what
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(target=self.serve_forever, name=self.what, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, a keep-alive client waits for the
    # delayed ACK (~40 ms a request). Measured in benchmarks/README.md.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the stand-ins report through their own counters, not access logs."""

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
