"""CodeDeploy reads shared by the trigger and the waiters, and the description markers the trigger writes.

A deployment the trigger starts carries, after ` | `, the tokens `source=cloudformation stack=<name>
cfn-revision=<family:rev> from-revision=<family:rev> previous=<family:rev> image=<uri>`, so a later event
(CloudFormation rolling the update back, deleting the stack) can tell its own deployment from a pipeline's
and knows which revision ran before it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

IN_FLIGHT_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")
TERMINAL_STATUSES = ("Succeeded", "Failed", "Stopped")
SOURCE = "cloudformation"
MAX_DESCRIPTION = 512  # CodeDeploy's limit on a deployment description
RECENT = 25


def revision_label(task_definition_arn: str) -> str:
    """`family:revision` from a task-definition ARN (or the label itself)."""
    return task_definition_arn.rsplit("/", 1)[-1]


def describe(summary: str, tokens: Mapping[str, str]) -> str:
    text = f"{summary} | " + " ".join(f"{key}={value}" for key, value in tokens.items() if value)
    return text[:MAX_DESCRIPTION]


def parse_tokens(description: str | None) -> dict[str, str]:
    if not description or " | " not in description:
        return {}
    tokens = {}
    for part in description.rsplit(" | ", 1)[1].split():
        key, sep, value = part.partition("=")
        if sep:
            tokens[key] = value
    return tokens


@dataclass(frozen=True)
class Deployment:
    deployment_id: str
    status: str
    tokens: dict[str, str]
    create_time: Any
    error: str
    rollback_deployment_id: str | None

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT_STATUSES

    @property
    def started_by_cloudformation(self) -> bool:
        return self.tokens.get("source") == SOURCE

    def started_by_stack(self, stack_name: str) -> bool:
        return self.started_by_cloudformation and self.tokens.get("stack") == stack_name

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> "Deployment":
        error = info.get("errorInformation") or {}
        rollback = info.get("rollbackInfo") or {}
        return cls(deployment_id=str(info["deploymentId"]), status=str(info.get("status", "")),
                   tokens=parse_tokens(info.get("description")), create_time=info.get("createTime"),
                   error=" ".join(str(error.get(k, "")) for k in ("code", "message")).strip(),
                   rollback_deployment_id=rollback.get("rollbackDeploymentId"))


def get(codedeploy: Any, deployment_id: str) -> Deployment:
    return Deployment.from_info(codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"])


def in_flight(codedeploy: Any, application: str, group: str) -> list[Deployment]:
    ids = codedeploy.list_deployments(applicationName=application, deploymentGroupName=group,
                                      includeOnlyStatuses=list(IN_FLIGHT_STATUSES)).get("deployments") or []
    return [get(codedeploy, deployment_id) for deployment_id in ids]


def recent(codedeploy: Any, application: str, group: str) -> list[Deployment]:
    """The group's most recent deployments, newest first (ListDeployments has no documented order)."""
    ids = (codedeploy.list_deployments(applicationName=application, deploymentGroupName=group)
           .get("deployments") or [])[:RECENT]
    if not ids:
        return []
    infos = codedeploy.batch_get_deployments(deploymentIds=ids).get("deploymentsInfo") or []
    deployments = [Deployment.from_info(info) for info in infos]
    return sorted(deployments, key=lambda d: str(d.create_time or ""), reverse=True)


def settled(codedeploy: Any, deployment: Deployment) -> bool:
    """Terminal, and so is the rollback deployment CodeDeploy may have started for it."""
    if deployment.status not in TERMINAL_STATUSES:
        return False
    if deployment.rollback_deployment_id:
        return get(codedeploy, deployment.rollback_deployment_id).status in TERMINAL_STATUSES
    return True
