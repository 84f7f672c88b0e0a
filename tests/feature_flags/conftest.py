"""Shared fixtures for the feature-flag tests: the AppConfig content rules and a fake AppConfig agent."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import jsonschema
import pytest

_KEY = "^[a-z][a-zA-Z0-9_-]{0,63}$"
_STRING = {"type": "string", "maxLength": 1024}
_ATTRIBUTE_VALUE = {"oneOf": [
    _STRING,
    {"type": "number"},
    {"type": "boolean"},
    {"type": "array", "oneOf": [{"items": _STRING}, {"items": {"type": "number"}}]},
]}
_ATTRIBUTE_VALUES = {"type": "object", "patternProperties": {_KEY: _ATTRIBUTE_VALUE},
                     "maxProperties": 25, "additionalProperties": False}
_CONSTRAINT_TYPES = ["string", "number", "boolean", "array"]

# The rules of AppConfig's documented AWS.AppConfig.FeatureFlags type reference (schema version "1"),
# restated here so the tests check the rendered content against AppConfig, not against our own code.
APPCONFIG_FEATURE_FLAGS_RULES: dict[str, Any] = {
    "type": "object",
    "required": ["version"],
    "additionalProperties": False,
    "properties": {
        "version": {"enum": ["1"]},
        "flags": {"type": "object", "additionalProperties": False, "patternProperties": {_KEY: {
            "type": "object", "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[^\\n]{1,64}$"},
                "description": {"type": "string", "maxLength": 1024},
                "attributes": {"type": "object", "maxProperties": 25, "additionalProperties": False,
                               "patternProperties": {_KEY: {
                                   "type": "object", "additionalProperties": False,
                                   "properties": {
                                       "description": {"type": "string", "maxLength": 1024},
                                       "constraints": {
                                           "type": "object", "required": ["type"],
                                           "properties": {"type": {"enum": _CONSTRAINT_TYPES},
                                                          "required": {"type": "boolean"},
                                                          "elements": {"type": "object",
                                                                       "properties": {"type": {"enum": ["string", "number"]}},
                                                                       "required": ["type"]}},
                                       }}}}},
            }}}},
        "values": {"type": "object", "additionalProperties": False, "patternProperties": {_KEY: {
            "type": "object", "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "_variants": {"type": "array", "maxItems": 32, "items": {
                    "type": "object", "required": ["name", "enabled"], "additionalProperties": False,
                    "properties": {"name": {"type": "string", "pattern": "^[^\\n]{1,64}$"},
                                   "enabled": {"type": "boolean"},
                                   "rule": {"type": "string", "maxLength": 16384},
                                   "attributeValues": _ATTRIBUTE_VALUES}}},
            },
            "patternProperties": {_KEY: _ATTRIBUTE_VALUE}}}},
    },
}


@pytest.fixture(scope="session")
def appconfig_rules() -> jsonschema.Draft7Validator:
    jsonschema.Draft7Validator.check_schema(APPCONFIG_FEATURE_FLAGS_RULES)
    return jsonschema.Draft7Validator(APPCONFIG_FEATURE_FLAGS_RULES)


class FakeAgent:
    """An HTTP server on 127.0.0.1 that answers like the AppConfig agent for one configuration path.

    `flags` is the evaluated answer; `targeted` maps a flag key to the user IDs for which it is on
    (what the agent does with the `Context: userId=...` header). `mode` switches to failures.
    """

    PATH = "/applications/bluegreen-auth/environments/prod/configurations/feature-flags"

    def __init__(self) -> None:
        self.flags: dict[str, Any] = {}
        self.targeted: dict[str, set[str]] = {}
        self.mode = "ok"
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                agent.requests.append({"path": self.path, "context": self.headers.get_all("Context") or []})
                try:
                    agent.answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first, as it should

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.PATH}"

    def _evaluate(self, context: list[str]) -> dict[str, Any]:
        user_id = None
        for header in context:
            for pair in header.split(","):
                key, _, value = pair.strip().partition("=")
                if key == "userId":
                    user_id = value
        result = json.loads(json.dumps(self.flags))
        for key, users in self.targeted.items():
            on = user_id in users
            result[key] = {"_variant": "enabled-for-users" if on else "Default", "enabled": on,
                           **{k: v for k, v in result.get(key, {}).items() if k not in ("enabled", "_variant")}}
        return result

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.path.split("?")[0] != self.PATH:
            handler.send_error(404)
            return
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "error":
            handler.send_error(500)
            return
        if self.mode == "garbage":
            body = b"<html>definitely not flags"
        elif self.mode == "not-an-object":
            body = b"[1, 2, 3]"
        else:
            body = json.dumps(self._evaluate(handler.headers.get_all("Context") or [])).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if self.mode == "drip":
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            for byte in body:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(self.delay)
            return
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_agent() -> Iterator[FakeAgent]:
    agent = FakeAgent()
    yield agent
    agent.close()


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the agent is down)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}{FakeAgent.PATH}"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Callable[[], float]:
    return FakeClock()
