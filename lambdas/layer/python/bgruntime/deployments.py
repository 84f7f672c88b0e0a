"""Read CodeDeploy deployments and answer lifecycle hooks.

Shared by the approval Lambdas, the smoke-test Lambda and `bgctl`. Every function takes its boto3
clients as arguments (None: a default client is created on first use), so importing this module
does not import boto3.

Public API:
- `load_deployment(deployment_id, platform=..., codedeploy=..., ecs=...) -> Deployment`
- `report_hook_status(codedeploy, deployment_id, hook_execution_id, "Succeeded"|"Failed") -> str`
- `parse_description_tokens(description) -> dict`
- `in_flight_deployments(codedeploy, platform=..., domains=...) -> list[InFlightDeployment]`
- `console_url(region, deployment_id) -> str`
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

#: CodeDeploy deployment statuses that mean "still running" (ECS blue/green).
IN_FLIGHT_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")
#: Statuses after which no lifecycle hook can be answered any more.
FINISHED_STATUSES = ("Succeeded", "Failed", "Stopped")

#: `report_hook_status` result codes (also stored as `codeDeployResult` in the audit table).
RESULT_OK = "OK"
RESULT_ALREADY_COMPLETED = "LifecycleEventAlreadyCompleted"
RESULT_DOES_NOT_EXIST = "DeploymentDoesNotExist"

_TOKEN_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_APPSPEC_TASKDEF = re.compile(r"""TaskDefinition["']?\s*:\s*["']?([^"'\s,}]+)""")
_APPSPEC_CONTAINER = re.compile(r"""ContainerName["']?\s*:\s*["']?([^"'\s,}]+)""")


@dataclass(frozen=True)
class Deployment:
    """The facts about one CodeDeploy deployment that hooks and messages need."""

    deployment_id: str
    application: str
    group: str
    domain: str
    status: str
    creator: str
    description: str
    requester: str
    image: str | None
    create_time: datetime | None
    task_definition_arn: str | None = None
    tokens: Mapping[str, str] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES


@dataclass(frozen=True)
class InFlightDeployment:
    domain: str
    deployment_id: str
    status: str


def parse_description_tokens(description: Any) -> dict[str, str]:
    """Parse the `key=value` tokens after the last `|` of a deployment description.

    `"Deploy auth | requester=github:alice image=repo/auth:v2 source=bgctl"` ->
    `{"requester": "github:alice", "image": "repo/auth:v2", "source": "bgctl"}`.
    Free text without `|` yields `{}`; malformed tokens are skipped; never raises.
    """
    if not isinstance(description, str) or "|" not in description:
        return {}
    tail = description.rpartition("|")[2]
    tokens: dict[str, str] = {}
    for word in tail.split():
        key, sep, value = word.partition("=")
        if sep and value and _TOKEN_KEY.match(key):
            tokens[key] = value
    return tokens


def domain_of(application_name: str, platform: str) -> str:
    """`bluegreen-auth` -> `auth` for platform `bluegreen` (the name itself if it lacks the prefix)."""
    prefix = f"{platform}-"
    return application_name[len(prefix):] if application_name.startswith(prefix) else application_name


def console_url(region: str, deployment_id: str) -> str:
    """Link to the deployment in the CodeDeploy console."""
    return (f"https://{region}.console.aws.amazon.com/codesuite/codedeploy/deployments/"
            f"{deployment_id}?region={region}")


def load_deployment(deployment_id: str, *, platform: str | None = None, codedeploy: Any = None,
                    ecs: Any = None, resolve_image: bool = True) -> Deployment:
    """GetDeployment (+ ECS DescribeTaskDefinition for the image) -> `Deployment`.

    `platform` defaults to env `PLATFORM_NAME`. The image comes from the task definition named in
    the revision's AppSpec (container `ContainerName`, default `app`); if that is unavailable, from
    the description's `image=` token. Raises the client's error if GetDeployment itself fails.
    """
    platform = platform or os.environ.get("PLATFORM_NAME", "bluegreen")
    codedeploy = codedeploy or _default_client("codedeploy")
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    description = info.get("description") or ""
    tokens = parse_description_tokens(description)
    creator = str(info.get("creator") or "")
    application = str(info.get("applicationName") or "")
    task_definition, container = appspec_target(info.get("revision") or {})
    image = None
    if resolve_image and task_definition:
        image = _image_from_task_definition(ecs, task_definition, container)
    return Deployment(
        deployment_id=str(info.get("deploymentId") or deployment_id),
        application=application,
        group=str(info.get("deploymentGroupName") or ""),
        domain=domain_of(application, platform),
        status=str(info.get("status") or "Unknown"),
        creator=creator,
        description=description,
        requester=tokens.get("requester") or creator or "unknown",
        image=image or tokens.get("image"),
        create_time=info.get("createTime") if isinstance(info.get("createTime"), datetime) else None,
        task_definition_arn=task_definition,
        tokens=tokens,
    )


def report_hook_status(codedeploy: Any, deployment_id: str, hook_execution_id: str, status: str) -> str:
    """PutLifecycleEventHookExecutionStatus; return a result code instead of raising.

    `status` is `Succeeded` or `Failed`. Returns `OK`, `LifecycleEventAlreadyCompleted` (the hook
    already ended: answered, timed out or the deployment was stopped), `DeploymentDoesNotExist`, or
    `ERROR:<error code or exception class>` (throttling, network, permissions...).
    """
    if status not in ("Succeeded", "Failed"):
        raise ValueError(f"status must be Succeeded or Failed, not {status!r}")
    if not hook_execution_id:
        return "ERROR:MissingHookExecutionId"
    try:
        (codedeploy or _default_client("codedeploy")).put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=hook_execution_id, status=status)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a result code
        code = error_code(exc) or type(exc).__name__
        if code in ("LifecycleEventAlreadyCompletedException", RESULT_ALREADY_COMPLETED):
            return RESULT_ALREADY_COMPLETED
        if code in ("DeploymentDoesNotExistException", RESULT_DOES_NOT_EXIST):
            return RESULT_DOES_NOT_EXIST
        return f"ERROR:{code}"
    return RESULT_OK


def in_flight_deployments(codedeploy: Any, *, platform: str, domains: Iterable[str],
                          exclude: str | None = None) -> list[InFlightDeployment]:
    """Deployments still running in the platform's domains (`exclude`: skip this deployment id).

    One ListDeployments per domain plus one BatchGetDeployments; a domain whose application or group
    does not exist (yet) is skipped.
    """
    codedeploy = codedeploy or _default_client("codedeploy")
    found: dict[str, str] = {}
    for domain in domains:
        name = f"{platform}-{domain}"
        try:
            answer = codedeploy.list_deployments(applicationName=name, deploymentGroupName=name,
                                                 includeOnlyStatuses=list(IN_FLIGHT_STATUSES))
        except Exception as exc:  # noqa: BLE001
            if error_code(exc) is None:
                raise
            continue
        for deployment_id in answer.get("deployments", []):
            if deployment_id != exclude:
                found[deployment_id] = domain
    if not found:
        return []
    statuses: dict[str, str] = {}
    ids = list(found)
    for start in range(0, len(ids), 25):
        try:
            infos = codedeploy.batch_get_deployments(deploymentIds=ids[start:start + 25]).get("deploymentsInfo", [])
        except Exception as exc:  # noqa: BLE001
            if error_code(exc) is None:
                raise
            infos = []
        statuses.update({i.get("deploymentId"): i.get("status", "InProgress") for i in infos})
    return [InFlightDeployment(domain=found[d], deployment_id=d, status=statuses.get(d, "InProgress"))
            for d in ids if statuses.get(d, "InProgress") in IN_FLIGHT_STATUSES]


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (duck-typed: no botocore import), else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return None


def describe_error(exc: BaseException) -> str:
    """The AWS error code, or the exception's type name: short, and never a secret, for logs."""
    return error_code(exc) or type(exc).__name__


