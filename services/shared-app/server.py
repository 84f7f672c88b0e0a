"""A minimal domain service for the Blue/Green platform: one image serves every default domain.

Standard library only. Listens on $PORT (default 8080) and serves what the platform checks:
- GET  /health                  200 {"status": "ok", ...}   (ALB/ECS health check path)
- POST /v1/tokens               201 {"token_type": "Bearer", ...}        (auth smoke check)
- POST /v1/orders               201 {"status": "CREATED", ...}           (order smoke check)
- POST /v1/payments/authorize   200 {"result": "AUTHORIZED", ...}        (payment smoke check)
- GET  /v1/stream               WebSocket (RFC 6455) echo                (voice smoke check)
$DOMAIN names the domain in answers and logs; $VERSION (the image tag) is reported by /health.
SIGTERM stops accepting, tells open WebSocket sessions "going away" (1001) and exits.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
for _root in (HERE, HERE.parent):  # in the image: /app/_lib; in the repository: services/_lib
    if (_root / "_lib").is_dir():
        sys.path.insert(0, str(_root))
        break

from _lib import websocket  # noqa: E402

MAX_BODY_BYTES = 64 * 1024


def _json_body(handler: "Handler") -> dict[str, Any] | None:
    length = int(handler.headers.get("Content-Length") or 0)
    if length > MAX_BODY_BYTES:
        return None
    raw = handler.rfile.read(length) if length else b"{}"
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def issue_token(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if not body.get("client_id"):
        return 400, {"error": "client_id is required"}
    return 201, {"token_type": "Bearer", "access_token": uuid.uuid4().hex, "expires_in": 3600,
                 "client_id": body["client_id"]}


def create_order(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if not body.get("sku"):
        return 400, {"error": "sku is required"}
    return 201, {"status": "CREATED", "order_id": f"ord-{uuid.uuid4().hex[:12]}", "sku": body["sku"],
                 "qty": int(body.get("qty") or 1)}


def authorize_payment(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    amount = body.get("amount")
    if not isinstance(amount, (int, float)) or amount <= 0 or not body.get("currency"):
        return 400, {"error": "amount (> 0) and currency are required"}
    return 200, {"result": "AUTHORIZED", "authorization_id": f"auth-{uuid.uuid4().hex[:12]}", "amount": amount,
                 "currency": body["currency"]}


POST_ROUTES: dict[str, Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]] = {
    "/v1/tokens": issue_token,
    "/v1/orders": create_order,
    "/v1/payments/authorize": authorize_payment,
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "DomainServer"

    def log_message(self, format: str, *args: Any) -> None:  # one JSON line per request, on stdout
        pass

    def _log(self, status: int, started: float) -> None:
        self.server.log({"domain": self.server.domain, "method": self.command, "path": self.path, "status": status,
                         "ms": round((time.monotonic() - started) * 1000, 1)})

    def _send(self, status: int, document: dict[str, Any], started: float) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(status, started)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        started = time.monotonic()
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._send(200, {"status": "ok", "domain": self.server.domain, "version": self.server.version}, started)
        elif path == "/v1/stream":
            self._websocket(started)
        else:
            self._send(404, {"error": f"no route {path}"}, started)

    def do_POST(self) -> None:
        started = time.monotonic()
        route = POST_ROUTES.get(self.path.split("?", 1)[0])
        if route is None:
            self._send(404, {"error": f"no route {self.path}"}, started)
            return
        body = _json_body(self)
        if body is None:
            self._send(400, {"error": "the body must be a JSON object of at most 64 KB"}, started)
            return
        status, document = route(body)
        self._send(status, {**document, "domain": self.server.domain}, started)

    def _websocket(self, started: float) -> None:
        key = self.headers.get("Sec-WebSocket-Key")
        if (self.headers.get("Upgrade", "").lower() != "websocket"
                or "upgrade" not in self.headers.get("Connection", "").lower()
                or not websocket.valid_client_key(key) or self.headers.get("Sec-WebSocket-Version") != "13"):
            self._send(426, {"error": "WebSocket upgrade required (RFC 6455, version 13)"}, started)
            return
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", websocket.accept_key(str(key)))
        self.end_headers()
        self.wfile.flush()
        self._log(101, started)
        self.close_connection = True
        with self.server.track(self.connection):
            code = websocket.echo(self.connection)
        self.server.log({"domain": self.server.domain, "websocket": "closed", "code": code})


class DomainServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], *, domain: str, version: str,
                 log: Callable[[dict[str, Any]], None]) -> None:
        super().__init__(address, Handler)
        self.domain = domain
        self.version = version
        self.log = log
        self._sessions: set[Any] = set()
        self._lock = threading.Lock()

    def track(self, connection: Any) -> Any:
        server = self

        class Session:
            def __enter__(self) -> None:
                with server._lock:
                    server._sessions.add(connection)

            def __exit__(self, *exc: object) -> None:
                with server._lock:
                    server._sessions.discard(connection)

        return Session()

    def going_away(self) -> None:
        """Tell open WebSocket sessions to reconnect (the ALB sends them to the other task set)."""
        with self._lock:
            sessions = list(self._sessions)
        for connection in sessions:
            try:
                connection.sendall(websocket.close_frame(websocket.CLOSE_GOING_AWAY, "server shutting down"))
            except OSError:
                pass


def _stdout_log(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def make_server(*, port: int, domain: str, version: str, host: str = "0.0.0.0",
                log: Callable[[dict[str, Any]], None] = _stdout_log) -> DomainServer:
    return DomainServer((host, port), domain=domain, version=version, log=log)


def main() -> int:
    port = int(os.environ.get("PORT", "8080"))
    server = make_server(port=port, domain=os.environ.get("DOMAIN", "unknown"),
                         version=os.environ.get("VERSION", "dev"))

    def stop(signum: int, frame: Any) -> None:
        server.going_away()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _stdout_log({"domain": server.domain, "listening": port, "version": server.version})
    server.serve_forever(poll_interval=0.5)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
