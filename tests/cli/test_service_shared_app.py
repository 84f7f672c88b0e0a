"""services/shared-app: the server every default domain runs on its first real release.

Started on 127.0.0.1 (port 0) and checked by the platform's own smoke-check runner (lambdas/smoke_tests/runner.py)
with the smoke checks of the default config, exactly as the AfterAllowTestTraffic hook runs them against the test
listener; plus the health path, bad input, and the WebSocket echo seen by an independent client (`websockets`)."""
from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"


def _load(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server_module() -> types.ModuleType:
    return _load("shared_app_server", SERVICES / "shared-app" / "server.py")


@pytest.fixture(scope="module")
def runner() -> types.ModuleType:
    """The smoke-check runner as the hook Lambda loads it (lambdas/ on the path, like tests/progressive do)."""
    package = "_bg_lambda_smoke_tests"
    if package not in sys.modules:
        spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
        module = importlib.util.module_from_spec(spec)
        module.__path__ = [str(ROOT / "lambdas" / "smoke_tests")]
        sys.modules[package] = module
    return importlib.import_module(f"{package}.runner")


@pytest.fixture
def service(server_module: types.ModuleType) -> Iterator[Any]:
    logs: list[dict[str, Any]] = []
    server = server_module.make_server(port=0, host="127.0.0.1", domain="voice", version="abc123", log=logs.append)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.logs = logs
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def default_smoke_checks() -> dict[str, list[Any]]:
    """Every default domain's smoke checks, parsed exactly as the hook parses the published metadata."""
    from bgruntime.smoke_checks import parse_checks
    from bluegreen.config.default import DEFAULT_CONFIG
    from bluegreen.config.loader import parse_config

    config = parse_config(DEFAULT_CONFIG, source="default")
    return {name: parse_checks([check.to_metadata() for check in spec.smoke_checks])
            for name, spec in ((d.name, d) for d in config.domains)}


def test_the_default_smoke_checks_of_every_domain_pass(service: Any, runner: types.ModuleType) -> None:
    served = {d for d, entry in json.loads((ROOT / "services" / "domains.json").read_text())["domains"].items()
              if entry["directory"] == "services/shared-app"}
    checks = {d: c for d, c in default_smoke_checks().items() if d in served}
    assert sorted(checks) == ["auth", "order", "payment", "voice"]
    for domain, domain_checks in checks.items():
        results = runner.run_checks(domain_checks, service.url, deadline=time.monotonic() + 10)
        assert [(r.name, r.passed) for r in results] == [(c.name, True) for c in domain_checks], \
            (domain, [r.detail for r in results])


def test_health_and_business_answers(service: Any) -> None:
    import urllib.request

    def call(method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(service.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert call("GET", "/health") == (200, {"status": "ok", "domain": "voice", "version": "abc123"})
    status, token = call("POST", "/v1/tokens", {"client_id": "smoke"})
    assert (status, token["token_type"], token["expires_in"]) == (201, "Bearer", 3600)
    assert call("POST", "/v1/orders", {"sku": "SMOKE-1", "qty": 2})[1]["status"] == "CREATED"
    assert call("POST", "/v1/payments/authorize", {"amount": 100, "currency": "EUR"})[1]["result"] == "AUTHORIZED"
    assert call("POST", "/v1/orders", {"qty": 1}) == (400, {"error": "sku is required", "domain": "voice"})
    assert call("POST", "/v1/payments/authorize", {"amount": -1, "currency": "EUR"})[0] == 400
    assert call("GET", "/v1/stream")[0] == 426  # a plain GET on the WebSocket route
    assert call("GET", "/nope") == (404, {"error": "no route /nope"})
    assert {"domain": "voice", "method": "GET", "path": "/health", "status": 200} == {
        k: v for k, v in service.logs[0].items() if k != "ms"}


def test_websocket_echo_with_an_independent_client(service: Any) -> None:
    from websockets.sync.client import connect

    with connect(service.url.replace("http", "ws") + "/v1/stream", open_timeout=5) as socket:
        socket.send("hello")
        assert socket.recv(timeout=5) == "hello"
        socket.send(b"\x00\x01" * 40000)  # 80 KB: 64-bit length header
        assert socket.recv(timeout=5) == b"\x00\x01" * 40000
        socket.ping()


def test_rfc6455_accept_key_example() -> None:
    sys.path.insert(0, str(SERVICES))
    from _lib import websocket

    assert websocket.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert websocket.encode_frame(websocket.OP_TEXT, b"x" * 300)[1:4] == bytes([126, 1, 44])


def test_dockerfile_is_deployable_as_the_workflow_builds_it() -> None:
    text = (SERVICES / "shared-app" / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert lines[0].startswith("FROM python:3.13-slim")
    assert "USER 10001:10001" in lines and not any(line.startswith("HEALTHCHECK") for line in lines)
    assert "COPY _lib/ /app/_lib/" in lines and "COPY shared-app/server.py /app/server.py" in lines
    assert any(line.startswith("ENV") for line in lines) and "PORT=8080" in text
