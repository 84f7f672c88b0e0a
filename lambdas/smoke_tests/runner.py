"""Run validated smoke checks against a domain's test listener. stdlib only, no AWS.

Guarantees:
- every check is bounded by its own timeout (its latency budget, capped by what is left of the
  overall deadline); a check that overruns is aborted (its socket is shut down) and reported failed,
  even if the server drips bytes slowly or DNS hangs (the check runs in a worker thread the caller
  stops waiting for);
- checks run one after another in declaration order (business flows may depend on each other);
  once the overall deadline is reached the remaining checks are reported as not run (failed);
- nothing raises: every problem becomes a failed `CheckResult` with a short `detail`.
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Iterable

try:  # loaded as part of a package (tests) or as a top-level module (Lambda asset root)
    from bgruntime.smoke_checks import SmokeCheck, match_json
except ImportError:  # pragma: no cover - exercised in Lambda
    from bgruntime.smoke_checks import SmokeCheck, match_json  # type: ignore[no-redef]

USER_AGENT = "bluegreen-smoke-check/1"
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_HANDSHAKE_BYTES = 16 * 1024
ABORT_GRACE_SECONDS = 0.2
MIN_CHECK_SECONDS = 0.05
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_OP_CONTINUATION, _OP_TEXT, _OP_BINARY, _OP_CLOSE, _OP_PING, _OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


Clock = Callable[[], float]
Wait = Callable[[threading.Thread, float], None]


def wait_for_thread(thread: threading.Thread, seconds: float) -> None:
    """How the runner waits for a check's worker: at most `seconds` (tests inject a recording wait)."""
    thread.join(seconds)


class EndpointError(ValueError):
    """The test endpoint URL is unusable."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    status: int | None
    latency_ms: int
    detail: str

    def to_item(self) -> dict[str, Any]:
        """The shape stored in the audit table (`SMOKE.checks[]`) and sent in events."""
        return {"name": self.name, "passed": self.passed, "status": self.status,
                "latencyMs": self.latency_ms, "detail": self.detail}


@dataclass(frozen=True)
class Target:
    scheme: str  # http | https
    host: str
    port: int
    path_prefix: str
    host_header: str


def parse_base_url(base_url: Any) -> Target:
    """`http://auth.bluegreen.internal:9081` -> Target. Raises EndpointError."""
    if not isinstance(base_url, str) or not base_url:
        raise EndpointError("testEndpoint is missing")
    try:
        parts = urllib.parse.urlsplit(base_url)
        port = parts.port
    except ValueError as exc:
        raise EndpointError(f"testEndpoint {base_url!r} is not a valid URL: {exc}") from None
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"testEndpoint {base_url!r} must be an http:// or https:// URL with a host")
    if parts.query or parts.fragment or parts.username:
        raise EndpointError(f"testEndpoint {base_url!r} must not carry credentials, a query or a fragment")
    default_port = 443 if scheme == "https" else 80
    port = port or default_port
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default_port else f"{shown}:{port}"
    return Target(scheme=scheme, host=host, port=port, path_prefix=parts.path.rstrip("/"), host_header=host_header)


# ------------------------------------------------------------------------------------------- running
def run_checks(checks: Iterable[SmokeCheck], base_url: str, *, deadline: float,
               clock: Clock = time.monotonic, ssl_context: ssl.SSLContext | None = None,
               wait: Wait = wait_for_thread) -> list[CheckResult]:
    """Run `checks` in order; return by `deadline` (a `clock()` value) plus at most ABORT_GRACE_SECONDS.

    `clock` measures latencies and the deadline; `wait` is how a check's worker is waited for (both real by
    default; tests inject them so the bounds are proven without measuring wall-clock time)."""
    checks = list(checks)
    try:
        target = parse_base_url(base_url)
    except EndpointError as exc:
        return [CheckResult(c.name, False, None, 0, f"not run: {exc}") for c in checks]
    results: list[CheckResult] = []
    for check in checks:
        remaining = deadline - clock()
        if remaining < MIN_CHECK_SECONDS:
            results.append(CheckResult(check.name, False, None, 0, "not run: the hook's overall deadline was reached"))
            continue
        capped = remaining < check.budget_seconds
        results.append(run_check(check, target, timeout=min(check.budget_seconds, remaining), capped=capped,
                                 ssl_context=ssl_context, clock=clock, wait=wait))
    return results


def run_check(check: SmokeCheck, target: Target, *, timeout: float, capped: bool = False,
              ssl_context: ssl.SSLContext | None = None, clock: Clock = time.monotonic,
              wait: Wait = wait_for_thread) -> CheckResult:
    """Run one check; waits for it at most `timeout`, then aborts it and waits at most ABORT_GRACE_SECONDS."""
    attempt = _Attempt(timeout, capped=capped, clock=clock)
    outcome: list[CheckResult] = []

    def work() -> None:
        try:
            if check.kind == "websocket":
                outcome.append(_websocket_check(check, target, attempt, ssl_context))
            else:
                outcome.append(_http_check(check, target, attempt, ssl_context))
        except BaseException as exc:  # noqa: BLE001 - a worker must never die silently
            outcome.append(_failure(check, attempt, exc))
        finally:
            attempt.close()

    worker = threading.Thread(target=work, name=f"smoke-check:{check.name}", daemon=True)
    worker.start()
    wait(worker, timeout)
    if worker.is_alive():
        attempt.abort()
        wait(worker, ABORT_GRACE_SECONDS)
    if outcome and not attempt.aborted:
        return outcome[0]
    return CheckResult(check.name, False, None, attempt.elapsed_ms(), _timeout_detail(check, attempt))


def _timeout_detail(check: SmokeCheck, attempt: "_Attempt") -> str:
    if attempt.capped:
        return (f"timed out after {int(attempt.timeout * 1000)} ms (cut short by the hook's overall deadline; "
                f"budget {check.latency_budget_ms} ms)")
    return f"timed out after {check.latency_budget_ms} ms (latency budget)"


class _Attempt:
    """Per-check clock and abort switch: `abort()` shuts the socket down so blocked I/O returns."""

    def __init__(self, timeout: float, *, capped: bool = False, clock: Clock = time.monotonic) -> None:
        self.timeout = timeout
        self.capped = capped
        self._clock = clock
        self.started = clock()
        self.ends = self.started + timeout
        self.aborted = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        left = self.ends - self._clock()
        if left <= 0:
            raise TimeoutError("latency budget exhausted")
        return left

    def elapsed_ms(self) -> int:
        return int(round((self._clock() - self.started) * 1000))

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            aborted = self.aborted
        if aborted:
            _shutdown(sock)

    def abort(self) -> None:
        with self._lock:
            self.aborted = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def close(self) -> None:
        with self._lock:
            sockets, self._sockets = list(self._sockets), []
        for sock in sockets:
            try:
                sock.close()
            except OSError:
                pass


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _failure(check: SmokeCheck, attempt: _Attempt, exc: BaseException) -> CheckResult:
    elapsed = attempt.elapsed_ms()
    if isinstance(exc, (TimeoutError, socket.timeout)) or attempt.aborted:
        detail = _timeout_detail(check, attempt)
    elif isinstance(exc, ConnectionRefusedError):
        detail = "connection refused"
    elif isinstance(exc, socket.gaierror):
        detail = f"cannot resolve host: {exc.strerror or exc}"
    elif isinstance(exc, ssl.SSLError):
        detail = f"TLS error: {exc.reason or exc}"
    elif isinstance(exc, http.client.HTTPException):
        detail = f"invalid HTTP response: {type(exc).__name__} {exc}".strip()
    elif isinstance(exc, _ProtocolError):
        detail = str(exc)
    elif isinstance(exc, OSError):
        detail = f"network error: {exc.strerror or exc}"
    else:
        detail = f"check runner error: {type(exc).__name__}: {exc}"
    return CheckResult(check.name, False, None, elapsed, _clip(detail))


class _ProtocolError(Exception):
    pass


# ---------------------------------------------------------------------------------------------- HTTP
def _http_check(check: SmokeCheck, target: Target, attempt: _Attempt,
                ssl_context: ssl.SSLContext | None) -> CheckResult:
    if target.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=attempt.remaining(), context=ssl_context or ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=attempt.remaining())
    try:
        conn.connect()
        sock = conn.sock  # kept: a `Connection: close` (or HTTP/1.0) answer sets conn.sock to None in getresponse()
        attempt.attach(sock)
        headers = {"Host": target.host_header, "User-Agent": USER_AGENT, "Accept": "application/json, */*;q=0.5"}
        if check.content_type:
            headers["Content-Type"] = check.content_type
        for name, value in check.headers:  # check headers win (Host may be overridden for host-based rules)
            for existing in [k for k in headers if k.lower() == name.lower()]:
                del headers[existing]
            headers[name] = value
        sock.settimeout(attempt.remaining())
        conn.request(check.method, target.path_prefix + check.path, body=check.body, headers=headers)
        sock.settimeout(attempt.remaining())
        response = conn.getresponse()
        sock.settimeout(attempt.remaining())
        data = response.read(MAX_RESPONSE_BYTES + 1)
        status = response.status
        content_type = response.getheader("Content-Type", "") or ""
        response.close()
    finally:
        conn.close()
    latency = attempt.elapsed_ms()

    problems: list[str] = []
    if status != check.expect_status:
        problems.append(f"expected status {check.expect_status}, got {status}")
    elif check.expect_json:
        problems.extend(_json_problems(check, data, content_type))
    if latency > check.latency_budget_ms:
        problems.append(f"took {latency} ms, budget {check.latency_budget_ms} ms")
    if problems:
        return CheckResult(check.name, False, status, latency, _clip("; ".join(problems)))
    return CheckResult(check.name, True, status, latency, f"HTTP {status} in {latency} ms")


def _json_problems(check: SmokeCheck, data: bytes, content_type: str) -> list[str]:
    if len(data) > MAX_RESPONSE_BYTES:
        return [f"response body larger than {MAX_RESPONSE_BYTES} bytes; cannot match expectJson"]
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        shown = content_type.split(";")[0].strip() or "no content type"
        return [f"response body is not JSON ({shown}, {len(data)} bytes)"]
    mismatches = match_json(document, check.expect_json)
    if not mismatches:
        return []
    more = f" (+{len(mismatches) - 3} more)" if len(mismatches) > 3 else ""
    return ["JSON mismatch: " + "; ".join(mismatches[:3]) + more]


# ----------------------------------------------------------------------------------------- WebSocket
def websocket_accept(key: str) -> str:
    """The `Sec-WebSocket-Accept` value a server must answer for `key` (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode("ascii")).digest()).decode("ascii")


