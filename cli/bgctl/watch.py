"""Poll a deployment until a stage is reached, it ends, the wait times out, contact is lost, or the user
stops watching (Ctrl-C, SIGTERM).

Sources per poll (every call retried visibly by the client wrapper, see retry.py): GetDeployment (status,
errors, rollback, termination wait), ListDeploymentTargets once + GetDeploymentTarget (ECS lifecycle
events, task-set traffic weights), the audit items `DEPLOYMENT#<id>` (APPROVAL, SMOKE, REGISTERED) and the
deployment group's alarms (DescribeAlarms). The audit table and the alarms are informational: if they
cannot be read the watch goes on without them. Losing AWS altogether ends the watch with exit 8 and the
resume command: the deployment itself continues in CodeDeploy.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from .errors import (EXIT_OK, DeploymentFailed, Interrupted, LostContact, Terminated, TerminateSignal, WaitTimeout,
                     error_code, is_credential_error)
from .links import console_url, resume_command
from .metadata import domain_from_application
from .progress import PHASE_TITLES, Snapshot, snapshot_from
from .render import PlainRenderer, TtyRenderer

POLL_SECONDS = 5.0
SLOW_POLL_SECONDS = 15.0  # while a human decides or the blue task set drains
_DENIED = ("AccessDenied", "AccessDeniedException", "ResourceNotFoundException", "UnauthorizedOperation")


def deserialize_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values -> plain Python, exactly as `bgruntime.approvals` reads its own items."""
    from bgruntime.approvals import from_item

    return from_item(item) or {}


