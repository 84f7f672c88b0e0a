"""Register a new task-definition revision from the one in production.

Only the fields RegisterTaskDefinition accepts are copied (describe output also carries read-only fields
such as `revision`, `status`, `requiresAttributes`, `compatibilities`, `registeredAt`); the `app` container's
image is replaced and `--env` values are merged into its environment. Every other container (the AppConfig
agent sidecar) is copied unchanged.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

from .errors import AwsError, UsageError
from .metadata import DomainMetadata

REGISTERABLE_FIELDS = (
    "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
    "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
    "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage", "runtimePlatform",
    "enableFaultInjection", "trustedExecutionConfiguration",
)


def registration_request(current: Mapping[str, Any], tags: list[dict[str, str]] | None, *, container_name: str,
                         image: str, env: Mapping[str, str]) -> dict[str, Any]:
    """The RegisterTaskDefinition arguments for `current` with a new image and merged environment."""
    request = {key: copy.deepcopy(current[key]) for key in REGISTERABLE_FIELDS if current.get(key) is not None}
    containers = request.get("containerDefinitions") or []
    app = next((c for c in containers if c.get("name") == container_name), None)
    if app is None:
        names = ", ".join(str(c.get("name")) for c in containers) or "none"
        raise AwsError(f"task definition {current.get('taskDefinitionArn', current.get('family'))} has no container "
                       f"{container_name!r} (containers: {names})")
    secret_names = {s.get("name") for s in app.get("secrets") or []}
    clashes = sorted(set(env) & secret_names)
    if clashes:
        raise UsageError(f"--env {', '.join(clashes)} would shadow a secret of the {container_name!r} container; "
                         "change the secret in the stack instead")
    app["image"] = image
    if env:
        environment = [dict(item) for item in app.get("environment") or []]
        index = {item.get("name"): i for i, item in enumerate(environment)}
        for name, value in env.items():
            if name in index:
                environment[index[name]]["value"] = value
            else:
                environment.append({"name": name, "value": value})
        app["environment"] = environment
    if tags:
        request["tags"] = [dict(t) for t in tags]
    return request


def production_task_definition(ecs: Any, metadata: DomainMetadata) -> str:
    """The task definition serving production: the service's PRIMARY task set (CodeDeploy controller).

    Falls back to the service's own taskDefinition, then to the revision the stack published.
    """
    answer = ecs.describe_services(cluster=metadata.cluster, services=[metadata.service])
    services = [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
    if not services:
        raise AwsError(f"ECS service {metadata.service} not found in cluster {metadata.cluster}: "
                       f"is the {metadata.domain!r} domain stack deployed?")
    service = services[0]
    task_sets = service.get("taskSets") or []
    primary = [t for t in task_sets if t.get("status") == "PRIMARY"]
    if primary:
        return str(primary[0]["taskDefinition"])
    if len(task_sets) == 1:
        return str(task_sets[0]["taskDefinition"])
    return str(service.get("taskDefinition") or metadata.task_definition_arn)


def describe(ecs: Any, task_definition: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    answer = ecs.describe_task_definition(taskDefinition=task_definition, include=["TAGS"])
    return answer["taskDefinition"], list(answer.get("tags") or [])


def register_revision(ecs: Any, metadata: DomainMetadata, *, image: str, env: Mapping[str, str],
                      base: str | None = None) -> tuple[str, str]:
    """Register the new revision; returns (new task-definition ARN, the ARN it was derived from)."""
    base_arn = base or production_task_definition(ecs, metadata)
    current, tags = describe(ecs, base_arn)
    request = registration_request(current, tags, container_name=metadata.container_name, image=image, env=env)
    registered = ecs.register_task_definition(**request)
    return str(registered["taskDefinition"]["taskDefinitionArn"]), str(current.get("taskDefinitionArn", base_arn))


def container_image(task_definition: Mapping[str, Any], container_name: str) -> str | None:
    for container in task_definition.get("containerDefinitions") or []:
        if container.get("name") == container_name:
            return container.get("image")
    return None


def revision_label(arn: str) -> str:
    """`arn:...:task-definition/bluegreen-auth:7` -> `bluegreen-auth:7`."""
    return arn.rsplit("/", 1)[-1]
