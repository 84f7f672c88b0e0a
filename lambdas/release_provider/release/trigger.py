"""`Custom::CodeDeployBlueGreenDeployment` and `Custom::CodeDeployDeploymentWaiter`.

A container change on `cdk deploy` ends in one of two states only: the stack is updated and production runs
the new revision, or the stack rolls back and production runs the old one.

- Create: the new service already runs the stack's revision; nothing to deploy.
- Update: refuse at once (nothing changed) when any deployment of the group is in flight. Otherwise release the
  stack's new revision through CodeDeploy and wait for it (`is_complete`). The image stays whatever production
  runs (the pipeline's) unless the config's `image` itself changed: then the revision is registered again with
  the running image, so a `cdk deploy` never reverts what the pipeline shipped.
- Update that rolls back the update whose deployment this trigger started: stop that deployment if it is still
  in flight; if it succeeded (something else failed the update), release the revision that ran before it;
  if CodeDeploy already rolled it back, do nothing.
- Delete: stop a deployment this stack started that is still in flight.
- Waiting: CloudFormation gives a custom resource at most one hour, so the trigger waits `budget_minutes`, then
  hands over to the next `Custom::CodeDeployDeploymentWaiter` (they wait on the same deployment). The last one
  fails when its budget is spent; CloudFormation then rolls back and the rollback stops the deployment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from release import deployments, task_definitions
from release.deployments import Deployment, revision_label
from release.outcome import NONE, Refused, ReleaseFailed, complete, on_event_result, waiting
from release.properties import TriggerProperties, WaiterProperties

REASON_LIMIT = 300  # the deploy API's limit on `reason` (docs/deploy-api.md)


@dataclass(frozen=True)
class Clients:
    codedeploy: Any  # reads and StopDeployment only
    ecs: Any
    deploy_api: Any = None  # bgruntime.deploy_api_client.DeployApiClient: the only way to start a deployment


def _physical_id(props: TriggerProperties) -> str:
    return f"{props.application}/{props.deployment_group}"


def _arn_of(label: str, like: str) -> str:
    """The task-definition ARN of `family:revision`, in the account and region of `like`."""
    return f"{like.rsplit('/', 1)[0]}/{label}"


def _refuse_if_busy(clients: Clients, props: TriggerProperties) -> None:
    busy = deployments.in_flight(clients.codedeploy, props.application, props.deployment_group)
    if busy:
        other = busy[0]
        started = "this stack" if other.started_by_stack(props.stack_name) else (
            other.tokens.get("source") or "a pipeline or operator")
        raise Refused(
            f"{props.domain}: deployment {other.deployment_id} (started by {started}) is in flight, so CloudFormation "
            f"changed nothing. Wait for it (`bgctl watch {other.deployment_id}`) or stop it "
            f"(`bgctl rollback {props.domain}`), then run `cdk deploy` again.")


def _start(clients: Clients, props: TriggerProperties, *, target_arn: str, image: str, cfn_revision: str,
           from_revision: str, previous: str, stack_id: str, kind: str = "release") -> str:
    """Through the platform's deploy API, like every deployment: it builds the AppSpec from the domain's published
    metadata (hooks included) and records who asked. The reason carries the tokens later events read back
    (`deployments.parse_tokens`); the image goes last, so a long one is what a cut would lose."""
    from bgruntime.deploy_api_client import Conflict, DeployApiError

    reason = deployments.describe(
        f"cdk deploy of {props.domain} {revision_label(target_arn)}",
        {"source": deployments.SOURCE, "stack": props.stack_name, "cfn-revision": cfn_revision,
         "from-revision": from_revision, "previous": previous, "image": image})[:REASON_LIMIT]
    try:
        started = clients.deploy_api.start_deployment(
            domain=props.domain, task_definition_arn=target_arn, kind=kind, reason=reason,
            source=deployments.SOURCE, stack_id=stack_id)
    except Conflict as conflict:
        running = conflict.deployment_id or "a deployment"
        raise Refused(f"{props.domain}: {running} is in flight (the deploy API refused a second one), so "
                      f"CloudFormation changed nothing; wait for it or `bgctl rollback {props.domain}`, then run "
                      "`cdk deploy` again.") from None
    except DeployApiError as error:
        raise Refused(f"{props.domain}: the deploy API refused the release ({error.code}: {error.message}); "
                      "nothing started.") from None
    return str(started.deployment_id)


def on_event(event: Mapping[str, Any], clients: Clients, now: float) -> dict[str, Any]:
    request = event["RequestType"]
    props = TriggerProperties.parse(event["ResourceProperties"])
    physical = _physical_id(props)
    if request == "Create":
        return on_event_result(physical, action="created", started_at=now,
                               TaskDefinitionArn=props.task_definition_arn)
    if request == "Delete":
        mine = [d for d in deployments.in_flight(clients.codedeploy, props.application, props.deployment_group)
                if d.started_by_stack(props.stack_name)]
        for deployment in mine:
            clients.codedeploy.stop_deployment(deploymentId=deployment.deployment_id, autoRollbackEnabled=True)
        return on_event_result(physical, action="stop" if mine else NONE, started_at=now,
                               deployment_id=mine[0].deployment_id if mine else NONE,
                               TaskDefinitionArn=props.task_definition_arn)
    old = TriggerProperties.parse(event["OldResourceProperties"])
    return _update(props, old, clients, now, stack_id=str(event.get("StackId", "")))


def _update(props: TriggerProperties, old: TriggerProperties, clients: Clients, now: float, *,
            stack_id: str) -> dict[str, Any]:
    physical = _physical_id(props)
    history = deployments.recent(clients.codedeploy, props.application, props.deployment_group)
    mine = next((d for d in history if d.started_by_stack(props.stack_name)), None)
    if mine and mine.tokens.get("cfn-revision") == revision_label(old.task_definition_arn) \
            and mine.tokens.get("from-revision") == revision_label(props.task_definition_arn):
        return _revert(props, old, mine, clients, now, stack_id=stack_id)
    _refuse_if_busy(clients, props)
    if props.task_definition_arn == old.task_definition_arn:
        return on_event_result(physical, action=NONE, started_at=now, TaskDefinitionArn=_live(clients, props),
                               Reason="the task definition did not change")
    live_arn = _live(clients, props)
    live = task_definitions.describe(clients.ecs, live_arn)
    wanted = task_definitions.describe(clients.ecs, props.task_definition_arn)
    config_image_changed = props.config_image != old.config_image
    image = props.config_image if config_image_changed else task_definitions.image_of(live, props.container_name)
    candidate = _with_image(wanted, props.container_name, image)
    if task_definitions.same_content(candidate, live):
        return on_event_result(physical, action=NONE, started_at=now, TaskDefinitionArn=live_arn,
                               Reason=f"production already runs this ({revision_label(live_arn)})")
    target = props.task_definition_arn
    if task_definitions.image_of(wanted, props.container_name) != image:
        target = task_definitions.register_with_image(clients.ecs, wanted, container_name=props.container_name,
                                                      image=image)
    deployment_id = _start(clients, props, target_arn=target, image=image,
                           cfn_revision=revision_label(props.task_definition_arn),
                           from_revision=revision_label(old.task_definition_arn), previous=revision_label(live_arn),
                           stack_id=stack_id)
    return on_event_result(physical, action="deploy", deployment_id=deployment_id, started_at=now,
                           TaskDefinitionArn=target, Previous=live_arn)


def _revert(props: TriggerProperties, old: TriggerProperties, mine: Deployment, clients: Clients,
            now: float, *, stack_id: str) -> dict[str, Any]:
    """CloudFormation is rolling back the update that started `mine`."""
    physical = _physical_id(props)
    previous = _arn_of(mine.tokens.get("previous", ""), props.task_definition_arn)
    if mine.in_flight:
        clients.codedeploy.stop_deployment(deploymentId=mine.deployment_id, autoRollbackEnabled=True)
        return on_event_result(physical, action="stop", deployment_id=mine.deployment_id, started_at=now,
                               TaskDefinitionArn=previous)
    if mine.status != "Succeeded":
        return on_event_result(physical, action=NONE, started_at=now, TaskDefinitionArn=previous,
                               Reason=f"CodeDeploy already returned production to {revision_label(previous)}")
    _refuse_if_busy(clients, props)
    live_arn = _live(clients, props)
    # Back to a revision that ran in production: a rollback (all at once; the gate applies its rollback rule).
    deployment_id = _start(clients, props, target_arn=previous, image=mine.tokens.get("image", ""),
                           cfn_revision=revision_label(props.task_definition_arn),
                           from_revision=revision_label(old.task_definition_arn), previous=revision_label(live_arn),
                           stack_id=stack_id, kind="rollback")
    return on_event_result(physical, action="deploy", deployment_id=deployment_id, started_at=now,
                           TaskDefinitionArn=previous, Previous=live_arn)


def _live(clients: Clients, props: TriggerProperties) -> str:
    return task_definitions.live_task_definition_arn(clients.ecs, props.cluster, props.service)


def _with_image(task_definition: dict, container_name: str, image: str) -> dict:
    copy = dict(task_definition)
    copy["containerDefinitions"] = [dict(c, image=image) if c.get("name") == container_name else c
                                    for c in task_definition.get("containerDefinitions", [])]
    return copy


def is_complete(event: Mapping[str, Any], clients: Clients, now: float) -> dict[str, Any]:
    props = TriggerProperties.parse(event["ResourceProperties"])
    return wait(event.get("Data") or {}, clients=clients, now=now, domain=props.domain,
                budget_minutes=props.budget_minutes, last=props.last or event["RequestType"] == "Delete")


def wait(data: Mapping[str, Any], *, clients: Clients, now: float, domain: str, budget_minutes: int,
         last: bool) -> dict[str, Any]:
    """One poll of the deployment named in `data` (shared by the trigger and the waiters)."""
    action, deployment_id = data.get("Action"), data.get("DeploymentId", NONE)
    if action not in ("deploy", "stop", "wait") or deployment_id in (NONE, ""):
        return complete(data)
    deployment = deployments.get(clients.codedeploy, deployment_id)
    elapsed_minutes = (now - float(data.get("StartedAt") or now)) / 60
    if action == "stop":
        if deployments.settled(clients.codedeploy, deployment):
            return complete(data)
    elif deployment.status == "Succeeded":
        return complete({**data, "Status": "Succeeded"})
    elif deployment.status in deployments.TERMINAL_STATUSES:
        if not deployments.settled(clients.codedeploy, deployment):
            return waiting()  # CodeDeploy is still rolling back; say so only once production is restored
        previous = deployment.tokens.get("previous") or "the previous revision"
        raise ReleaseFailed(
            f"{domain}: CodeDeploy deployment {deployment_id} {deployment.status.lower()}"
            f"{': ' + deployment.error if deployment.error else ''}. Production runs {previous} again; "
            "CloudFormation rolls this update back. See `bgctl watch " + deployment_id + "`.")
    if elapsed_minutes < budget_minutes:
        return waiting()
    if not last:
        return complete({**data, "Status": deployment.status, "HandedOver": "true"})
    raise ReleaseFailed(
        f"{domain}: deployment {deployment_id} is still {deployment.status} after this stack's whole wait budget; "
        "CloudFormation rolls the update back, which stops the deployment (production stays on the previous "
        "revision). Release it with `bgctl deploy` instead, or shorten approval/shift/drain.")


def waiter_on_event(event: Mapping[str, Any], now: float) -> dict[str, Any]:
    props = WaiterProperties.parse(event["ResourceProperties"])
    physical = event.get("PhysicalResourceId") or f"{props.domain}/waiter/{event['LogicalResourceId']}"
    if event["RequestType"] == "Delete" or props.deployment_id == NONE:
        return on_event_result(physical, action=NONE, started_at=now)
    return on_event_result(physical, action="wait", deployment_id=props.deployment_id, started_at=now)


def waiter_is_complete(event: Mapping[str, Any], clients: Clients, now: float) -> dict[str, Any]:
    props = WaiterProperties.parse(event["ResourceProperties"])
    return wait(event.get("Data") or {}, clients=clients, now=now, domain=props.domain,
                budget_minutes=props.budget_minutes, last=props.last)

