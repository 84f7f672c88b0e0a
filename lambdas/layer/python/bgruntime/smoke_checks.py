"""Smoke-check specifications: parse and validate the `smokeChecks` list of the deployment metadata.

The published metadata (SSM `/P/domains/D/deployment`, see docs/contracts.md) carries the checks in
camelCase; the YAML config that produces it uses snake_case. Everything here is pure (no I/O), and
the only exception it raises on bad input is `CheckSpecError`, whose message names the offending
field (`smokeChecks[1].latencyBudgetMs`) and says what is allowed.

Also here: the dotted-path JSON matcher used by HTTP checks (`resolve`, `match_json`).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

KINDS = ("http", "websocket")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_CHECKS = 50
MAX_NAME_LENGTH = 64
MAX_PATH_LENGTH = 2048
MAX_HEADERS = 50
MAX_HEADER_VALUE_LENGTH = 8192
MAX_BODY_BYTES = 64 * 1024
MAX_EXPECT_JSON_ENTRIES = 50
MAX_JSON_DEPTH = 20
MIN_LATENCY_BUDGET_MS = 1
MAX_LATENCY_BUDGET_MS = 60_000  # same bound as the config loader
DEFAULT_LATENCY_BUDGET_MS = 2_000

KNOWN_KEYS = ("name", "kind", "method", "path", "headers", "body", "expectStatus", "expectJson", "latencyBudgetMs")
_SNAKE_TO_CAMEL = {"expect_status": "expectStatus", "expect_json": "expectJson", "latency_budget_ms": "latencyBudgetMs"}

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_PATH = re.compile(r"^/[\x21-\x22\x24-\x7e]*$")  # printable ASCII, no space, no '#'
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:/()-]*$")

# Headers the runner owns; a check may not set them.
_RESERVED_HEADERS = {
    "http": frozenset({"content-length", "transfer-encoding", "connection", "upgrade"}),
    "websocket": frozenset({"content-length", "transfer-encoding", "connection", "upgrade", "sec-websocket-key",
                            "sec-websocket-version", "sec-websocket-extensions"}),
}


class CheckSpecError(ValueError):
    """A smoke-check specification is invalid. `field` is a dotted path, e.g. `smokeChecks[2].path`."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class SmokeCheck:
    """One validated check. `body` is already encoded; `expect_json` maps dotted paths to JSON values."""

    name: str
    kind: str = "http"
    method: str = "GET"
    path: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str | None = None
    expect_status: int = 200
    expect_json: Mapping[str, Any] = field(default_factory=dict)
    latency_budget_ms: int = DEFAULT_LATENCY_BUDGET_MS

    @property
    def budget_seconds(self) -> float:
        return self.latency_budget_ms / 1000.0


