"""What a command runs with: options, environment, streams, clock, sleep and AWS clients (all injectable),
plus what it reports (`Record`, the body of the `--json` document)."""
from __future__ import annotations

import io
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, TextIO


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _real_timer(seconds: float, callback: Callable[[], None]) -> Callable[[], None]:
    from .retry import start_timer

    return start_timer(seconds, callback)


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
    monotonic: Callable[[], float] = time.monotonic
    timer: Callable[[float, Callable[[], None]], Callable[[], None]] = _real_timer
    rand: Callable[[], float] | None = None


@dataclass
class Record:
    """What the command did, for the `--json` document (docs/cli.md, 'Machine output')."""

    deployment: dict[str, Any] | None = None
    data: Any = None
    resume: str | None = None

    def deployment_update(self, **fields: Any) -> None:
        self.deployment = {**(self.deployment or {}), **{k: v for k, v in fields.items() if v is not None}}


@dataclass
class Context:
    platform: str
    region: str | None
    profile: str | None
    runtime: Runtime
    json: bool = False
    progress: str = "auto"
    timeouts: Any = None
    record: Record = field(default_factory=Record)
    captured: io.StringIO = field(default_factory=io.StringIO)
    _clients: Any = None
    _notices: Any = None

    @property
    def env(self) -> Mapping[str, str]:
        return self.runtime.env

    @property
    def stdout(self) -> TextIO:
        """Where progress and narration go: stdout, or stderr when stdout carries the --json document."""
        return self.runtime.stderr if self.json else self.runtime.stdout

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

    def progress_mode(self, stream: TextIO | None = None) -> str:
        """tty | plain: `--progress`, else a TTY outside CI (and not TERM=dumb)."""
        if self.progress in ("tty", "plain"):
            return self.progress
        target = stream if stream is not None else self.stdout
        interactive = bool(getattr(target, "isatty", lambda: False)()) and not self.env.get("CI")
        return "tty" if interactive and self.env.get("TERM", "") != "dumb" else "plain"

    @property
    def notices(self) -> Any:
        if self._notices is None:
            from .retry import Notices

            self._notices = Notices(self.stderr, mode=self.progress_mode(self.stderr), clock=self.clock)
        return self._notices

    def retrier(self) -> Any:
        from .retry import Retrier, Timeouts

        kwargs: dict[str, Any] = {}
        if self.runtime.rand is not None:
            kwargs["rand"] = self.runtime.rand
        return Retrier(timeouts=self.timeouts or Timeouts(), notices=self.notices, monotonic=self.runtime.monotonic,
                       sleep=self.sleep, timer=self.runtime.timer, **kwargs)

    def clients(self) -> Any:
        if self._clients is None:
            from .aws import ClientFactory

            self._clients = ClientFactory(region=self.region, profile=self.profile, env=self.env,
                                          overrides=self.runtime.client_overrides, retrier=self.retrier())
        return self._clients

    def out(self, text: str = "") -> None:
        """A command's result (a table, a document): stdout, or kept for the --json document."""
        if self.json:
            self.captured.write(text + "\n")
            return
        self.runtime.stdout.write(text + "\n")
        self.runtime.stdout.flush()

    def say(self, text: str) -> None:
        """Narration of what happens (stdout; stderr under --json so stdout stays one JSON document)."""
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def warn(self, text: str) -> None:
        self.notices.end_line()
        self.stderr.write(f"bgctl: warning: {text}\n")
        self.stderr.flush()
