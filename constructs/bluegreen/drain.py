"""Drain policy: how long the old (blue) version keeps serving connections it already has.

A session that started just before traffic moved may last `max_session_seconds` more. The old
version must outlive it twice over, independently:

* the blue task set is kept for `termination_wait_minutes` after the switch (instant rollback
  stays possible, and established connections keep flowing to blue targets), and
* when CodeDeploy terminates it, each target drains for `deregistration_delay_seconds` before
  ECS stops the task (ALB keeps in-flight connections to a draining target open that long).

Either alone covers the longest session, so a manual "terminate original task set now" still
cuts nobody. Fargate's stopTimeout (max 120 s) cannot cover a session; draining must.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

MAX_DEREGISTRATION_DELAY_SECONDS = 3600
MAX_TERMINATION_WAIT_MINUTES = 2880
MAX_ALB_IDLE_TIMEOUT_SECONDS = 4000


def _round_up(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


@dataclass(frozen=True)
class DrainPolicy:
    """Named drain settings for one domain, derived from its longest session."""

    name: str
    max_session_seconds: int
    deregistration_delay_seconds: int
    termination_wait_minutes: int
    min_idle_timeout_seconds: int

    @classmethod
    def for_http(cls, max_session_seconds: int) -> "DrainPolicy":
        """Short request/response traffic: drain fast so deployments stay fast."""
        margin = max(30, _round_up(max_session_seconds / 3, 30))
        return cls(
            name="http-short",
            max_session_seconds=max_session_seconds,
            deregistration_delay_seconds=min(MAX_DEREGISTRATION_DELAY_SECONDS, max_session_seconds + margin),
            termination_wait_minutes=math.ceil(max_session_seconds / 60) + 5,
            min_idle_timeout_seconds=1,
        )

    @classmethod
    def for_websocket(cls, max_session_seconds: int) -> "DrainPolicy":
        """Long-lived WebSocket sessions: 30-minute sessions give 2400 s delay and 35 min wait."""
        margin = max(300, _round_up(max_session_seconds / 3, 60))
        return cls(
            name="websocket-session-safe",
            max_session_seconds=max_session_seconds,
            deregistration_delay_seconds=min(MAX_DEREGISTRATION_DELAY_SECONDS, max_session_seconds + margin),
            termination_wait_minutes=math.ceil(max_session_seconds / 60) + 5,
            # A muted caller sends nothing; the ALB must not close the socket mid-session.
            min_idle_timeout_seconds=min(MAX_ALB_IDLE_TIMEOUT_SECONDS, max_session_seconds + 60),
        )

    def with_overrides(self, *, deregistration_delay_seconds: int | None,
                       termination_wait_minutes: int | None) -> "DrainPolicy":
        return DrainPolicy(
            name=self.name if deregistration_delay_seconds is None and termination_wait_minutes is None
            else f"{self.name}+overrides",
            max_session_seconds=self.max_session_seconds,
            deregistration_delay_seconds=self.deregistration_delay_seconds
            if deregistration_delay_seconds is None else deregistration_delay_seconds,
            termination_wait_minutes=self.termination_wait_minutes
            if termination_wait_minutes is None else termination_wait_minutes,
            min_idle_timeout_seconds=self.min_idle_timeout_seconds,
        )

    def problems(self) -> list[tuple[str, str, str]]:
        """(field, problem, fix) for every way this policy could cut a session or break a limit."""
        found: list[tuple[str, str, str]] = []
        if not 0 <= self.deregistration_delay_seconds <= MAX_DEREGISTRATION_DELAY_SECONDS:
            found.append(("drain.deregistration_delay_seconds",
                          f"{self.deregistration_delay_seconds} is outside the ALB range 0..3600",
                          "use a value between 0 and 3600"))
        elif self.deregistration_delay_seconds < self.max_session_seconds:
            found.append(("drain.deregistration_delay_seconds",
                          f"{self.deregistration_delay_seconds} s is shorter than max_session_seconds "
                          f"{self.max_session_seconds}: draining targets would cut live sessions",
                          f"set it to at least {self.max_session_seconds} or remove it to use the derived value"))
        if not 0 <= self.termination_wait_minutes <= MAX_TERMINATION_WAIT_MINUTES:
            found.append(("drain.termination_wait_minutes",
                          f"{self.termination_wait_minutes} is outside CodeDeploy's range 0..2880",
                          "use a value between 0 and 2880"))
        elif self.termination_wait_minutes * 60 < self.max_session_seconds:
            found.append(("drain.termination_wait_minutes",
                          f"{self.termination_wait_minutes} min is shorter than max_session_seconds "
                          f"{self.max_session_seconds}: blue would be terminated under live sessions",
                          f"set it to at least {math.ceil(self.max_session_seconds / 60)} or remove it"))
        return found