def encode_frame(opcode: int, payload: bytes, *, mask: bytes | None = None) -> bytes:
    """One final frame; client frames must be masked (pass 4 mask bytes)."""
    head = bytearray([0x80 | opcode])
    mask_bit = 0x80 if mask is not None else 0
    length = len(payload)
    if length < 126:
        head.append(mask_bit | length)
    elif length < 1 << 16:
        head.append(mask_bit | 126)
        head += struct.pack("!H", length)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", length)
    if mask is None:
        return bytes(head) + payload
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes(head) + mask + masked


class _Reader:
    def __init__(self, sock: socket.socket, attempt: _Attempt) -> None:
        self.sock = sock
        self.attempt = attempt
        self.buffer = b""

    def _fill(self) -> None:
        self.sock.settimeout(self.attempt.remaining())
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _ProtocolError("connection closed by the server")
        self.buffer += chunk

    def read_until(self, marker: bytes, limit: int) -> bytes:
        while marker not in self.buffer:
            if len(self.buffer) > limit:
                raise _ProtocolError(f"handshake response larger than {limit} bytes")
            self._fill()
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def read_exact(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self._fill()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_frame_header(self) -> tuple[int, int, bytes | None]:
        first, second = self.read_exact(2)
        opcode = first & 0x0F
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self.read_exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self.read_exact(8))
        mask = self.read_exact(4) if second & 0x80 else None
        return opcode, length, mask