def appspec_target(revision: Mapping[str, Any]) -> tuple[str | None, str]:
    """(task definition, container name) from an ECS AppSpec revision (JSON or YAML content)."""
    content = None
    for key in ("appSpecContent", "string"):
        block = revision.get(key)
        if isinstance(block, dict) and isinstance(block.get("content"), str):
            content = block["content"]
            break
    if not content:
        return None, "app"
    try:
        spec = json.loads(content)
    except ValueError:
        spec = None
    if isinstance(spec, dict):
        for resource in spec.get("Resources") or []:
            if not isinstance(resource, dict):
                continue
            for value in resource.values():
                props = ((value or {}).get("Properties") or {}) if isinstance(value, dict) else {}
                if props.get("TaskDefinition"):
                    container = ((props.get("LoadBalancerInfo") or {}).get("ContainerName")) or "app"
                    return str(props["TaskDefinition"]), str(container)
        return None, "app"
    task = _APPSPEC_TASKDEF.search(content)
    container = _APPSPEC_CONTAINER.search(content)
    return (task.group(1) if task else None), (container.group(1) if container else "app")


def _image_from_task_definition(ecs: Any, task_definition: str, container: str) -> str | None:
    try:
        answer = (ecs or _default_client("ecs")).describe_task_definition(taskDefinition=task_definition)
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) is None and not _is_botocore_error(exc):
            raise
        return None
    containers = answer.get("taskDefinition", {}).get("containerDefinitions", [])
    for definition in containers:
        if definition.get("name") == container:
            return definition.get("image")
    return containers[0].get("image") if len(containers) == 1 else None


def _is_botocore_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("botocore")


def _default_client(service: str) -> Any:
    import boto3  # lazy: keeps `import bgruntime.deployments` cheap

    return boto3.client(service)


def ran_in_production(codedeploy: Any, *, application: str, group: str, task_definition_arn: str,
                      exclude: str | None = None, limit: int = 100) -> str | None:
    """The id of an earlier *Succeeded* deployment of `group` whose AppSpec ran `task_definition_arn`.

    CodeDeploy's own history is the evidence (only a Succeeded ECS blue/green deployment shifted all
    production traffic to its task set). Looks at up to `limit` recent successful deployments.
    """
    ids: list[str] = []
    kwargs: dict[str, Any] = {"applicationName": application, "deploymentGroupName": group,
                              "includeOnlyStatuses": ["Succeeded"]}
    while len(ids) < limit:
        answer = codedeploy.list_deployments(**kwargs)
        ids.extend(d for d in answer.get("deployments", []) if d != exclude)
        if not answer.get("nextToken"):
            break
        kwargs["nextToken"] = answer["nextToken"]
    for start in range(0, min(len(ids), limit), 25):
        infos = codedeploy.batch_get_deployments(deploymentIds=ids[start:start + 25]).get("deploymentsInfo", [])
        for info in infos:
            if info.get("status") != "Succeeded":
                continue
            ran, _ = appspec_target(info.get("revision") or {})
            if ran == task_definition_arn:
                return str(info.get("deploymentId"))
    return None