class DeploymentProbe:
    """Reads everything a Snapshot needs; one instance per watched deployment."""

    def __init__(self, clients: Any, *, platform: str, deployment_id: str, audit_table: str | None) -> None:
        self._clients = clients
        self._platform = platform
        self._deployment_id = deployment_id
        self._audit_table = audit_table
        self._target_id: str | None = None
        self._alarm_names: list[str] | None = None
        self._notes: list[str] = []

    def _note_once(self, text: str) -> None:
        if text not in self._notes:
            self._notes.append(text)

    def _target(self, codedeploy: Any) -> dict[str, Any] | None:
        if self._target_id is None:
            answer = codedeploy.list_deployment_targets(deploymentId=self._deployment_id)
            ids = answer.get("targetIds") or []
            if not ids:
                return None
            self._target_id = ids[0]
        answer = codedeploy.get_deployment_target(deploymentId=self._deployment_id, targetId=self._target_id)
        target = answer.get("deploymentTarget") or {}
        return target.get("ecsTarget")

    def _audit(self) -> list[dict[str, Any]]:
        """The approval as its append-only records derive it (sk APPROVAL), the registration, and the smoke
        result (its own key space, `SMOKE#<id>`), in the shapes `progress.snapshot_from` reads."""
        if not self._audit_table:
            return []
        from bgruntime.approvals import ApprovalState

        try:
            records = self._query(f"DEPLOYMENT#{self._deployment_id}")
            smoke = self._query(f"SMOKE#{self._deployment_id}")
        except Exception as exc:
            if error_code(exc) in _DENIED:
                self._note_once(f"audit table {self._audit_table} not readable ({error_code(exc)})")
                self._audit_table = None
                return []
            raise
        state = ApprovalState.from_records(self._deployment_id, records)
        items = [{**state.view(), "sk": "APPROVAL"}] if state.request else []
        if state.registration:
            items.append(dict(state.registration))
        items.extend({**record, "sk": "SMOKE"} for record in smoke[:1])
        return items

    def _query(self, partition: str) -> list[dict[str, Any]]:
        answer = self._clients.client("dynamodb").query(
            TableName=self._audit_table, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": partition}})
        return [deserialize_item(item) for item in answer.get("Items", [])]

    def _alarms(self, deployment: dict[str, Any]) -> list[tuple[str, str]]:
        try:
            if self._alarm_names is None:
                group = self._clients.client("codedeploy").get_deployment_group(
                    applicationName=deployment["applicationName"], deploymentGroupName=deployment["deploymentGroupName"])
                config = (group.get("deploymentGroupInfo") or {}).get("alarmConfiguration") or {}
                names = [a["name"] for a in config.get("alarms") or [] if a.get("name")]
                self._alarm_names = names if config.get("enabled", True) else []
            if not self._alarm_names:
                return []
            answer = self._clients.client("cloudwatch").describe_alarms(AlarmNames=self._alarm_names)
        except Exception as exc:
            if error_code(exc) in _DENIED:
                self._note_once(f"alarm states not readable ({error_code(exc)})")
                self._alarm_names = []
                return []
            raise
        states = {a["AlarmName"]: a.get("StateValue", "?") for a in answer.get("MetricAlarms", [])}
        return [(name, states.get(name, "MISSING")) for name in self._alarm_names]

    def fetch(self) -> Snapshot:
        codedeploy = self._clients.client("codedeploy")
        deployment = codedeploy.get_deployment(deploymentId=self._deployment_id)["deploymentInfo"]
        domain = domain_from_application(str(deployment.get("applicationName", "?")), self._platform)
        target = self._target(codedeploy) if deployment.get("status") not in ("Created", "Queued") else None
        audit = self._audit()
        alarms = self._alarms(deployment)
        return snapshot_from(deployment, target, domain=domain, audit_items=audit, alarms=alarms, notes=self._notes)


@dataclass
class Watcher:
    fetch: Callable[[], Snapshot]
    renderer: TtyRenderer | PlainRenderer
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    poll_seconds: float = POLL_SECONDS
    slow_poll_seconds: float = SLOW_POLL_SECONDS
    on_snapshot: Callable[[Snapshot], None] | None = None
    console: str | None = None
    announce_console: bool = True

    def interval(self, snap: Snapshot) -> float:
        waiting_on_human = snap.phase == "approval" and snap.approval is not None and snap.approval.status == "PENDING"
        return self.slow_poll_seconds if waiting_on_human or snap.phase == "drain" else self.poll_seconds

    def run(self, deployment_id: str, domain: str, *, until: str = "complete",
            timeout_minutes: float | None = None) -> int:
        """Wait until `until` is reached (0) or the deployment fails / rolls back / stops (raised)."""

        def verdict(snap: Snapshot) -> int | None:
            failure = snap.failure()
            if failure is not None:
                self.renderer.finish(snap, None)
                raise failure
            if snap.reached(until):
                self.renderer.finish(snap, reached_message(snap, until))
                return EXIT_OK
            return None

        return self._loop(deployment_id, domain, verdict, timeout_minutes, f"'{until}'")

    def run_until_stopped(self, deployment_id: str, domain: str, *, timeout_minutes: float | None = None) -> int:
        """After StopDeployment: 0 once it is Stopped (or rolled back); raised if it succeeded or failed."""

        def verdict(snap: Snapshot) -> int | None:
            if not snap.terminal:
                return None
            if snap.status == "Stopped" or snap.rollback_deployment_id:
                rolled = f", rolled back by {snap.rollback_deployment_id}" if snap.rollback_deployment_id else ""
                self.renderer.finish(snap, f"deployment {deployment_id} stopped{rolled}: production traffic is on "
                                           "the previous (blue) task set")
                return EXIT_OK
            self.renderer.finish(snap, None)
            if snap.status == "Succeeded":
                raise DeploymentFailed(f"deployment {deployment_id} completed before the stop took effect; run "
                                       f"`bgctl rollback {domain}` again to redeploy the previous revision")
            failure = snap.failure()
            if failure is None:
                failure = DeploymentFailed(f"deployment {deployment_id} ended {snap.status}")
            raise failure

        return self._loop(deployment_id, domain, verdict, timeout_minutes, "the stop")

    def _continues(self, deployment_id: str) -> str:
        console = f" (console: {self.console})" if self.console else ""
        return f"deployment {deployment_id} continues in CodeDeploy; resume with: {resume_command(deployment_id)}" \
               f"{console}"

    def _loop(self, deployment_id: str, domain: str, verdict: Callable[[Snapshot], int | None],
              timeout_minutes: float | None, waiting_for: str) -> int:
        started = self.clock()
        deadline = started + timedelta(minutes=timeout_minutes) if timeout_minutes else None
        self.renderer.begin(deployment_id, domain, self.console if self.announce_console else None)
        try:
            while True:
                snap = self.fetch()
                if self.on_snapshot is not None:
                    self.on_snapshot(snap)
                pause = self.interval(snap)
                now = self.clock()
                if deadline is not None:
                    pause = max(0.0, min(pause, (deadline - now).total_seconds()))
                self.renderer.update(snap, next_poll=pause)
                result = verdict(snap)
                if result is not None:
                    return result
                if deadline is not None and now >= deadline:
                    self.renderer.finish(snap, None)
                    raise WaitTimeout(
                        f"timed out after {timeout_minutes:g} min waiting for {waiting_for}: deployment "
                        f"{deployment_id} is {snap.status} ({PHASE_TITLES[snap.phase].split(' (')[0].lower()}) "
                        f"and continues; resume with: {resume_command(deployment_id)}")
                self.sleep(pause)
        except KeyboardInterrupt:
            self.renderer.interrupt()
            raise Interrupted(self._continues(deployment_id)) from None
        except TerminateSignal:
            self.renderer.interrupt()
            raise Terminated(self._continues(deployment_id)) from None


def reached_message(snap: Snapshot, until: str) -> str:
    if snap.status == "Succeeded":
        runs = " ".join(x for x in (snap.task_definition and snap.task_definition.rsplit("/", 1)[-1], snap.image) if x)
        return f"deployment {snap.deployment_id} succeeded: {snap.domain} runs {runs or 'the new revision'}"
    if until == "traffic-shifted":
        return (f"deployment {snap.deployment_id}: production traffic is on green; the blue task set drains "
                f"(follow with: bgctl watch {snap.deployment_id})")
    if until == "approval":
        return (f"deployment {snap.deployment_id} reached the approval gate "
                f"(follow with: bgctl watch {snap.deployment_id})")
    return f"deployment {snap.deployment_id} started (follow with: bgctl watch {snap.deployment_id})"


def make_watcher(ctx: Any, clients: Any, *, deployment_id: str, audit_table: str | None,
                 announce_console: bool = True) -> Watcher:
    from .render import make_renderer

    probe = DeploymentProbe(clients, platform=ctx.platform, deployment_id=deployment_id, audit_table=audit_table)
    renderer = make_renderer(ctx.progress_mode(), ctx.stdout, ctx.clock, ctx.env, width=ctx.width)
    link = (ctx.record.deployment or {}).get("consoleUrl") or console_url(clients.region, deployment_id)
    ctx.record.deployment_update(id=deployment_id, consoleUrl=link)
    ctx.record.resume = resume_command(deployment_id)

    def remember(snap: Snapshot) -> None:
        ctx.record.deployment_update(id=snap.deployment_id, domain=snap.domain, status=snap.status, phase=snap.phase,
                                     kind=snap.kind, rollbackDeploymentId=snap.rollback_deployment_id,
                                     taskDefinition=snap.task_definition)

    return Watcher(fetch=probe.fetch, renderer=renderer, clock=ctx.clock, sleep=ctx.sleep, on_snapshot=remember,
                   console=link, announce_console=announce_console)


def watch_deployment(ctx: Any, clients: Any, *, deployment_id: str, domain: str | None, audit_table: str | None,
                     until: str, timeout_minutes: float | None, announce_console: bool = True) -> int:
    """Shared by `deploy`, `rollback` and `watch`."""
    watcher = make_watcher(ctx, clients, deployment_id=deployment_id, audit_table=audit_table,
                           announce_console=announce_console)
    return continues_on_aws_error(deployment_id, lambda: watcher.run(deployment_id, domain or "?", until=until,
                                                                     timeout_minutes=timeout_minutes),
                                  console=watcher.console)


def continues_on_aws_error(deployment_id: str, wait: Callable[[], int], *, console: str | None = None) -> int:
    """Losing AWS while *watching* does not stop the deployment: exit 8 (lost contact) with the resume command."""
    from .errors import AwsError, translate_aws_error

    tail = (f"deployment {deployment_id} continues in CodeDeploy; resume with: {resume_command(deployment_id)}"
            f"{f' (console: {console})' if console else ''}")
    try:
        return wait()
    except AwsError as lost:
        raise LostContact(f"lost contact while watching: {lost.message}; {tail}") from None
    except Exception as exc:
        translated = translate_aws_error(exc)
        if translated is None:
            raise
        if is_credential_error(exc):
            raise LostContact(f"AWS credentials expired or were rejected while watching ({error_code(exc)}): "
                              f"refresh them (aws sso login / the OIDC step) and resume; {tail}") from None
        raise LostContact(f"lost contact while watching: {translated.message}; {tail}") from None


def run(ctx: Any, args: Any) -> int:
    """`bgctl watch DEPLOYMENT_ID`."""
    from . import inputs
    from .errors import UsageError
    from .metadata import load_platform

    deployment_id = inputs.deployment_id(args.deployment_id)
    ctx.record.deployment_update(id=deployment_id)
    ctx.record.resume = resume_command(deployment_id)
    clients = ctx.clients()
    platform = load_platform(clients.client("ssm"), ctx.platform, clients.region)

    def lookup() -> dict[str, Any]:
        try:
            return clients.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        except Exception as exc:
            if error_code(exc) == "DeploymentDoesNotExistException":
                raise UsageError(f"deployment {deployment_id} does not exist in {clients.region} "
                                 "(check the id and the region)") from None
            raise

    info = continues_on_aws_error(deployment_id, lookup,  # type: ignore[arg-type]
                                  console=console_url(clients.region, deployment_id))
    domain = domain_from_application(str(info.get("applicationName", "?")), ctx.platform)
    return watch_deployment(ctx, clients, deployment_id=deployment_id, domain=domain,
                            audit_table=platform.audit_table, until=args.wait_until,
                            timeout_minutes=args.timeout)
