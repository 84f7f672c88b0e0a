"""`bgctl rollback DOMAIN`: get production back to the previous version, through CodeDeploy only.

- A deployment in flight: StopDeployment(autoRollbackEnabled=True), with its id shown first; CodeDeploy
  reroutes traffic to the blue task set (still running) and removes green. If AWS refuses, the one-line
  error names the deployment and the fallback (console button, the equivalent `aws` command).
- Nothing in flight: redeploy the last known-good revision (the newest task definition that a
  *Succeeded* deployment put in production before the current one), or `--revision N`, through the
  deploy API as `kind: rollback`: the registrar shifts it all at once, and the approval gate's rollback
  rule decides whether a human must approve (docs/approvals.md). `--dry-run` shows the plan and what
  changes (image, environment, size) without changing anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from . import appspec, inputs, taskdef
from .deploy import REQUESTER_DEPRECATED, in_flight, start_through_api, write_github_output
from .errors import AwsError, UsageError, error_code, translate_aws_error
from .links import console_url, resume_command
from .metadata import DomainMetadata, load_domain, load_platform, platform_parameter, require_deploy_api
from .progress import parse_time, snapshot_from
from .render import iso

HISTORY = 50
ROLLBACK_TRAFFIC = "all at once (CodeDeployDefault.ECSAllAtOnce, set by the deploy API for rollbacks)"
GATE_RULE = ("the approval gate decides: an authorized operator's rollback to a revision that ran in production is "
             "recorded and auto-approved; anything else waits for approval like a release")


@dataclass(frozen=True)
class ProductionRun:
    """A Succeeded deployment that put `task_definition` in production."""

    task_definition: str
    deployment_id: str
    completed_at: datetime | None


@dataclass(frozen=True)
class RedeployPlan:
    domain: str
    current: str
    current_image: str | None
    target: str
    target_image: str | None
    chosen_by: str  # "last known-good" | "--revision N"
    ran_in_production: ProductionRun | None
    changes: tuple[str, ...]
    reregister: bool
    reason: str

    def lines(self) -> list[str]:
        evidence = (f"yes: deployment {self.ran_in_production.deployment_id} put it in production"
                    + (f" ({iso(self.ran_in_production.completed_at)})" if self.ran_in_production.completed_at else "")
                    if self.ran_in_production else
                    f"no record in the last {HISTORY} successful deployments: the gate treats this as a release")
        lines = [f"rollback plan for {self.domain} ({self.chosen_by}):",
                 f"  production   {taskdef.revision_label(self.current)}  {self.current_image or '?'}",
                 f"  target       {taskdef.revision_label(self.target)}  {self.target_image or '?'}",
                 f"  ran in prod  {evidence}"]
        lines += [f"  change       {change}" for change in self.changes] or ["  change       none besides the revision"]
        if self.reregister:
            lines.append(f"  note         {taskdef.revision_label(self.target)} is deregistered: a copy is registered "
                         "(same containers) and deployed")
        lines += [f"  traffic      {ROLLBACK_TRAFFIC}", f"  approval     {GATE_RULE}"]
        return lines

    def to_json(self) -> dict[str, Any]:
        return {"action": "redeploy", "domain": self.domain, "currentTaskDefinition": self.current,
                "currentImage": self.current_image, "targetTaskDefinition": self.target,
                "targetImage": self.target_image, "chosenBy": self.chosen_by,
                "ranInProduction": ({"deploymentId": self.ran_in_production.deployment_id,
                                     "completedAt": iso(self.ran_in_production.completed_at)
                                     if self.ran_in_production.completed_at else None}
                                    if self.ran_in_production else None),
                "changes": list(self.changes), "reregister": self.reregister, "traffic": "all_at_once",
                "reason": self.reason}


def production_history(codedeploy: Any, metadata: DomainMetadata) -> list[ProductionRun]:
    """Succeeded deployments of the domain, newest first (at most HISTORY)."""
    ids = codedeploy.list_deployments(applicationName=metadata.application,
                                      deploymentGroupName=metadata.deployment_group,
                                      includeOnlyStatuses=["Succeeded"]).get("deployments") or []
    infos: list[dict] = []
    for start in range(0, min(len(ids), HISTORY), 25):
        infos.extend(codedeploy.batch_get_deployments(deploymentIds=ids[start:start + 25]).get("deploymentsInfo") or [])
    epoch = parse_time("1970-01-01T00:00:00Z")
    infos.sort(key=lambda d: parse_time(d.get("completeTime")) or parse_time(d.get("createTime")) or epoch,
               reverse=True)
    runs = []
    for info in infos:
        arn = appspec.task_definition_of(info.get("revision"))
        if arn:
            runs.append(ProductionRun(task_definition=arn, deployment_id=str(info.get("deploymentId")),
                                      completed_at=parse_time(info.get("completeTime"))))
    return runs


def same_revision(a: str, b: str) -> bool:
    return taskdef.revision_label(a) == taskdef.revision_label(b)


def last_known_good(history: list[ProductionRun], current: str) -> ProductionRun | None:
    return next((run for run in history if not same_revision(run.task_definition, current)), None)


def _environment(definition: Mapping[str, Any], container: str) -> dict[str, str]:
    for item in definition.get("containerDefinitions") or []:
        if item.get("name") == container:
            return {str(e.get("name")): str(e.get("value")) for e in item.get("environment") or []}
    return {}


def changes_between(current: Mapping[str, Any], target: Mapping[str, Any], container: str) -> list[str]:
    """What production loses and gets back, in operator words (image, env, task size, sidecars)."""
    changes = []
    old_image, new_image = taskdef.container_image(current, container), taskdef.container_image(target, container)
    if old_image != new_image:
        changes.append(f"{container} image {old_image} -> {new_image}")
    old_env, new_env = _environment(current, container), _environment(target, container)
    for name in sorted(set(old_env) | set(new_env)):
        if old_env.get(name) != new_env.get(name):
            changes.append(f"env {name}: {old_env.get(name, '(unset)')} -> {new_env.get(name, '(unset)')}")
    for key in ("cpu", "memory"):
        if current.get(key) != target.get(key):
            changes.append(f"{key} {current.get(key)} -> {target.get(key)}")
    old_sidecars = {c.get("name"): c.get("image") for c in current.get("containerDefinitions") or []
                    if c.get("name") != container}
    new_sidecars = {c.get("name"): c.get("image") for c in target.get("containerDefinitions") or []
                    if c.get("name") != container}
    for name in sorted(set(old_sidecars) | set(new_sidecars)):
        if old_sidecars.get(name) != new_sidecars.get(name):
            changes.append(f"sidecar {name}: {old_sidecars.get(name, '(none)')} -> {new_sidecars.get(name, '(none)')}")
    return changes


def _describe_revision(ecs: Any, family: str, number: int) -> tuple[dict[str, Any], list[dict[str, str]]]:
    try:
        return taskdef.describe(ecs, f"{family}:{number}")
    except Exception as exc:
        if error_code(exc) in ("ClientException", "InvalidParameterException"):
            raise UsageError(f"revision {family}:{number} does not exist") from None
        raise


def plan_redeploy(ctx: Any, clients: Any, metadata: DomainMetadata, args: Any) -> tuple[RedeployPlan, dict, list]:
    ecs = clients.client("ecs")
    current = taskdef.production_task_definition(ecs, metadata)
    history = production_history(clients.client("codedeploy"), metadata)
    if args.revision:
        definition, tags = _describe_revision(ecs, metadata.task_definition_family, args.revision)
        target = str(definition.get("taskDefinitionArn"))
        if same_revision(target, current):
            raise UsageError(f"production already runs {taskdef.revision_label(current)}: nothing to roll back "
                             "(choose another --revision)")
        chosen_by = f"--revision {args.revision}"
        ran = next((run for run in history if same_revision(run.task_definition, target)), None)
    else:
        ran = last_known_good(history, current)
        if ran is None:
            raise UsageError(f"no known-good revision of {metadata.domain}: none of the last {HISTORY} successful "
                             f"deployments ran anything but {taskdef.revision_label(current)}; choose one with "
                             f"`bgctl rollback {metadata.domain} --revision N --dry-run`")
        definition, tags = taskdef.describe(ecs, ran.task_definition)
        target = str(definition.get("taskDefinitionArn", ran.task_definition))
        chosen_by = "last known-good"
    current_definition, _ = taskdef.describe(ecs, current)
    reason = inputs.api_reason(args.reason) if args.reason else f"Rollback {metadata.domain} to " \
                                                                 f"{taskdef.revision_label(target)}"
    plan = RedeployPlan(
        domain=metadata.domain, current=current,
        current_image=taskdef.container_image(current_definition, metadata.container_name),
        target=target, target_image=taskdef.container_image(definition, metadata.container_name),
        chosen_by=chosen_by, ran_in_production=ran,
        changes=tuple(changes_between(current_definition, definition, metadata.container_name)),
        reregister=definition.get("status") == "INACTIVE", reason=reason)
    return plan, definition, tags


def redeploy(ctx: Any, clients: Any, platform: Any, metadata: DomainMetadata, args: Any) -> int:
    plan, definition, tags = plan_redeploy(ctx, clients, metadata, args)
    for line in plan.lines():
        ctx.say(line)
    ctx.record.data = {**plan.to_json(), "dryRun": bool(args.dry_run)}
    ctx.record.deployment_update(domain=metadata.domain, kind="rollback", taskDefinition=plan.target,
                                 previousTaskDefinition=plan.current, image=plan.target_image)
    if args.dry_run:
        again = f" --revision {args.revision}" if args.revision else ""
        ctx.say(f"dry run: nothing changed; start it with: bgctl rollback {metadata.domain}{again}")
        return 0
    target = plan.target
    if plan.reregister:
        request = taskdef.registration_request(definition, tags, container_name=metadata.container_name,
                                               image=plan.target_image or "", env={})
        target = str(clients.client("ecs").register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"])
        ctx.say(f"{taskdef.revision_label(plan.target)} is deregistered; registered a copy as "
                f"{taskdef.revision_label(target)}")
    start_through_api(ctx, clients, platform, metadata, task_definition_arn=target, kind="rollback",
                      reason=plan.reason)
    deployment_id = ctx.record.deployment["id"]
    if args.wait_until == "started":
        ctx.say(f"follow it with: bgctl watch {deployment_id}")
        return 0
    from .watch import watch_deployment

    return watch_deployment(ctx, clients, deployment_id=deployment_id, domain=metadata.domain,
                            audit_table=platform.audit_table or metadata.audit_table, until=args.wait_until,
                            timeout_minutes=args.timeout, announce_console=False)


def stop_in_flight(ctx: Any, clients: Any, metadata: DomainMetadata, deployment_id: str, args: Any,
                   audit_table: str | None) -> int:
    link = console_url(clients.region, deployment_id)
    codedeploy = clients.client("codedeploy")
    try:  # only to show where it is; the stop must not depend on it
        snap = snapshot_from(codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"], None,
                             domain=metadata.domain)
        status, kind = snap.status, snap.kind
        where = f"started {iso(snap.created_at)}" if snap.created_at else "start time unknown"
    except Exception as exc:  # noqa: BLE001
        status, where, kind = "status unknown", f"GetDeployment failed: {error_code(exc) or type(exc).__name__}", None
    ctx.record.deployment_update(id=deployment_id, domain=metadata.domain, kind=kind, status=status,
                                 consoleUrl=link)
    ctx.record.data = {"action": "stop", "deploymentId": deployment_id, "dryRun": bool(args.dry_run),
                       "autoRollback": True}
    if args.revision:
        raise UsageError(f"deployment {deployment_id} of {metadata.domain} is in flight ({status}): "
                         f"`bgctl rollback {metadata.domain}` stops it first; --revision applies once nothing is "
                         "in flight")
    ctx.say(f"deployment {deployment_id} of {metadata.domain} is in flight ({status}, {where})")
    if args.dry_run:
        ctx.say(f"dry run: would stop {deployment_id} with automatic rollback (production stays on, or returns "
                f"to, the blue task set); nothing changed; start it with: bgctl rollback {metadata.domain}")
        return 0
    ctx.say(f"stopping {deployment_id} with automatic rollback ... (console: {link})")
    try:
        answer = codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    except Exception as exc:
        if error_code(exc) == "DeploymentAlreadyCompletedException":
            raise AwsError(f"deployment {deployment_id} finished before it could be stopped; run "
                           f"`bgctl rollback {metadata.domain}` again to redeploy the previous revision") from None
        reason = exc.message if isinstance(exc, AwsError) else (
            translated.message if (translated := translate_aws_error(exc)) else str(exc))
        raise AwsError(f"could not stop deployment {deployment_id} of {metadata.domain}: {reason}; it continues, "
                       f"nothing changed. Fallback: 'Stop and roll back' on {link} or run `aws deploy "
                       f"stop-deployment --deployment-id {deployment_id} --auto-rollback-enabled --region "
                       f"{clients.region}`") from None
    status = answer.get("status", "?")
    message = answer.get("statusMessage") or ""
    ctx.record.resume = resume_command(deployment_id)
    ctx.say(f"CodeDeploy accepted the stop of {deployment_id}: {status}" + (f" ({message})" if message else ""))
    write_github_output(ctx.env, {"deployment_id": deployment_id, "console_url": link})
    if args.wait_until == "started":
        ctx.say(f"follow it with: bgctl watch {deployment_id}")
        return 0
    from .watch import continues_on_aws_error, make_watcher

    watcher = make_watcher(ctx, clients, deployment_id=deployment_id, audit_table=audit_table,
                           announce_console=False)
    return continues_on_aws_error(deployment_id, lambda: watcher.run_until_stopped(
        deployment_id, metadata.domain, timeout_minutes=args.timeout), console=link)


def run(ctx: Any, args: Any) -> int:
    domain = inputs.domain(args.domain)
    if args.requester:
        ctx.warn(REQUESTER_DEPRECATED)
    if args.reason is not None:
        inputs.api_reason(args.reason)
    clients = ctx.clients()
    platform = load_platform(clients.client("ssm"), ctx.platform, clients.region)
    platform.require_domain(domain)
    metadata = load_domain(clients.client("ssm"), ctx.platform, domain, clients.region)
    running = in_flight(clients.client("codedeploy"), metadata)
    audit_table = platform.audit_table or metadata.audit_table
    if running:
        return stop_in_flight(ctx, clients, metadata, running[0], args, audit_table)
    if not args.dry_run:
        require_deploy_api(platform, platform_parameter(ctx.platform))
    return redeploy(ctx, clients, platform, metadata, args)
