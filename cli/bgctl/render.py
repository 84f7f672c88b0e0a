"""Progress display in two modes.

- `TtyRenderer` (interactive terminal): one compact status block, redrawn in place on every poll.
- `PlainRenderer` (CI logs, pipes): timestamped lines, printed only when something changed; in GitHub
  Actions each phase is a collapsible `::group::` and a pending approval is raised as a `::notice::`
  so the approval wait stands out in the job log.

Both take an injected clock so the output is reproducible (tests compare it with golden files).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Mapping, TextIO

from .progress import EVENT_NOTES, PHASE_TITLES, STEPS, Snapshot

PHASE_ORDER = {"queued": 0, **{key: i + 1 for i, (key, _title, _events) in enumerate(STEPS)}, "done": len(STEPS) + 1}
EVENT_PHASE = {event: key for key, _title, events in STEPS for event in events}

Clock = Callable[[], datetime]
HEARTBEAT_SECONDS = 30.0
MARKS = {"pending": "[ ]", "active": "[>]", "done": "[x]", "skipped": "[-]", "failed": "[!]"}


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def hms(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%H:%M:%SZ")


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def weights(snap: Snapshot) -> str | None:
    blue, green = snap.task_set("Blue"), snap.task_set("Green")
    if not blue and not green:
        return None
    return f"blue {blue.weight if blue else 0:g}% | green {green.weight if green else 0:g}%"


def approval_text(snap: Snapshot, now: datetime) -> str | None:
    approval = snap.approval
    if approval is None:
        return None
    if approval.status == "PENDING":
        where = f" in Slack {approval.channel}" if approval.channel else " in Slack"
        if approval.expires_at:
            left = max(0, int((approval.expires_at - now).total_seconds() + 59) // 60)
            return f"PENDING{where}, expires {hms(approval.expires_at)} ({left}m left)"
        return f"PENDING{where}"
    text = approval.status
    if approval.decided_by:
        text += f" by {approval.decided_by}"
    if approval.decided_via:
        text += f" via {approval.decided_via}"
    if approval.decided_at:
        text += f" at {hms(approval.decided_at)}"
    if approval.reason:
        text += f": {approval.reason}"
    return text


def smoke_text(snap: Snapshot) -> str | None:
    smoke = snap.smoke
    if smoke is None:
        return None
    text = f"smoke {smoke.status} {smoke.passed}/{smoke.total}"
    if smoke.failed:
        text += f" (failed: {', '.join(smoke.failed)})"
    return text


def step_detail(snap: Snapshot, key: str, now: datetime) -> str:
    if key == "install":
        green = snap.task_set("Green")
        return f"green {green.running}/{green.desired} running" if green else ""
    if key == "test":
        return smoke_text(snap) or ""
    if key == "approval":
        return approval_text(snap, now) or ""
    if key == "shift":
        return weights(snap) or ""
    if key == "drain":
        if snap.drain_until and snap.step_state("drain") == "active":
            return f"blue kept until {hms(snap.drain_until)}"
        return ""
    return ""


def alarms_text(snap: Snapshot) -> str | None:
    if not snap.alarms:
        return None
    return ", ".join(f"{name} {state}" for name, state in snap.alarms)


class TtyRenderer:
    """Redraws a compact block (cursor up + clear) on every update; lines are cut to the terminal width."""

    def __init__(self, stream: TextIO, clock: Clock, *, width: int = 100) -> None:
        self._out = stream
        self._clock = clock
        self._width = max(40, width)
        self._drawn = 0
        self._started = clock()

    def begin(self, deployment_id: str, domain: str, console: str | None = None) -> None:
        self._started = self._clock()
        if console:
            self._out.write(f"console: {console}\n")
            self._out.flush()

    def block(self, snap: Snapshot) -> list[str]:
        now = self._clock()
        since = snap.created_at or self._started
        lines = [f"{snap.domain}  {snap.deployment_id}  {snap.status}  {duration((now - since).total_seconds())} "
                 f"elapsed"]
        for key, title, _events in STEPS:
            detail = step_detail(snap, key, now)
            lines.append(f"  {MARKS[snap.step_state(key)]} {title:<21}{('  ' + detail) if detail else ''}".rstrip())
        alarms = alarms_text(snap)
        if alarms:
            lines.append(f"  alarms: {alarms}")
        for note in snap.notes:
            lines.append(f"  note: {note}")
        return [line if len(line) < self._width else line[: self._width - 2] + "~" for line in lines]

    def update(self, snap: Snapshot, next_poll: float | None = None) -> None:
        lines = self.block(snap)
        if next_poll is not None and not snap.terminal:
            lines.append(f"  checked {hms(self._clock())}, next check in {next_poll:g} s; Ctrl-C stops watching, "
                         "not the deployment"[: self._width - 1])
        if self._drawn:
            self._out.write(f"\x1b[{self._drawn}A\r\x1b[J")
        self._out.write("\n".join(lines) + "\n")
        self._out.flush()
        self._drawn = len(lines)

    def finish(self, snap: Snapshot, result: str | None) -> None:
        self._drawn = 0
        if result:
            self._out.write(f"{result}\n")
            self._out.flush()

    def interrupt(self) -> None:
        self._drawn = 0
        self._out.write("\n")
        self._out.flush()


class PlainRenderer:
    """Timestamped lines on change only; a heartbeat line after `heartbeat` seconds of silence (30 s: a
    CI log never looks hung)."""

    def __init__(self, stream: TextIO, clock: Clock, *, github: bool = False, heartbeat: float = HEARTBEAT_SECONDS
                 ) -> None:
        self._out = stream
        self._clock = clock
        self._github = github
        self._heartbeat = heartbeat
        self._prev: Snapshot | None = None
        self._last_line_at: datetime | None = None
        self._group_open = False
        self._phase: str | None = None
        self._noticed_approval = False
        self._deployment_id = ""
        self._phase_since: datetime | None = None

    def _line(self, text: str) -> None:
        now = self._clock()
        self._out.write(f"[{iso(now)}] {text}\n")
        self._last_line_at = now

    def _raw(self, text: str) -> None:
        self._out.write(text + "\n")

    def begin(self, deployment_id: str, domain: str, console: str | None = None) -> None:
        self._deployment_id = deployment_id
        self._line(f"watching deployment {deployment_id} ({domain}){f'; console: {console}' if console else ''}")
        self._out.flush()

    def _open_group(self, phase: str, snap: Snapshot) -> None:
        """GitHub Actions: one collapsible group per phase; phases only move forward."""
        if not self._github or phase == self._phase:
            return
        if self._phase is not None and PHASE_ORDER.get(phase, 0) < PHASE_ORDER.get(self._phase, 0):
            return
        self._phase = phase
        if self._group_open:
            self._raw("::endgroup::")
            self._group_open = False
        if phase not in ("done", "queued"):
            title = PHASE_TITLES[phase]
            if phase == "approval":
                title = "Waiting for approval in Slack (BeforeAllowTraffic)"
            self._raw(f"::group::{snap.domain}: {title}")
            self._group_open = True

    def changes(self, prev: Snapshot | None, snap: Snapshot) -> list[tuple[str | None, str]]:
        """What changed since `prev`, as (phase the line belongs to or None, text), in reading order."""
        now = self._clock()
        lines: list[tuple[str | None, str]] = []
        status_changed = prev is None or prev.status != snap.status
        if status_changed and not snap.terminal:
            lines.append((None, f"status {snap.status}"))
        # detail lines, each printed right after the lifecycle event it belongs to (or at the end)
        details: dict[str, tuple[str | None, str]] = {}
        green = snap.task_set("Green")
        old_green = prev.task_set("Green") if prev else None
        if green and (old_green is None or (old_green.running, old_green.desired) != (green.running, green.desired)):
            details["Install"] = ("install", f"green task set {green.running}/{green.desired} running")
        smoke = smoke_text(snap)
        if smoke and smoke != (smoke_text(prev) if prev else None):
            details["AfterAllowTestTraffic"] = ("test", smoke)
        old_approval = prev.approval if prev else None
        if snap.approval and (old_approval is None or old_approval.status != snap.approval.status):
            text = f"approval {approval_text(snap, now)}"
            if snap.approval.status == "PENDING":
                text += f" (break-glass: bgctl approve {snap.deployment_id} --reason ...)"
            details["BeforeAllowTraffic"] = ("approval", text)
        traffic = weights(snap)
        if traffic and traffic != (weights(prev) if prev else None):
            details["AllowTraffic"] = (None, f"traffic {traffic}")
        before = dict(prev.events) if prev else {}
        for name, status in snap.events:
            if before.get(name, "Pending") != status:
                lines.append((EVENT_PHASE.get(name), f"{name} {status} - {EVENT_NOTES.get(name, 'lifecycle event')}"))
            if name in details:
                lines.append(details.pop(name))
        lines.extend(details.values())
        if snap.draining and not (prev and prev.draining):
            until = f" until {hms(snap.drain_until)}" if snap.drain_until else ""
            lines.append(("drain", f"draining the blue task set{until} (old version kept for rollback and open "
                                   "sessions)"))
        if prev is None and snap.alarms:
            lines.append((None, f"alarms {alarms_text(snap)}"))
        elif prev is not None:
            old_alarms = dict(prev.alarms)
            for name, state in snap.alarms:
                if old_alarms.get(name) != state:
                    lines.append((None, f"alarm {name} {state}"))
        if snap.error and snap.error != (prev.error if prev else None):
            lines.append((None, f"error {snap.error}"))
        if snap.rollback_message and snap.rollback_message != (prev.rollback_message if prev else None):
            lines.append((None, f"rollback {snap.rollback_message}"))
        for note in snap.notes:
            if not prev or note not in prev.notes:
                lines.append((None, f"note: {note}"))
        if status_changed and snap.terminal:
            lines.append(("done", f"status {snap.status}"))
        return lines

    def update(self, snap: Snapshot, next_poll: float | None = None) -> None:
        lines = self.changes(self._prev, snap)
        if self._prev is None:
            self._open_group(next((phase for phase, _text in lines if phase), snap.phase), snap)
        for phase, text in lines:
            if phase is not None:
                self._open_group(phase, snap)
            self._line(text)
        if not snap.terminal:
            self._open_group(snap.phase, snap)
        if (self._github and not self._noticed_approval and snap.approval
                and snap.approval.status == "PENDING"):
            self._noticed_approval = True
            expires = f", expires {hms(snap.approval.expires_at)}" if snap.approval.expires_at else ""
            channel = f" channel {snap.approval.channel}" if snap.approval.channel else ""
            self._raw(f"::notice title=Approval needed ({snap.domain})::Deployment {snap.deployment_id} waits for "
                      f"approval in Slack{channel}{expires}. Break-glass: bgctl approve {snap.deployment_id} "
                      f"--reason ...")
        now = self._clock()
        if (not lines and self._last_line_at is not None and not snap.terminal
                and (now - self._last_line_at).total_seconds() >= self._heartbeat):
            waiting = PHASE_TITLES[snap.phase].split(" (")[0].lower()
            if snap.phase == "approval" and snap.approval and snap.approval.status == "PENDING":
                waiting += f": {approval_text(snap, now)}"
            since = duration((now - self._phase_since).total_seconds()) if self._phase_since else None
            self._line(f"still {waiting}{f' ({since} in this phase)' if since else ''}"
                       f"{f'; next check in {next_poll:g} s' if next_poll else ''}")
        if self._prev is None or self._prev.phase != snap.phase:
            self._phase_since = now
        self._prev = snap
        self._out.flush()

    def finish(self, snap: Snapshot, result: str | None) -> None:
        if self._group_open:
            self._raw("::endgroup::")
            self._group_open = False
        if result:
            self._line(result)
        self._out.flush()

    def interrupt(self) -> None:
        if self._group_open:
            self._raw("::endgroup::")
            self._group_open = False
        self._out.flush()


def make_renderer(mode: str, stream: TextIO, clock: Clock, env: Mapping[str, str],
                  width: int = 100) -> TtyRenderer | PlainRenderer:
    """`auto` picks the TTY block on an interactive terminal (and not in CI), plain lines otherwise."""
    if mode == "auto":  # pragma: no cover - callers resolve the mode (Context.progress_mode)
        interactive = bool(getattr(stream, "isatty", lambda: False)()) and not env.get("CI")
        mode = "tty" if interactive and env.get("TERM", "") != "dumb" else "plain"
    if mode == "tty":
        return TtyRenderer(stream, clock, width=width)
    return PlainRenderer(stream, clock, github=env.get("GITHUB_ACTIONS") == "true")
