"""A local HTTP SMS provider for tests: records each request and answers according to ``mode``.

Modes: ``ok`` (200 with a small JSON body), ``500``, ``401``, ``slow`` (waits ``slow_s`` before answering).
It listens on 127.0.0.1 on a free port; :attr:`SimSmsProvider.url` is the endpoint.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class SimSmsProvider:
    def __init__(self, mode: str = "ok", slow_s: float = 5.0) -> None:
        self.mode = mode
        self.slow_s = slow_s
        self.requests: list[RecordedRequest] = []
        self._closing = threading.Event()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                provider.requests.append(
                    RecordedRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                mode = provider.mode
                if mode == "slow":
                    provider._closing.wait(provider.slow_s)
                status, payload = {
                    "ok": (200, b'{"status":"queued"}'),
                    "slow": (200, b'{"status":"queued"}'),
                    "500": (500, b'{"error":"internal"}'),
                    "401": (401, b'{"error":"unauthorized"}'),
                }[mode]
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (slow mode)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1/sms"
        self._thread = threading.Thread(target=self._serve, name="sim-sms-http", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    def __enter__(self) -> SimSmsProvider:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
