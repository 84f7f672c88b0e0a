"""What a command runs with: options, environment, streams, clock, sleep and AWS clients (all injectable)."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, TextIO


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Runtime:
    """The outside world; tests replace any part of it."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = time.sleep
    width: int | None = None
    client_overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    platform: str
    region: str | None
    profile: str | None
    runtime: Runtime
    _clients: Any = None

    @property
    def env(self) -> Mapping[str, str]:
        return self.runtime.env

    @property
    def stdout(self) -> TextIO:
        return self.runtime.stdout

    @property
    def stderr(self) -> TextIO:
        return self.runtime.stderr

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.runtime.clock

    @property
    def sleep(self) -> Callable[[float], None]:
        return self.runtime.sleep

    @property
    def width(self) -> int:
        if self.runtime.width:
            return self.runtime.width
        import shutil

        return shutil.get_terminal_size((100, 24)).columns

    def clients(self) -> Any:
        if self._clients is None:
            from .aws import ClientFactory

            self._clients = ClientFactory(region=self.region, profile=self.profile, env=self.env,
                                          overrides=self.runtime.client_overrides)
        return self._clients

    def out(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def warn(self, text: str) -> None:
        self.stderr.write(f"bgctl: warning: {text}\n")
        self.stderr.flush()
