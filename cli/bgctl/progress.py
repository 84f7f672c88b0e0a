"""What a deployment looks like right now: one immutable `Snapshot` built from raw API answers.

Pure functions only (no AWS): `snapshot_from` turns GetDeployment + GetDeploymentTarget answers, the audit
items of the deployment and alarm states into a Snapshot that the watcher and the renderers consume.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from . import description as description_tokens
from .appspec import task_definition_of
from .errors import BgctlError, DeploymentFailed, DeploymentRolledBack, DeploymentStopped, one_line

STAGES = ("started", "approval", "traffic-shifted", "complete")
IN_FLIGHT_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")
TERMINAL_STATUSES = ("Succeeded", "Failed", "Stopped")
ECS_EVENTS = ("BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic",
              "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")
DONE = ("Succeeded", "Skipped")

# Display steps: (key, title, lifecycle events)
STEPS = (
    ("install", "Start green task set", ("BeforeInstall", "Install", "AfterInstall")),
    ("test", "Test traffic checks", ("AllowTestTraffic", "AfterAllowTestTraffic")),
    ("approval", "Approval", ("BeforeAllowTraffic",)),
    ("shift", "Traffic shift", ("AllowTraffic",)),
    ("verify", "Post-shift checks", ("AfterAllowTraffic",)),
    ("drain", "Drain blue", ()),
)
_STEP_ORDER = {"queued": -1, **{step[0]: i for i, step in enumerate(STEPS)}, "done": len(STEPS)}
PHASE_TITLES = {
    "queued": "Queued",
    "install": "Starting the green task set",
    "test": "Test traffic checks (AfterAllowTestTraffic)",
    "approval": "Waiting for approval (BeforeAllowTraffic)",
    "shift": "Shifting production traffic (AllowTraffic)",
    "verify": "Post-shift verification (AfterAllowTraffic)",
    "drain": "Draining the blue task set (termination wait)",
    "done": "Finished",
}
EVENT_NOTES = {
    "BeforeInstall": "before the green task set starts",
    "Install": "green task set starting",
    "AfterInstall": "green task set started",
    "AllowTestTraffic": "test listener now routes to green",
    "AfterAllowTestTraffic": "smoke tests through the test listener",
    "BeforeAllowTraffic": "approval gate",
    "AllowTraffic": "production traffic shift",
    "AfterAllowTraffic": "post-shift verification",
}


@dataclass(frozen=True)
class Approval:
    status: str
    channel: str | None = None
    requester: str | None = None
    expires_at: datetime | None = None
    decided_by: str | None = None
    decided_via: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Smoke:
    status: str
    passed: int
    total: int
    failed: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskSet:
    label: str
    weight: float
    running: int
    desired: int


@dataclass(frozen=True)
class Snapshot:
    deployment_id: str
    domain: str
    status: str
    events: tuple[tuple[str, str], ...] = ()
    task_sets: tuple[TaskSet, ...] = ()
    draining: bool = False
    drain_until: datetime | None = None
    approval: Approval | None = None
    smoke: Smoke | None = None
    alarms: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    rollback_deployment_id: str | None = None
    rollback_message: str | None = None
    requester: str | None = None
    image: str | None = None
    created_at: datetime | None = None
    notes: tuple[str, ...] = field(default=())
    kind: str = "release"
    task_definition: str | None = None

    def event(self, name: str) -> str:
        return dict(self.events).get(name, "Pending")

    def task_set(self, label: str) -> TaskSet | None:
        return next((t for t in self.task_sets if t.label.lower() == label.lower()), None)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def step_state(self, key: str) -> str:
        """pending | active | done | skipped | failed for a display step."""
        if key == "drain":
            if self.status == "Succeeded":
                return "done"
            if self.terminal:
                return "pending"
            return "active" if self.phase == "drain" else "pending"
        present = dict(self.events)
        events = next(step[2] for step in STEPS if step[0] == key)
        states = [present[e] for e in events if e in present]
        if any(s == "Failed" for s in states):
            return "failed"
        if states and all(s == "Skipped" for s in states):
            return "skipped"
        if states and all(s in DONE for s in states):
            return "done"
        if any(s == "InProgress" for s in states) or any(s in DONE for s in states) or self.phase == key:
            return "active"
        if self.status == "Succeeded" or _STEP_ORDER.get(self.phase, 0) > _STEP_ORDER[key]:
            return "done"
        return "pending"

    @property
    def phase(self) -> str:
        if self.terminal:
            return "done"
        if self.status in ("Created", "Queued"):
            return "queued"
        if self.draining:
            return "drain"
        if not self.events:
            return "install"
        present = dict(self.events)
        for key, _title, events in STEPS:
            if any(present[e] not in DONE for e in events if e in present):
                return key
        return "drain"

    def reached(self, stage: str) -> bool:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        if self.status == "Succeeded":
            return True
        if self.terminal:
            return False
        if stage == "started":
            return True
        if stage == "approval":
            return self.phase in ("approval", "shift", "verify", "drain")
        if stage == "traffic-shifted":
            return self.event("AllowTraffic") == "Succeeded"
        return False

    def failure(self) -> BgctlError | None:
        """The error a watcher raises for a Failed/Stopped deployment (None while it is fine)."""
        if self.status not in ("Failed", "Stopped"):
            return None
        parts = [f"deployment {self.deployment_id} ({self.domain})"]
        if self.rollback_deployment_id:
            parts.append(f"was rolled back by deployment {self.rollback_deployment_id}")
        else:
            parts.append("failed" if self.status == "Failed" else "was stopped")
        failed_events = [name for name, status in self.events if status == "Failed"]
        if failed_events:
            parts.append(f"at {', '.join(failed_events)}")
        text = " ".join(parts)
        details = []
        if self.approval and self.approval.status in ("REJECTED", "EXPIRED"):
            who = f" by {self.approval.decided_by}" if self.approval.decided_by else ""
            why = f" ({self.approval.reason})" if self.approval.reason else ""
            details.append(f"approval {self.approval.status}{who}{why}")
        if self.smoke and self.smoke.status == "FAILED":
            details.append(f"smoke tests FAILED ({', '.join(self.smoke.failed) or 'see the audit table'})")
        if self.error:
            details.append(self.error)
        if self.rollback_message:
            details.append(f"rollback: {self.rollback_message}")
        if details:
            text += ": " + "; ".join(details)
        if self.rollback_deployment_id:
            return DeploymentRolledBack(text)
        if self.status == "Stopped":
            return DeploymentStopped(text)
        return DeploymentFailed(text)


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def decided_by_label(decided_by: Any) -> str | None:
    """`{"name": "Alice", "slackUserId": "U1"}` -> `Alice`;
    `{"iamArn": "arn:aws:sts::1:assumed-role/R/s"}` -> `assumed-role/R/s`."""
    if not isinstance(decided_by, Mapping):
        return str(decided_by) if decided_by else None
    if decided_by.get("name"):
        return str(decided_by["name"])
    if decided_by.get("slackUserId"):
        return str(decided_by["slackUserId"])
    arn = decided_by.get("iamArn")
    if arn:
        return str(arn).split(":", 5)[-1] if str(arn).startswith("arn:") else str(arn)
    return None


def parse_approval(item: Mapping[str, Any] | None) -> Approval | None:
    if not item or not item.get("status"):
        return None
    return Approval(
        status=str(item["status"]),
        channel=item.get("slackChannel"),
        requester=item.get("requester"),
        expires_at=parse_time(item.get("expiresAt")),
        decided_by=decided_by_label(item.get("decidedBy")),
        decided_via=item.get("decidedVia"),
        decided_at=parse_time(item.get("decidedAt")),
        reason=item.get("reason"),
    )


def parse_smoke(item: Mapping[str, Any] | None) -> Smoke | None:
    if not item or not item.get("status"):
        return None
    checks = [c for c in item.get("checks") or [] if isinstance(c, Mapping)]
    failed = tuple(str(c.get("name", "?")) for c in checks if not c.get("passed"))
    return Smoke(status=str(item["status"]), passed=len(checks) - len(failed), total=len(checks), failed=failed)


def _drain_until(deployment: Mapping[str, Any], target: Mapping[str, Any] | None) -> datetime | None:
    config = (deployment.get("blueGreenDeploymentConfiguration") or {}).get(
        "terminateBlueInstancesOnDeploymentSuccess") or {}
    minutes = config.get("terminationWaitTimeInMinutes")
    if minutes is None or not target:
        return None
    ends = [parse_time(e.get("endTime")) for e in target.get("lifecycleEvents") or []
            if e.get("lifecycleEventName") in ("AllowTraffic", "AfterAllowTraffic")]
    ends = [e for e in ends if e]
    return max(ends) + timedelta(minutes=int(minutes)) if ends else None


def deployment_kind(deployment: Mapping[str, Any], registration: Mapping[str, Any] | None = None) -> str:
    """`rollback` for a deployment registered as one (deploy API), described as one (`action=rollback`), or
    created by CodeDeploy to roll another one back; `release` otherwise."""
    if registration and registration.get("kind") in ("release", "rollback"):
        return str(registration["kind"])
    tokens = description_tokens.tokens(deployment.get("description"))
    if tokens.get("action") == "rollback" or tokens.get("kind") == "rollback":
        return "rollback"
    if deployment.get("creator") == "codeDeployRollback" or \
            (deployment.get("rollbackInfo") or {}).get("rollbackTriggeringDeploymentId"):
        return "rollback"
    return "release"


def snapshot_from(deployment: Mapping[str, Any], target: Mapping[str, Any] | None, *, domain: str,
                  audit_items: Iterable[Mapping[str, Any]] = (), alarms: Iterable[tuple[str, str]] = (),
                  notes: Iterable[str] = ()) -> Snapshot:
    """Build a Snapshot from `deploymentInfo`, `deploymentTarget.ecsTarget` and the DEPLOYMENT#id items."""
    by_sk = {str(item.get("sk")): item for item in audit_items}
    events: list[tuple[str, str]] = []
    task_sets: list[TaskSet] = []
    if target:
        raw_events = {e.get("lifecycleEventName"): e.get("status", "Pending")
                      for e in target.get("lifecycleEvents") or []}
        events = [(name, str(raw_events[name])) for name in ECS_EVENTS if name in raw_events]
        events += [(str(n), str(s)) for n, s in raw_events.items() if n not in ECS_EVENTS and n]
        for info in target.get("taskSetsInfo") or []:
            task_sets.append(TaskSet(label=str(info.get("taskSetLabel") or info.get("identifer") or "?"),
                                     weight=float(info.get("trafficWeight") or 0.0),
                                     running=int(info.get("runningCount") or 0),
                                     desired=int(info.get("desiredCount") or 0)))
    error_info = deployment.get("errorInformation") or {}
    error = None
    if error_info.get("code") or error_info.get("message"):
        error = one_line(": ".join(str(x) for x in (error_info.get("code"), error_info.get("message")) if x))
    rollback = deployment.get("rollbackInfo") or {}
    tokens = description_tokens.tokens(deployment.get("description"))
    status = str(deployment.get("status") or "Created")
    draining = bool(deployment.get("instanceTerminationWaitTimeStarted")) and status not in TERMINAL_STATUSES
    return Snapshot(
        deployment_id=str(deployment.get("deploymentId")),
        domain=domain,
        status=status,
        events=tuple(events),
        task_sets=tuple(sorted(task_sets, key=lambda t: (t.label != "Blue", t.label))),
        draining=draining,
        drain_until=_drain_until(deployment, target) if draining else None,
        approval=parse_approval(by_sk.get("APPROVAL")),
        smoke=parse_smoke(by_sk.get("SMOKE")),
        alarms=tuple(alarms),
        error=error,
        rollback_deployment_id=rollback.get("rollbackDeploymentId") or None,
        rollback_message=one_line(rollback["rollbackMessage"]) if rollback.get("rollbackMessage") else None,
        requester=tokens.get("requester"),
        image=tokens.get("image"),
        created_at=parse_time(deployment.get("createTime")),
        notes=tuple(notes),
        kind=deployment_kind(deployment, by_sk.get("REGISTERED")),
        task_definition=task_definition_of(deployment.get("revision")),
    )
