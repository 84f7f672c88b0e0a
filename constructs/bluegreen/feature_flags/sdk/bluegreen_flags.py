"""Feature-flag client for domain services: asks the AppConfig agent sidecar, never breaks the caller.

Single file, standard library only: copy it into a service or import it as
`bluegreen.feature_flags.sdk.bluegreen_flags`.

    from bluegreen_flags import FlagClient

    flags = FlagClient()                       # URL from FEATURE_FLAGS_URL (set by the platform)
    if flags.is_enabled("new_checkout", user_id=request.user_id):
        ...
    limits = flags.attributes("rate_limits", default={"per_minute": 60})

How it talks to the agent (AWS AppConfig Agent >= 2.0.4416):
- GET the configuration path of FEATURE_FLAGS_URL; the agent answers with every flag already
  evaluated: `{"<flag>": {"enabled": true, "<attr>": ...}, ...}` (plus `_variant` for multi-variant flags).
- For targeted flags the caller context goes in the `Context` request header as `userId=<id>`; the
  agent evaluates the variant rules with it.

Failure policy: the agent being down, slow (bounded by `timeout`, 0.2 s by default, for the whole
request), answering an error or garbage all give the caller's `default`. After a failure the client
stops asking for `failure_backoff` seconds so a dead agent costs nothing per request. Good answers are
cached per user for `cache_ttl` seconds (the agent itself polls AppConfig every 45 s by default).
`clock` (monotonic seconds) drives the cache, the back-off and the request deadline.
"""
from __future__ import annotations

import http.client
import json
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

__all__ = ["FlagClient", "ENV_URL"]

ENV_URL = "FEATURE_FLAGS_URL"
CONTEXT_HEADER = "Context"
USER_CONTEXT_KEY = "userId"
_USER_ID_RE = re.compile(r"[A-Za-z0-9._@:+-]{1,128}", re.ASCII)
_MAX_BODY_BYTES = 1024 * 1024
_log = logging.getLogger("bluegreen_flags")


class _Unavailable(Exception):
    """The agent gave no usable answer."""


class FlagClient:
    """Reads feature flags from the local AppConfig agent with a bounded wait and safe defaults.

    Thread-safe. One instance per process is enough; it keeps a small LRU cache keyed by user.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        timeout: float = 0.2,
        cache_ttl: float = 5.0,
        failure_backoff: float = 1.0,
        max_cached_users: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url if url is not None else os.environ.get(ENV_URL, "")
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self.failure_backoff = failure_backoff
        self.max_cached_users = max_cached_users
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: OrderedDict[str | None, tuple[float, dict[str, Any]]] = OrderedDict()
        self._down_until = 0.0
        self._target: tuple[str, int, str] | None = None
        try:
            parts = urlsplit(self.url)
            if parts.scheme == "http" and parts.hostname:
                path = parts.path or "/"
                self._target = (parts.hostname, parts.port or 80, f"{path}?{parts.query}" if parts.query else path)
        except ValueError:  # e.g. a non-numeric port
            pass
        if self.url and self._target is None:
            _log.warning("feature flags disabled: %s=%r is not an http:// URL", ENV_URL, self.url)

    # -- public API ---------------------------------------------------------------------------

    def is_enabled(self, flag_key: str, user_id: str | None = None, default: bool = False) -> bool:
        """The flag's on/off value for this user, or `default` when it cannot be known."""
        flag = self._flag(flag_key, user_id)
        if flag is None:
            return default
        enabled = flag.get("enabled")
        return enabled if isinstance(enabled, bool) else default

    def attributes(self, flag_key: str, user_id: str | None = None,
                   default: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The flag's attribute values over `default` (which also stands in when nothing is known).

        AppConfig returns attributes only for a flag that is on, so an off flag gives `default`.
        `enabled` and the agent's `_variant` marker are not attributes.
        """
        result = dict(default or {})
        flag = self._flag(flag_key, user_id)
        if flag is not None and isinstance(flag.get("enabled"), bool):
            result.update((name, value) for name, value in flag.items()
                          if name != "enabled" and not name.startswith("_"))
        return result

    def all_flags(self, user_id: str | None = None) -> dict[str, Any] | None:
        """Every evaluated flag for this user, or None when the agent cannot answer."""
        try:
            return dict(self._fetch_cached(user_id))
        except _Unavailable:
            return None

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._down_until = 0.0

    # -- internals ----------------------------------------------------------------------------

    def _flag(self, flag_key: str, user_id: str | None) -> dict[str, Any] | None:
        if not isinstance(flag_key, str):
            return None
        try:
            flags = self._fetch_cached(user_id)
        except _Unavailable:
            return None
        flag = flags.get(flag_key)
        return flag if isinstance(flag, dict) else None

    def _fetch_cached(self, user_id: str | None) -> dict[str, Any]:
        if self._target is None:
            raise _Unavailable("no agent URL")
        if user_id is not None and (not isinstance(user_id, str) or not _USER_ID_RE.fullmatch(user_id)):
            # Cannot be sent safely in the Context header, and no targeting rule can match it.
            user_id = None
        now = self._clock()
        with self._lock:
            cached = self._cache.get(user_id)
            if cached is not None and cached[0] > now:
                self._cache.move_to_end(user_id)
                return cached[1]
            if now < self._down_until:
                raise _Unavailable("agent marked down")
        try:
            flags = self._request(user_id)
        except _Unavailable as problem:
            with self._lock:
                if self._clock() >= self._down_until:
                    _log.warning("feature flags unavailable, using defaults for %.1fs: %s", self.failure_backoff, problem)
                self._down_until = self._clock() + self.failure_backoff
            raise
        with self._lock:
            self._cache[user_id] = (self._clock() + self.cache_ttl, flags)
            self._cache.move_to_end(user_id)
            while len(self._cache) > self.max_cached_users:
                self._cache.popitem(last=False)
        return flags

    def _request(self, user_id: str | None) -> dict[str, Any]:
        assert self._target is not None
        host, port, path = self._target
        deadline = self._clock() + self.timeout
        connection = http.client.HTTPConnection(host, port, timeout=self.timeout)
        try:
            headers = {"Accept": "application/json"}
            if user_id is not None:
                headers[CONTEXT_HEADER] = f"{USER_CONTEXT_KEY}={user_id}"
            connection.connect()
            sock = connection.sock  # kept: http.client may drop its own reference once the response is read
            sock.settimeout(self._remaining(deadline))
            connection.request("GET", path, headers=headers)
            sock.settimeout(self._remaining(deadline))
            response = connection.getresponse()
            if response.status != 200:
                raise _Unavailable(f"agent answered HTTP {response.status}")
            chunks: list[bytes] = []
            size = 0
            while True:
                sock.settimeout(self._remaining(deadline))  # the whole request, not each read, is bounded
                chunk = response.read1(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > _MAX_BODY_BYTES:
                    raise _Unavailable("agent answer too large")
                chunks.append(chunk)
            body = json.loads(b"".join(chunks).decode("utf-8"))
        except _Unavailable:
            raise
        except Exception as error:  # noqa: BLE001 - any transport or decoding problem means "use defaults"
            raise _Unavailable(f"{type(error).__name__}: {error}") from None
        finally:
            connection.close()
        if not isinstance(body, dict):
            raise _Unavailable("agent answer is not a JSON object")
        return body

    def _remaining(self, deadline: float) -> float:
        left = deadline - self._clock()
        if left <= 0:
            raise _Unavailable("timed out")
        return left
