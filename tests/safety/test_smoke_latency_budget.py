"""A smoke check passes only with the exact expected status and within its latency budget, even when the answer
did arrive (docs/progressive-delivery.md). Servers run on 127.0.0.1; the measured latency is injected, so no test
depends on how fast this machine is."""
from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from bgruntime import smoke_checks
from tests.safety.lambda_modules import smoke_tests

runner = smoke_tests("runner")
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3


class Handler(BaseHTTPRequestHandler):
    STATUS = {"/health": 200, "/created": 201, "/missing": 404, "/moved": 302}

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(self.STATUS.get(self.path, 500))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def ws_url() -> Iterator[str]:
    """Answers every WebSocket upgrade correctly (101 + Sec-WebSocket-Accept), then waits for the close."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(5)
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    request += chunk
                key = next((line.split(":", 1)[1].strip() for line in request.decode("latin-1").split("\r\n")
                            if line.lower().startswith("sec-websocket-key:")), "")
                accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
                connection.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                    f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
                try:
                    connection.recv(1024)  # the client's close frame
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    listener.close()


def check(spec: dict, base_url: str, *, measured_ms: int | None, monkeypatch) -> "runner.CheckResult":
    if measured_ms is not None:
        monkeypatch.setattr(runner._Attempt, "elapsed_ms", lambda self: measured_ms)
    [parsed] = smoke_checks.parse_checks([spec])
    return runner.run_check(parsed, runner.parse_base_url(base_url), timeout=10.0)


def test_an_answer_that_closes_the_connection_is_checked_like_any_other(http_url, monkeypatch):
    """This server speaks HTTP/1.0 (the connection closes after the answer): http.client then drops `conn.sock`,
    which the runner must not need any more (it used to fail every such check with an AttributeError)."""
    result = check({"name": "health", "path": "/health", "expectJson": {"status": "ok"}}, http_url, measured_ms=None,
                   monkeypatch=monkeypatch)
    assert (result.passed, result.status) == (True, 200), result.detail


@pytest.mark.parametrize(("measured_ms", "passed", "detail"), [
    (1000, True, "HTTP 200 in 1000 ms"),
    (1001, False, "took 1001 ms, budget 1000 ms"),
    (4000, False, "took 4000 ms, budget 1000 ms"),
])
def test_an_http_answer_slower_than_its_budget_fails(http_url, monkeypatch, measured_ms, passed, detail):
    result = check({"name": "health", "path": "/health", "expectJson": {"status": "ok"}, "latencyBudgetMs": 1000},
                   http_url, measured_ms=measured_ms, monkeypatch=monkeypatch)
    assert (result.passed, result.status, result.latency_ms, result.detail) == (passed, 200, measured_ms, detail)


@pytest.mark.parametrize(("measured_ms", "passed", "detail"), [
    (500, True, "upgraded in 500 ms"),
    (501, False, "took 501 ms, budget 500 ms"),
])
def test_a_websocket_upgrade_slower_than_its_budget_fails(ws_url, monkeypatch, measured_ms, passed, detail):
    result = check({"name": "ws", "kind": "websocket", "path": "/ws", "latencyBudgetMs": 500}, ws_url,
                   measured_ms=measured_ms, monkeypatch=monkeypatch)
    assert (result.passed, result.status, result.detail) == (passed, 101, detail)


@pytest.mark.parametrize(("path", "status"), [("/created", 201), ("/missing", 404), ("/moved", 302)])
def test_any_other_status_than_the_expected_one_fails(http_url, monkeypatch, path, status):
    result = check({"name": "health", "path": path}, http_url, measured_ms=None, monkeypatch=monkeypatch)
    assert (result.passed, result.status, result.detail) == (False, status, f"expected status 200, got {status}")
