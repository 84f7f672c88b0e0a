"""Bounded, visible retries for every AWS and deploy-API call.

botocore's own retries are switched off (they are silent: 11-41 s of nothing on a refused connection);
`Retrier.call` retries instead, and `Notices` says what it waits for, which attempt failed, and what
happens next. Limits (`Timeouts`): connect and read timeout per attempt, and a budget for all attempts
of one call. A new attempt starts only if it can finish inside the budget, so a dead endpoint gives up
within the budget (28 s by default) whatever the way it is dead (refused, black hole, never answers).
"""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar

from .errors import AwsError, UsageError, error_code, readable_message

T = TypeVar("T")

THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "RequestThrottledException",
    "TooManyRequestsException", "RequestLimitExceeded", "ProvisionedThroughputExceededException",
    "RequestLimitExceededException", "SlowDown", "PriorRequestNotComplete", "BandwidthLimitExceeded",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalServerError",
})
_NETWORK_BASES = ("ConnectionError", "HTTPClientError")


@dataclass(frozen=True)
class Timeouts:
    """Per-attempt connect/read timeouts and the total budget of one call's attempts (seconds)."""

    connect: float = 3.0
    read: float = 10.0
    budget: float = 28.0

    @property
    def slow_notice(self) -> float:
        """A call still waiting after this long is announced (2 s, or half the read timeout if shorter)."""
        return min(2.0, self.read / 2)

    @property
    def attempt_seconds(self) -> float:
        return self.connect + self.read

    @classmethod
    def resolve(cls, env: Mapping[str, str], *, connect: float | None = None, read: float | None = None,
                budget: float | None = None) -> "Timeouts":
        """Flags win over BGCTL_CONNECT_TIMEOUT / BGCTL_READ_TIMEOUT / BGCTL_RETRY_BUDGET, over the defaults."""
        values = {}
        for name, flag, variable, low, high in (("connect", connect, "BGCTL_CONNECT_TIMEOUT", 0.1, 60.0),
                                                ("read", read, "BGCTL_READ_TIMEOUT", 0.1, 300.0),
                                                ("budget", budget, "BGCTL_RETRY_BUDGET", 0.0, 3600.0)):
            value: float | None = flag
            if value is None and env.get(variable):
                try:
                    value = float(env[variable])
                except ValueError:
                    raise UsageError(f"{variable}={env[variable]!r} is not a number of seconds") from None
            if value is not None:
                if not low <= value <= high:
                    raise UsageError(f"{name} timeout {value:g} s is out of range ({low:g}..{high:g} s)")
                values[name] = value
        return cls(**values)


def is_network_error(exc: BaseException) -> bool:
    """botocore's connection/timeout errors (refused, DNS, black hole, read timeout, reset)."""
    if not (type(exc).__module__ or "").startswith("botocore"):
        return getattr(exc, "transient", False) is True
    return any(base.__name__ in _NETWORK_BASES for base in type(exc).__mro__)


def http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        return int(status) if status else None
    return None


def is_retryable(exc: BaseException) -> bool:
    """Network errors, throttling and 5xx answers; never access, validation or credential errors."""
    if is_network_error(exc):
        return True
    if error_code(exc) in THROTTLING_CODES:
        return True
    status = http_status(exc)
    return status is not None and status >= 500


def describe_failure(exc: BaseException) -> str:
    """One short phrase for a failed attempt: `connection refused`, `no answer within 10 s`, `HTTP 502 ...`."""
    name = type(exc).__name__
    text = str(exc)
    if name == "ReadTimeoutError":
        return "connected, but no answer before the read timeout"
    if name == "ConnectTimeoutError":
        return "connect timed out (no route or a firewall drops packets)"
    if name == "EndpointConnectionError":
        lowered = f"{text} {getattr(exc, 'kwargs', {}).get('error', '')}".lower()
        reason = ("connection refused" if "refused" in lowered else
                  "name not resolved" if "name or service" in lowered or "nodename" in lowered else
                  "cannot connect")
        url = getattr(exc, "kwargs", {}).get("endpoint_url") or ""
        return f"{reason}{f' ({url})' if url else ''}"
    if name == "ConnectionClosedError":
        return "the connection was closed before the answer arrived"
    code = error_code(exc)
    if code:
        status = http_status(exc)
        message = readable_message((getattr(exc, "response", {}).get("Error") or {}).get("Message", ""), status)
        return f"{code}{f': {message}' if message else ''}"
    return readable_message(text) or name


