"""Exponential backoff with full jitter for polling calls.

Every client call is already retried visibly (retry.Retrier); `Backoff` remains for callers that page
through results themselves and pause between partial answers.
"""
from __future__ import annotations

import random
from typing import Any, Callable, TypeVar

T = TypeVar("T")

from .retry import THROTTLING_CODES, is_retryable  # noqa: E402,F401 - one definition of 'retryable'


class Backoff:
    """`Backoff(sleep=time.sleep).call(client.get_deployment, deploymentId=...)`.

    Attempt n (0-based) that fails with a retryable error sleeps `rand() * min(cap, base * 2**n)` seconds
    (full jitter); after `attempts` tries the last error propagates.
    """

    def __init__(self, *, sleep: Callable[[float], None], attempts: int = 6, base: float = 1.0, cap: float = 30.0,
                 rand: Callable[[], float] = random.random,
                 on_retry: Callable[[BaseException, float], None] | None = None) -> None:
        if attempts < 1:
            raise ValueError("attempts must be >= 1")
        self._sleep = sleep
        self._attempts = attempts
        self._base = base
        self._cap = cap
        self._rand = rand
        self._on_retry = on_retry

    def delay(self, attempt: int) -> float:
        return self._rand() * min(self._cap, self._base * (2 ** attempt))

    def pause(self, attempt: int) -> None:
        """Sleep the jittered delay of `attempt` (for callers retrying partial results themselves)."""
        self._sleep(self.delay(attempt))

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        for attempt in range(self._attempts):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - filtered by is_retryable
                if attempt + 1 >= self._attempts or not is_retryable(exc):
                    raise
                delay = self.delay(attempt)
                if self._on_retry is not None:
                    self._on_retry(exc, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover
