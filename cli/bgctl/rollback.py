"""`bgctl rollback DOMAIN`: get production back to the previous version, through CodeDeploy only.

- A deployment in flight: StopDeployment(autoRollbackEnabled=True). CodeDeploy reroutes traffic to the
  blue task set (still running during the termination wait) and removes green.
- Nothing in flight: redeploy the previous task-definition revision as a new CodeDeploy deployment
  (same hooks, test checks and approval as any release). "Previous" is the task definition of the most
  recent successful deployment that differs from the one in production; failing that, the highest
  earlier ACTIVE revision of the family.
"""
from __future__ import annotations

from typing import Any

from . import appspec, inputs, taskdef
from .deploy import create_deployment, in_flight, write_github_output
from .errors import AwsError, DeploymentFailed, error_code
from .metadata import DomainMetadata, load_domain, load_platform
from .progress import parse_time
from .watch import continues_on_aws_error, make_watcher

HISTORY = 50


def revision_number(arn: str) -> int:
    try:
        return int(arn.rsplit(":", 1)[-1])
    except ValueError:
        return -1


def previous_task_definition(codedeploy: Any, ecs: Any, metadata: DomainMetadata, current: str) -> str:
    ids = codedeploy.list_deployments(applicationName=metadata.application,
                                      deploymentGroupName=metadata.deployment_group,
                                      includeOnlyStatuses=["Succeeded"]).get("deployments") or []
    infos: list[dict] = []
    for start in range(0, min(len(ids), HISTORY), 25):
        infos.extend(codedeploy.batch_get_deployments(deploymentIds=ids[start:start + 25]).get("deploymentsInfo") or [])
    infos.sort(key=lambda d: (parse_time(d.get("createTime")) or parse_time("1970-01-01T00:00:00Z")), reverse=True)
    for info in infos:
        candidate = appspec.task_definition_of(info.get("revision"))
        if candidate and candidate != current and taskdef.revision_label(candidate) != taskdef.revision_label(current):
            return candidate
    arns = ecs.list_task_definitions(familyPrefix=metadata.task_definition_family, status="ACTIVE",
                                     sort="DESC").get("taskDefinitionArns") or []
    current_number = revision_number(current)
    for arn in arns:
        if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == metadata.task_definition_family \
                and 0 < revision_number(arn) < current_number:
            return str(arn)
    raise DeploymentFailed(f"no previous revision of {metadata.task_definition_family} to roll back to "
                           f"(production runs {taskdef.revision_label(current)})")


def stop_in_flight(ctx: Any, clients: Any, metadata: DomainMetadata, deployment_id: str, args: Any,
                   audit_table: str | None) -> int:
    try:
        answer = clients.client("codedeploy").stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    except Exception as exc:
        if error_code(exc) == "DeploymentAlreadyCompletedException":
            raise AwsError(f"deployment {deployment_id} finished before it could be stopped; run "
                           f"`bgctl rollback {metadata.domain}` again to redeploy the previous revision") from None
        raise
    status = answer.get("status", "?")
    message = answer.get("statusMessage") or ""
    ctx.out(f"stopping deployment {deployment_id} of {metadata.domain} with automatic rollback: {status}"
            + (f" ({message})" if message else ""))
    if args.wait_until == "started":
        ctx.out(f"follow it with: bgctl watch {deployment_id}")
        return 0
    watcher = make_watcher(ctx, clients, deployment_id=deployment_id, audit_table=audit_table, progress=args.progress)
    return continues_on_aws_error(deployment_id, lambda: watcher.run_until_stopped(
        deployment_id, metadata.domain, timeout_minutes=args.timeout))


def redeploy_previous(ctx: Any, clients: Any, metadata: DomainMetadata, args: Any, audit_table: str | None) -> int:
    from .identity import requester as resolve_requester

    requester = resolve_requester(args.requester, ctx.env, lambda: clients.client("sts"))
    ecs = clients.client("ecs")
    codedeploy = clients.client("codedeploy")
    current = taskdef.production_task_definition(ecs, metadata)
    previous = previous_task_definition(codedeploy, ecs, metadata, current)
    definition, tags = taskdef.describe(ecs, previous)
    image = taskdef.container_image(definition, metadata.container_name) or "unknown"
    target = str(definition.get("taskDefinitionArn", previous))
    if definition.get("status") == "INACTIVE":
        request = taskdef.registration_request(definition, tags, container_name=metadata.container_name,
                                               image=image, env={})
        target = str(ecs.register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"])
        ctx.out(f"{taskdef.revision_label(previous)} is deregistered; registered a copy as "
                f"{taskdef.revision_label(target)}")
    summary = f"Rollback {metadata.domain} to {taskdef.revision_label(previous)}"
    if args.reason:
        summary += f": {inputs.reason(args.reason)}"
    deployment_id = create_deployment(
        codedeploy, metadata, task_definition_arn=target, summary=summary,
        tokens={"requester": requester, "image": image, "source": "bgctl", "action": "rollback"})
    ctx.out(f"no deployment in flight; created rollback deployment {deployment_id}: "
            f"{taskdef.revision_label(current)} -> {taskdef.revision_label(target)} ({image})")
    write_github_output(ctx.env, {"deployment_id": deployment_id, "task_definition": target})
    if args.wait_until == "started":
        ctx.out(f"follow it with: bgctl watch {deployment_id}")
        return 0
    watcher = make_watcher(ctx, clients, deployment_id=deployment_id, audit_table=audit_table, progress=args.progress)
    return continues_on_aws_error(deployment_id, lambda: watcher.run(
        deployment_id, metadata.domain, until=args.wait_until, timeout_minutes=args.timeout))


def run(ctx: Any, args: Any) -> int:
    domain = inputs.domain(args.domain)
    if args.requester:
        inputs.requester(args.requester)
    if args.reason is not None:
        inputs.reason(args.reason)
    clients = ctx.clients()
    platform = load_platform(clients.client("ssm"), ctx.platform, clients.region)
    platform.require_domain(domain)
    metadata = load_domain(clients.client("ssm"), ctx.platform, domain, clients.region)
    running = in_flight(clients.client("codedeploy"), metadata)
    audit_table = platform.audit_table or metadata.audit_table
    if running:
        return stop_in_flight(ctx, clients, metadata, running[0], args, audit_table)
    return redeploy_previous(ctx, clients, metadata, args, audit_table)
