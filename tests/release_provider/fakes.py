"""In-memory CodeDeploy, ECS and ELB with the boto3 method names and shapes the release provider uses.

Scenario logic is tested against these; `test_release_api_shapes.py` checks the same calls against the real
botocore service models with Stubber.
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

ACCOUNT_ARN = "arn:aws:ecs:eu-west-1:111122223333"
T0 = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


class FakeClientError(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.response = {"Error": {"Code": code, "Message": message}}


def task_definition_arn(family: str, revision: int) -> str:
    return f"{ACCOUNT_ARN}:task-definition/{family}:{revision}"


@dataclass
class FakeEcs:
    task_definitions: dict[str, dict] = field(default_factory=dict)
    live: str = ""  # the PRIMARY task set's task definition
    calls: list[tuple[str, dict]] = field(default_factory=list)

    def add(self, family: str, revision: int, image: str, environment: dict[str, str] | None = None) -> str:
        arn = task_definition_arn(family, revision)
        self.task_definitions[arn] = {
            "taskDefinitionArn": arn, "family": family, "revision": revision, "cpu": "256", "memory": "512",
            "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
            "taskRoleArn": "arn:aws:iam::111122223333:role/p-shop-task",
            "executionRoleArn": "arn:aws:iam::111122223333:role/p-shop-execution",
            "containerDefinitions": [
                {"name": "app", "image": image, "essential": True,
                 "environment": [{"name": k, "value": v} for k, v in (environment or {}).items()]},
                {"name": "appconfig-agent", "image": "public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.0.13147",
                 "essential": False}],
            "status": "ACTIVE", "registeredAt": T0}
        return arn

    def describe_task_definition(self, taskDefinition: str) -> dict:
        self.calls.append(("describe_task_definition", {"taskDefinition": taskDefinition}))
        return {"taskDefinition": copy.deepcopy(self.task_definitions[taskDefinition])}

    def register_task_definition(self, **request: Any) -> dict:
        self.calls.append(("register_task_definition", request))
        family = request["family"]
        revision = 1 + max(td["revision"] for td in self.task_definitions.values() if td["family"] == family)
        arn = task_definition_arn(family, revision)
        self.task_definitions[arn] = {**copy.deepcopy(request), "taskDefinitionArn": arn, "revision": revision}
        return {"taskDefinition": copy.deepcopy(self.task_definitions[arn])}

    def describe_services(self, cluster: str, services: list[str]) -> dict:
        self.calls.append(("describe_services", {"cluster": cluster, "services": services}))
        return {"services": [{"serviceName": services[0], "taskDefinition": "p-shop",
                              "taskSets": [{"status": "PRIMARY", "taskDefinition": self.live}]}]}


@dataclass
class FakeCodeDeploy:
    deployments: dict[str, dict] = field(default_factory=dict)
    configs: dict[str, dict] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    refuse_with: str | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def add(self, status: str, description: str, minutes: int = 0, rollback_of: str | None = None) -> str:
        deployment_id = f"d-{next(self._ids):09d}"
        self.deployments[deployment_id] = {
            "deploymentId": deployment_id, "status": status, "description": description,
            "createTime": T0 + timedelta(minutes=minutes)}
        return deployment_id

    def set_status(self, deployment_id: str, status: str, *, error: str | None = None,
                   rollback_status: str | None = None) -> None:
        info = self.deployments[deployment_id]
        info["status"] = status
        if error:
            info["errorInformation"] = {"code": "HEALTH_CONSTRAINTS", "message": error}
        if rollback_status:
            rollback = self.add(rollback_status, "rollback", minutes=120)
            info["rollbackInfo"] = {"rollbackDeploymentId": rollback}

    def list_deployments(self, applicationName: str, deploymentGroupName: str,
                         includeOnlyStatuses: list[str] | None = None) -> dict:
        self.calls.append(("list_deployments", {"includeOnlyStatuses": includeOnlyStatuses}))
        ids = [d for d, info in self.deployments.items()
               if includeOnlyStatuses is None or info["status"] in includeOnlyStatuses]
        return {"deployments": list(reversed(ids))}

    def get_deployment(self, deploymentId: str) -> dict:
        return {"deploymentInfo": copy.deepcopy(self.deployments[deploymentId])}

    def batch_get_deployments(self, deploymentIds: list[str]) -> dict:
        return {"deploymentsInfo": [copy.deepcopy(self.deployments[d]) for d in deploymentIds]}

    def stop_deployment(self, deploymentId: str, autoRollbackEnabled: bool) -> dict:
        self.calls.append(("stop_deployment", {"deploymentId": deploymentId,
                                               "autoRollbackEnabled": autoRollbackEnabled}))
        return {"status": "Pending"}

    def get_deployment_config(self, deploymentConfigName: str) -> dict:
        if deploymentConfigName not in self.configs:
            raise FakeClientError("DeploymentConfigDoesNotExistException")
        return {"deploymentConfigInfo": copy.deepcopy(self.configs[deploymentConfigName])}

    def create_deployment_config(self, **request: Any) -> dict:
        self.calls.append(("create_deployment_config", request))
        self.configs[request["deploymentConfigName"]] = {
            "deploymentConfigName": request["deploymentConfigName"],
            "trafficRoutingConfig": request["trafficRoutingConfig"], "computePlatform": "ECS"}
        return {"deploymentConfigId": "id-1"}

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@dataclass
class FakeElb:
    default_actions: list[dict]
    calls: list[tuple[str, dict]] = field(default_factory=list)

    def describe_listeners(self, ListenerArns: list[str]) -> dict:
        return {"Listeners": [{"ListenerArn": ListenerArns[0], "DefaultActions": copy.deepcopy(self.default_actions)}]}

    def modify_listener(self, ListenerArn: str, DefaultActions: list[dict]) -> dict:
        self.calls.append(("modify_listener", {"ListenerArn": ListenerArn, "DefaultActions": DefaultActions}))
        self.default_actions = copy.deepcopy(DefaultActions)
        return {"Listeners": []}


@dataclass
class FakeDeployApi:
    """The platform's deploy API as the release provider sees it: it starts the deployment in `codedeploy` with
    the description the registrar writes (`<kind> <domain> via the deploy API (<source>): <reason>`)."""

    codedeploy: FakeCodeDeploy
    calls: list[dict] = field(default_factory=list)
    refuse_with: Exception | None = None

    def start_deployment(self, **request: Any) -> Any:
        from bgruntime.deploy_api_client import StartedDeployment

        self.calls.append(request)
        if self.refuse_with is not None:
            raise self.refuse_with
        description = (f"{request['kind']} {request['domain']} via the deploy API ({request['source']}): "
                       f"{request['reason']}")[:512]
        deployment_id = self.codedeploy.add("Created", description, minutes=60 + len(self.codedeploy.deployments))
        return StartedDeployment(deployment_id=deployment_id, requester={}, console_url=None)
