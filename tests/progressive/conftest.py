"""Fixtures for the smoke-check hook and the deployment notifier.

- AWS: moto `mock_aws` (DynamoDB, SSM, EventBridge -> SQS, CloudWatch, CodeDeploy basics) and
  botocore Stubber for what moto lacks (PutLifecycleEventHookExecutionStatus, errorInformation,
  alarm configuration).
- Real servers on 127.0.0.1 port 0 in threads: a domain's test listener (HTTP), a WebSocket server
  (the `websockets` package, tests only) and a fake Slack Web API.
- Helpers (Lambda module loading by path, sample events, metadata) are in progressive_support.py.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

# Never reach real AWS: fake credentials and a fixed region before any boto3 client exists.
os.environ["AWS_DEFAULT_REGION"] = "eu-west-1"
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_SESSION_TOKEN"] = "testing"
os.environ.pop("AWS_PROFILE", None)

from progressive_support import REGION, TABLE  # noqa: E402

# ------------------------------------------------------------------------------------------ servers
class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # clients hanging up is the point
        pass


class _Server:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.release = threading.Event()
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _start(handler_cls: type[BaseHTTPRequestHandler], **attrs: Any) -> _Server:
    server = _QuietServer(("127.0.0.1", 0), handler_cls)
    wrapper = _Server(server)
    server.release = wrapper.release  # type: ignore[attr-defined]
    for key, value in attrs.items():
        setattr(server, key, value)
    return wrapper


class _DomainHandler(BaseHTTPRequestHandler):
    """A domain service's test listener with healthy, slow, failing and odd endpoints."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.server.seen.append((self.command, self.path, dict(self.headers)))  # type: ignore[attr-defined]
        if path == "/health":
            self._json(200, {"status": "ok", "deps": {"db": "up", "cache": "up"}, "items": [{"id": 1}], "version": 2})
        elif path == "/slow":
            if not self.server.release.wait(5):  # type: ignore[attr-defined]
                self._json(200, {"status": "ok"})
        elif path == "/error":
            self._json(500, {"error": "boom"})
        elif path == "/wrong":
            self._json(200, {"status": "degraded", "deps": {"db": "down"}})
        elif path == "/text":
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif path == "/drip":  # headers at once, then one byte every 100 ms: per-read timeouts never fire
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                if self.server.release.wait(0.1):  # type: ignore[attr-defined]
                    return
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
        elif path == "/ws-bad-accept":
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", "d3Jvbmc=")
            self.end_headers()
            self.server.release.wait(2)  # type: ignore[attr-defined]
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.seen.append((self.command, self.path, dict(self.headers)))  # type: ignore[attr-defined]
        if self.path == "/orders":
            order = json.loads(body)
            self._json(201, {"order": {"sku": order.get("sku"), "state": "CREATED"},
                             "contentType": self.headers.get("Content-Type")})
        else:
            self._json(404, {"error": "not found"})


@pytest.fixture
def domain_server():
    server = _start(_DomainHandler, seen=[])
    yield server
    server.close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound then closed)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def ws_server():
    """WebSocket server: `/echo` echoes, `/silent` never answers, `/refuse` refuses the upgrade (403)."""
    from websockets.sync.server import serve

    stop = threading.Event()

    def process_request(connection: Any, request: Any) -> Any:
        if request.path.startswith("/refuse"):
            return connection.respond(403, "upgrade refused\n")
        return None

    def handler(ws: Any) -> None:
        path = ws.request.path
        try:
            if path.startswith("/echo"):
                for message in ws:
                    ws.send(message)
            else:  # silent: keep the connection open without replying
                while not stop.is_set():
                    try:
                        ws.recv(timeout=0.1)
                    except TimeoutError:
                        continue
        except Exception:  # noqa: BLE001 - client went away
            pass

    server = serve(handler, "127.0.0.1", 0, process_request=process_request, compression=None,
                   ping_interval=None, open_timeout=2, close_timeout=0.2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.socket.getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    stop.set()
    server.shutdown()
    thread.join(2)


class _SlackHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        method = self.path.rsplit("/", 1)[-1]
        mode = server.mode  # type: ignore[attr-defined]
        is_parent = method == "chat.postMessage" and "thread_ts" not in payload
        delay = 5.0 if mode == "slow" else (server.parent_delay if is_parent else 0.0)  # type: ignore[attr-defined]
        if delay and server.release.wait(delay):  # type: ignore[attr-defined]
            return
        if mode == "http500":
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with server.lock:  # type: ignore[attr-defined]
            server.counter += 1  # type: ignore[attr-defined]
            ts = f"1700000000.{server.counter:06d}"  # type: ignore[attr-defined]
            server.calls.append({"method": method, "ts": ts, **payload})  # type: ignore[attr-defined]
            auth = self.headers.get("Authorization")
            server.auth.append(auth)  # type: ignore[attr-defined]
        answer = {"ok": True, "ts": ts, "channel": payload.get("channel")}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FakeSlack:
    def __init__(self, server: _Server) -> None:
        self._server = server
        self.url = server.url + "/api"

    @property
    def calls(self) -> list[dict[str, Any]]:
        return list(self._server.server.calls)  # type: ignore[attr-defined]

    def set_mode(self, mode: str, *, parent_delay: float = 0.0) -> None:
        self._server.server.mode = mode  # type: ignore[attr-defined]
        self._server.server.parent_delay = parent_delay  # type: ignore[attr-defined]

    def parents(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == "chat.postMessage" and "thread_ts" not in c]

    def replies(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == "chat.postMessage" and "thread_ts" in c]

    def updates(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == "chat.update"]


@pytest.fixture
def slack():
    server = _start(_SlackHandler, mode="ok", parent_delay=0.0, calls=[], auth=[], counter=0, lock=threading.Lock())
    yield FakeSlack(server)
    server.close()


# ---------------------------------------------------------------------------------------------- AWS
@pytest.fixture(scope="session")
def _clients():
    """boto3 clients built once (model loading is the slow part); moto is imported first and the clients come
    from a session created after it, so they carry moto's request hook and `mock_aws()` in each test routes them
    to fresh in-memory backends. (boto3's default session may predate the import when another test module ran
    first on this worker; its clients would reach the real endpoint.)"""
    import moto  # noqa: F401 - must be imported before the session is created
    import boto3

    session = boto3.session.Session(region_name=REGION)
    return types.SimpleNamespace(
        dynamodb=session.client("dynamodb"),
        resource=session.resource("dynamodb"),
        ssm=session.client("ssm"),
        events=session.client("events"),
        sqs=session.client("sqs"),
        cloudwatch=session.client("cloudwatch"),
        codedeploy=session.client("codedeploy"),
        codedeploy_stubbed=session.client("codedeploy"),
    )


@pytest.fixture
def aws(_clients):
    from moto import mock_aws

    with mock_aws():
        _clients.dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "domain", "requestedAt")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "byDomain",
                "KeySchema": [{"AttributeName": "domain", "KeyType": "HASH"},
                              {"AttributeName": "requestedAt", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
        )
        yield types.SimpleNamespace(
            table=_clients.resource.Table(TABLE),
            ssm=_clients.ssm,
            events=_clients.events,
            sqs=_clients.sqs,
            cloudwatch=_clients.cloudwatch,
            codedeploy=_clients.codedeploy,
            codedeploy_stubbed=_clients.codedeploy_stubbed,
        )