def _websocket_check(check: SmokeCheck, target: Target, attempt: _Attempt,
                     ssl_context: ssl.SSLContext | None) -> CheckResult:
    raw = socket.create_connection((target.host, target.port), timeout=attempt.remaining())
    attempt.attach(raw)
    sock: socket.socket = raw
    if target.scheme == "https":
        sock = (ssl_context or ssl.create_default_context()).wrap_socket(raw, server_hostname=target.host)
        attempt.attach(sock)
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    lines = [f"GET {target.path_prefix + check.path} HTTP/1.1"]
    headers = {"Host": target.host_header, "User-Agent": USER_AGENT}
    for name, value in check.headers:
        for existing in [k for k in headers if k.lower() == name.lower()]:
            del headers[existing]
        headers[name] = value
    headers.update({"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": key,
                    "Sec-WebSocket-Version": "13"})
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.settimeout(attempt.remaining())
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    reader = _Reader(sock, attempt)
    head = reader.read_until(b"\r\n\r\n", MAX_HANDSHAKE_BYTES).decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise _ProtocolError(f"invalid handshake response: {status_line[:80]!r}")
    status = int(parts[1])
    if status != 101:
        return CheckResult(check.name, False, status, attempt.elapsed_ms(),
                           f"upgrade refused: expected status 101, got {status}")
    received: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            key_lower = name.strip().lower()
            received[key_lower] = (received[key_lower] + ", " if key_lower in received else "") + value.strip()
    problems = []
    if received.get("upgrade", "").lower() != "websocket":
        problems.append("missing 'Upgrade: websocket'")
    if "upgrade" not in [token.strip().lower() for token in received.get("connection", "").split(",")]:
        problems.append("missing 'Connection: Upgrade'")
    if received.get("sec-websocket-accept") != websocket_accept(key):
        problems.append("wrong or missing Sec-WebSocket-Accept")
    if problems:
        return CheckResult(check.name, False, status, attempt.elapsed_ms(), "invalid upgrade: " + ", ".join(problems))

    detail = "upgraded"
    if check.body is not None:
        sock.settimeout(attempt.remaining())
        sock.sendall(encode_frame(_OP_TEXT, check.body, mask=os.urandom(4)))
        detail = _await_reply(sock, reader, attempt)
    try:  # polite close; never wait for the echo
        sock.settimeout(min(0.2, attempt.remaining()))
        sock.sendall(encode_frame(_OP_CLOSE, struct.pack("!H", 1000), mask=os.urandom(4)))
    except (OSError, TimeoutError):
        pass
    latency = attempt.elapsed_ms()
    if latency > check.latency_budget_ms:
        return CheckResult(check.name, False, status, latency,
                           f"took {latency} ms, budget {check.latency_budget_ms} ms")
    return CheckResult(check.name, True, status, latency, f"{detail} in {latency} ms")


def _await_reply(sock: socket.socket, reader: _Reader, attempt: _Attempt) -> str:
    while True:
        opcode, length, _mask = reader.read_frame_header()
        if opcode in (_OP_TEXT, _OP_BINARY, _OP_CONTINUATION):
            return f"upgraded; reply received ({length} bytes)"
        if opcode == _OP_CLOSE:
            payload = reader.read_exact(min(length, 125))
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            raise _ProtocolError(f"server closed the WebSocket (code {code}) instead of replying")
        if opcode in (_OP_PING, _OP_PONG):
            payload = reader.read_exact(min(length, 125))
            if opcode == _OP_PING:
                sock.settimeout(attempt.remaining())
                sock.sendall(encode_frame(_OP_PONG, payload, mask=os.urandom(4)))
            continue
        raise _ProtocolError(f"unexpected WebSocket opcode {opcode:#x}")


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