# --------------------------------------------------------------------------------------------- parsing
def parse_checks(raw: Any, *, field: str = "smokeChecks") -> list[SmokeCheck]:
    """Validate the whole list. Names must be unique. An empty list is valid here (policy is the hook's)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise CheckSpecError(field, f"must be a list of check objects, got {_type_name(raw)}")
    if len(raw) > MAX_CHECKS:
        raise CheckSpecError(field, f"at most {MAX_CHECKS} checks are allowed, got {len(raw)}")
    checks: list[SmokeCheck] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        check = parse_check(item, field=f"{field}[{index}]")
        if check.name in seen:
            raise CheckSpecError(f"{field}[{index}].name", f"duplicate check name {check.name!r}; names must be unique")
        seen.add(check.name)
        checks.append(check)
    return checks


def parse_check(raw: Any, *, field: str = "smokeCheck") -> SmokeCheck:
    if not isinstance(raw, dict):
        raise CheckSpecError(field, f"must be an object, got {_type_name(raw)}")
    for key in raw:
        if key not in KNOWN_KEYS:
            hint = ""
            if key in _SNAKE_TO_CAMEL:
                hint = f" (the published metadata is camelCase: use {_SNAKE_TO_CAMEL[key]!r})"
            raise CheckSpecError(f"{field}.{key}" if isinstance(key, str) else field,
                                 f"unknown key {key!r}{hint}; allowed: {', '.join(KNOWN_KEYS)}")

    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CheckSpecError(f"{field}.name", "is required and must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH or not _NAME.match(name):
        raise CheckSpecError(f"{field}.name", f"must be 1-{MAX_NAME_LENGTH} characters: letters, digits, space, _ . : / ( ) -")

    kind = raw.get("kind", "http")
    if kind not in KINDS:
        raise CheckSpecError(f"{field}.kind", f"must be one of {', '.join(KINDS)}, got {_short(kind)}")

    method = raw.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in HTTP_METHODS:
        raise CheckSpecError(f"{field}.method", f"must be one of {', '.join(HTTP_METHODS)}, got {_short(method)}")
    method = method.upper()
    if kind == "websocket" and method != "GET":
        raise CheckSpecError(f"{field}.method", "a websocket check always uses GET (the upgrade request); drop the key")

    path = raw.get("path", "/")
    if not isinstance(path, str) or len(path) > MAX_PATH_LENGTH or not _PATH.match(path):
        raise CheckSpecError(f"{field}.path", f"must start with '/' and contain printable ASCII without spaces or '#' "
                                              f"(max {MAX_PATH_LENGTH} characters), got {_short(path)}")

    headers = _parse_headers(raw.get("headers"), kind=kind, field=f"{field}.headers")
    body, content_type = _parse_body(raw.get("body"), kind=kind, field=f"{field}.body")
    if content_type and any(name.lower() == "content-type" for name, _ in headers):
        content_type = None

    default_status = 101 if kind == "websocket" else 200
    expect_status = raw.get("expectStatus", default_status)
    if not _is_int(expect_status) or not 100 <= expect_status <= 599:
        raise CheckSpecError(f"{field}.expectStatus", f"must be an integer HTTP status 100-599, got {_short(expect_status)}")
    if kind == "websocket" and expect_status != 101:
        raise CheckSpecError(f"{field}.expectStatus", "a websocket check always expects 101 Switching Protocols; drop the key")

    expect_json = _parse_expect_json(raw.get("expectJson"), kind=kind, field=f"{field}.expectJson")

    budget = raw.get("latencyBudgetMs", DEFAULT_LATENCY_BUDGET_MS)
    if not _is_int(budget) or not MIN_LATENCY_BUDGET_MS <= budget <= MAX_LATENCY_BUDGET_MS:
        raise CheckSpecError(f"{field}.latencyBudgetMs",
                             f"must be an integer number of milliseconds {MIN_LATENCY_BUDGET_MS}-{MAX_LATENCY_BUDGET_MS}, "
                             f"got {_short(budget)}")

    return SmokeCheck(name=name, kind=kind, method=method, path=path, headers=headers, body=body,
                      content_type=content_type, expect_status=expect_status, expect_json=expect_json,
                      latency_budget_ms=budget)


def _parse_headers(raw: Any, *, kind: str, field: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise CheckSpecError(field, f"must be an object of header name -> string value, got {_type_name(raw)}")
    if len(raw) > MAX_HEADERS:
        raise CheckSpecError(field, f"at most {MAX_HEADERS} headers are allowed")
    seen: set[str] = set()
    result: list[tuple[str, str]] = []
    for name, value in raw.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise CheckSpecError(field, f"header name {_short(name)} is not a valid HTTP token")
        lower = name.lower()
        if lower in _RESERVED_HEADERS[kind]:
            raise CheckSpecError(f"{field}.{name}", f"header {name!r} is set by the check runner and cannot be overridden")
        if lower in seen:
            raise CheckSpecError(f"{field}.{name}", "duplicate header name (names are case-insensitive)")
        seen.add(lower)
        if not isinstance(value, str):
            raise CheckSpecError(f"{field}.{name}", f"header value must be a string, got {_type_name(value)}")
        if len(value) > MAX_HEADER_VALUE_LENGTH or any(ch in value for ch in "\r\n\x00"):
            raise CheckSpecError(f"{field}.{name}", "header value must not contain CR, LF or NUL and be at most "
                                                    f"{MAX_HEADER_VALUE_LENGTH} characters")
        result.append((name, value))
    return tuple(result)


def _parse_body(raw: Any, *, kind: str, field: str) -> tuple[bytes | None, str | None]:
    if raw is None:
        return None, None
    if kind == "websocket":
        if not isinstance(raw, str):
            raise CheckSpecError(field, "for a websocket check, body is the text message to send and must be a string")
        data, content_type = raw.encode("utf-8", "surrogatepass"), None
    elif isinstance(raw, str):
        # The YAML config only allows string bodies: JSON text (an object or array) is sent as JSON.
        data, content_type = raw.encode("utf-8", "surrogatepass"), ("application/json" if _is_json_document(raw) else None)
    elif isinstance(raw, (dict, list)):
        _check_json_value(raw, field, 0)
        data, content_type = json.dumps(raw, separators=(",", ":")).encode(), "application/json"
    else:
        raise CheckSpecError(field, f"must be null, a string or a JSON object/array, got {_type_name(raw)}")
    if len(data) > MAX_BODY_BYTES:
        raise CheckSpecError(field, f"must be at most {MAX_BODY_BYTES} bytes")
    return data, content_type


def _is_json_document(text: str) -> bool:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return False
    try:
        return isinstance(json.loads(stripped), (dict, list))
    except (ValueError, RecursionError):
        return False


def _parse_expect_json(raw: Any, *, kind: str, field: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if kind == "websocket":
        raise CheckSpecError(field, "is only supported for http checks")
    if not isinstance(raw, dict):
        raise CheckSpecError(field, f"must be an object of dotted path -> expected JSON value, got {_type_name(raw)}")
    if len(raw) > MAX_EXPECT_JSON_ENTRIES:
        raise CheckSpecError(field, f"at most {MAX_EXPECT_JSON_ENTRIES} entries are allowed")
    result: dict[str, Any] = {}
    for path, expected in raw.items():
        validate_json_path(path, field=field)
        _check_json_value(expected, f"{field}.{path}", 0)
        result[path] = expected
    return result


def validate_json_path(path: Any, *, field: str = "expectJson") -> list[str]:
    """Return the segments of a dotted path (`data.items.0.id`) or raise CheckSpecError."""
    if not isinstance(path, str) or not path or len(path) > 256:
        raise CheckSpecError(field, f"key {_short(path)} must be a dotted path such as 'status' or 'data.items.0.id'")
    segments = path.split(".")
    if any(segment == "" for segment in segments):
        raise CheckSpecError(field, f"key {path!r} has an empty segment; use 'a.b.0.c' (no leading, trailing or double dots)")
    return segments


def _check_json_value(value: Any, field: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise CheckSpecError(field, f"is nested deeper than {MAX_JSON_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CheckSpecError(field, "numbers must be finite (no NaN or Infinity)")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{field}[{index}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CheckSpecError(field, f"object keys must be strings, got {_type_name(key)}")
            _check_json_value(item, f"{field}.{key}", depth + 1)
        return
    raise CheckSpecError(field, f"must be a JSON value, got {_type_name(value)}")


# ----------------------------------------------------------------------------------------- JSON matcher
_MISSING = object()


def resolve(document: Any, path: str) -> tuple[bool, Any]:
    """Follow a dotted path through objects (keys) and arrays (decimal indices). (found, value)."""
    current = document
    for segment in validate_json_path(path):
        if isinstance(current, dict):
            if segment not in current:
                return False, None
            current = current[segment]
        elif isinstance(current, list):
            if not (segment.isascii() and segment.isdigit()):
                return False, None
            index = int(segment)
            if index >= len(current):
                return False, None
            current = current[index]
        else:
            return False, None
    return True, current


def json_equal(actual: Any, expected: Any) -> bool:
    """Equality with JSON semantics: true != 1, 1 == 1.0, objects by keys, arrays by position."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return actual == expected
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, str) or isinstance(expected, str):
        return isinstance(actual, str) and isinstance(expected, str) and actual == expected
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(json_equal(a, e) for a, e in zip(actual, expected))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(json_equal(actual[k], expected[k]) for k in expected)
    return False


def match_json(document: Any, expected: Mapping[str, Any]) -> list[str]:
    """Mismatch descriptions (empty when every path holds its expected value). Raises only CheckSpecError."""
    problems: list[str] = []
    for path, want in expected.items():
        found, value = resolve(document, path)
        if not found:
            problems.append(f"{path}: missing")
        elif not json_equal(value, want):
            problems.append(f"{path}: expected {_short_json(want)}, got {_short_json(value)}")
    return problems


# --------------------------------------------------------------------------------------------- helpers
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "object"}.get(
        type(value), type(value).__name__)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short_json(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except Exception:  # noqa: BLE001 - e.g. RecursionError on absurdly deep documents
        text = f"<{_type_name(value)}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