class Notices:
    """What bgctl prints while a call waits or retries (stderr).

    `tty`: one line redrawn in place and cleared once the call succeeds; `plain`: one timestamped line per
    attempt. Thread-safe: the slow-call notice comes from a timer thread.
    """

    def __init__(self, stream: Any, *, mode: str, clock: Callable[[], Any]) -> None:
        self._out = stream
        self._mode = mode
        self._clock = clock
        self._lock = threading.Lock()
        self._inline = False
        self.lines: list[str] = []  # everything announced (kept for the --json record)

    def _stamp(self) -> str:
        from .render import iso

        return iso(self._clock())

    def say(self, text: str) -> None:
        with self._lock:
            self.lines.append(text)
            if self._mode == "tty":
                self._out.write(f"\r\x1b[K{text}")
                self._inline = True
            else:
                self._out.write(f"[{self._stamp()}] {text}\n")
            self._out.flush()

    def clear(self) -> None:
        with self._lock:
            if self._inline:
                self._out.write("\r\x1b[K")
                self._out.flush()
                self._inline = False

    def end_line(self) -> None:
        """Keep an in-place notice on screen (before an error line is printed below it)."""
        with self._lock:
            if self._inline:
                self._out.write("\n")
                self._out.flush()
                self._inline = False


def start_timer(seconds: float, callback: Callable[[], None]) -> Callable[[], None]:
    """Run `callback` after `seconds` in a daemon thread; returns the cancel function."""
    timer = threading.Timer(seconds, callback)
    timer.daemon = True
    timer.start()
    return timer.cancel


class Retrier:
    """`Retrier(...).call("codedeploy GetDeployment", client.get_deployment, deploymentId=...)`.

    Attempt n (1-based) that fails retryably pauses `rand() * min(cap, base * 2**(n-1))` seconds (full
    jitter) if the next attempt can still finish within the budget; otherwise the call gives up with an
    AwsError (exit 7: nothing changed) naming the call, the attempts, the time spent and the last reason.
    """

    def __init__(self, *, timeouts: Timeouts, notices: Notices, monotonic: Callable[[], float],
                 sleep: Callable[[float], None], rand: Callable[[], float] = random.random,
                 timer: Callable[[float, Callable[[], None]], Callable[[], None]] = start_timer,
                 base: float = 1.0, cap: float = 8.0) -> None:
        self.timeouts = timeouts
        self.notices = notices
        self._monotonic = monotonic
        self._sleep = sleep
        self._rand = rand
        self._timer = timer
        self._base = base
        self._cap = cap

    def pause_for(self, attempt: int) -> float:
        return self._rand() * min(self._cap, self._base * (2 ** (attempt - 1)))

    def call(self, label: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        started = self._monotonic()
        attempt = 1
        while True:
            cancel = self._timer(self.timeouts.slow_notice, lambda n=attempt: self.notices.say(
                f"bgctl: waiting for {label} (attempt {n}; no answer yet, read timeout "
                f"{self.timeouts.read:g} s, giving up after {self.timeouts.budget:g} s)"))
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - filtered by is_retryable
                cancel()
                if not is_retryable(exc):
                    self.notices.end_line()
                    raise
                elapsed = self._monotonic() - started
                pause = self.pause_for(attempt)
                if elapsed + pause + self.timeouts.attempt_seconds > self.timeouts.budget:
                    self.notices.end_line()
                    raise AwsError(f"gave up on {label} after {attempt} attempt{'s' if attempt > 1 else ''} in "
                                   f"{elapsed:.0f} s: {describe_failure(exc)} (retry budget "
                                   f"{self.timeouts.budget:g} s: --retry-budget to wait longer)") from exc
                self.notices.say(f"bgctl: {label}: attempt {attempt} failed ({describe_failure(exc)}); "
                                 f"retrying in {pause:.1f} s, giving up {self.timeouts.budget:g} s after the "
                                 f"first attempt")
                self._sleep(pause)
                attempt += 1
                continue
            cancel()
            if attempt > 1:
                self.notices.say(f"bgctl: {label}: answered on attempt {attempt}")
            self.notices.clear()
            return result


class RetryingClient:
    """A boto3 client whose API methods go through `Retrier.call` (everything else passes through)."""

    def __init__(self, client: Any, retrier: Retrier, service: str) -> None:
        self._client = client
        self._retrier = retrier
        self._service = service
        meta = getattr(client, "meta", None)
        self._operations: Mapping[str, str] = getattr(meta, "method_to_api_mapping", None) or {}

    @property
    def raw(self) -> Any:
        return self._client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        operation = self._operations.get(name)
        if operation is None or not callable(attribute):
            return attribute
        label = f"{self._service} {operation}"

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._retrier.call(label, attribute, *args, **kwargs)

        return call
