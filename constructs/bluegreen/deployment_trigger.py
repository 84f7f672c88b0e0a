"""Release a domain's config changes through CodeDeploy, and keep the stack update open until it is done.

With the CODE_DEPLOY controller the ECS service names only the task-definition family, so a changed image, env
or size registers a new revision that would otherwise run nowhere. `DeploymentTrigger` is a custom resource of
the platform's release provider (`lambdas/release_provider/release/trigger.py`) that starts a blue/green
deployment of that revision and succeeds only when CodeDeploy succeeded; if CodeDeploy fails or rolls back, the
resource fails and CloudFormation rolls the stack back. CloudFormation gives one custom resource at most an hour,
so `Custom::CodeDeployDeploymentWaiter` resources continue the wait (`bluegreen.release_timing`).
"""
from __future__ import annotations

from typing import Mapping

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from bluegreen.release_timing import WAIT_BUDGET_MINUTES

TRIGGER_TYPE = "Custom::CodeDeployBlueGreenDeployment"
WAITER_TYPE = "Custom::CodeDeployDeploymentWaiter"
SERVICE_TIMEOUT = Duration.hours(1)  # CloudFormation's maximum for a custom resource


class DeploymentTrigger(Construct):
    """Attributes: `resource` (the trigger), `waiters`, `completion` (depend on it to run after the release),
    `task_definition_arn` (what production runs after this stack operation)."""

    def __init__(self, scope: Construct, id: str, *, service_token: str, domain: str, application_name: str,
                 deployment_group_name: str, cluster_name: str, service_name: str,
                 task_definition: ecs.TaskDefinition, container_name: str, container_port: int,
                 hooks: Mapping[str, str], config_image: str, waiting_resources: int) -> None:
        super().__init__(scope, id)
        if waiting_resources < 1:
            raise ValueError(f"waiting_resources must be at least 1, got {waiting_resources}")
        self.resource = CustomResource(
            self, "Release", service_token=service_token, resource_type=TRIGGER_TYPE,
            service_timeout=SERVICE_TIMEOUT,
            properties={
                "Domain": domain, "StackName": Stack.of(self).stack_name, "ApplicationName": application_name,
                "DeploymentGroupName": deployment_group_name, "ClusterName": cluster_name,
                "ServiceName": service_name, "TaskDefinitionArn": task_definition.task_definition_arn,
                "ContainerName": container_name, "ContainerPort": str(container_port), "ConfigImage": config_image,
                "Hooks": dict(sorted(hooks.items())), "WaitBudgetMinutes": str(WAIT_BUDGET_MINUTES),
                "Last": _flag(waiting_resources == 1)})
        self.waiters: list[CustomResource] = []
        previous = self.resource
        for index in range(1, waiting_resources):
            waiter = CustomResource(
                self, f"Waiter{index}", service_token=service_token, resource_type=WAITER_TYPE,
                service_timeout=SERVICE_TIMEOUT,
                properties={"Domain": domain, "DeploymentId": self.resource.get_att_string("DeploymentId"),
                            "WaitBudgetMinutes": str(WAIT_BUDGET_MINUTES),
                            "Last": _flag(index == waiting_resources - 1)})
            waiter.node.add_dependency(previous)
            self.waiters.append(waiter)
            previous = waiter
        self.completion = previous
        self.task_definition_arn = self.resource.get_att_string("TaskDefinitionArn")


def _flag(value: bool) -> str:
    return "true" if value else "false"
