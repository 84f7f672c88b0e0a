"""Task-definition reads and the one write the trigger may make: a revision that keeps the running image."""
from __future__ import annotations

import json
from typing import Any

# Fields of DescribeTaskDefinition that RegisterTaskDefinition accepts back (tags are not copied).
_REGISTRABLE = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
                "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
                "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage", "runtimePlatform")
# Fields that decide what runs; two revisions equal on these run the same thing.
_CONTENT = tuple(field for field in _REGISTRABLE if field != "family")


def describe(ecs: Any, task_definition_arn: str) -> dict:
    return ecs.describe_task_definition(taskDefinition=task_definition_arn)["taskDefinition"]


def image_of(task_definition: dict, container_name: str) -> str:
    for container in task_definition.get("containerDefinitions", []):
        if container.get("name") == container_name:
            return str(container.get("image", ""))
    raise LookupError(f"container {container_name!r} not found in {task_definition.get('taskDefinitionArn')}")


def _normalized(task_definition: dict) -> str:
    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            items = [clean(v) for v in value]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) if all(
                isinstance(v, dict) and "name" in v and "value" in v for v in value) else items
        return value

    return json.dumps({field: clean(task_definition.get(field)) for field in _CONTENT if task_definition.get(field)},
                      sort_keys=True)


def same_content(a: dict, b: dict) -> bool:
    """Would tasks of `a` and `b` run the same thing (images, environment, sizes, roles, ...)?"""
    return _normalized(a) == _normalized(b)


def register_with_image(ecs: Any, source: dict, *, container_name: str, image: str) -> str:
    """Register a copy of `source` whose `container_name` runs `image`; returns the new revision's ARN."""
    request = {field: source[field] for field in _REGISTRABLE if source.get(field) not in (None, [], {})}
    containers = []
    for container in source["containerDefinitions"]:
        container = dict(container)
        if container.get("name") == container_name:
            container["image"] = image
        containers.append(container)
    request["containerDefinitions"] = containers
    return str(ecs.register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"])


def live_task_definition_arn(ecs: Any, cluster: str, service: str) -> str:
    """What production runs: the PRIMARY task set of a CODE_DEPLOY service (the service's own field otherwise)."""
    services = ecs.describe_services(cluster=cluster, services=[service]).get("services") or []
    if not services:
        raise LookupError(f"ECS service {service} not found in cluster {cluster}")
    found = services[0]
    for task_set in found.get("taskSets") or []:
        if task_set.get("status") == "PRIMARY":
            return str(task_set["taskDefinition"])
    return str(found["taskDefinition"])
