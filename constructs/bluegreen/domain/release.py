"""The domain's release path: CodeDeploy application and deployment group, the config-change trigger and the
production listener's stickiness."""
from __future__ import annotations

from typing import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge, acknowledge_inline_policy
from bluegreen.config.model import DomainSpec
from bluegreen.deployment_trigger import DeploymentTrigger
from bluegreen.domain.task import APP_CONTAINER
from bluegreen.listener_stickiness import ListenerStickiness
from bluegreen.published import cluster_name
from bluegreen.release_timing import waiting_resources


class DomainRelease(Construct):
    """Blue/green deployment group (both listeners, both target groups, termination wait from the drain policy,
    automatic rollback on failure, alarm and stop) with the least-privileged `AWSCodeDeployRoleForECSLimited`;
    a `DeploymentTrigger` that releases config changes and waits for them; stickiness on the live action.

    Attributes: `application`, `deployment_group`, `deployment_config`, `trigger`, `stickiness`, `role`.
    """

    def __init__(self, scope: Construct, id: str, *, platform_name: str, spec: DomainSpec,
                 service: ecs.FargateService, task_definition: ecs.FargateTaskDefinition,
                 blue_target_group: elbv2.IApplicationTargetGroup, green_target_group: elbv2.IApplicationTargetGroup,
                 prod_listener: elbv2.IApplicationListener, test_listener: elbv2.IApplicationListener,
                 alarms: list[cloudwatch.IAlarm], hooks: Mapping[str, str], service_token: str,
                 deployment_config: codedeploy.IEcsDeploymentConfig | None = None) -> None:
        super().__init__(scope, id)
        name = f"{platform_name}-{spec.name}"
        self.application = codedeploy.EcsApplication(self, "Application", application_name=name)
        self.role = iam.Role(self, "CodeDeployRole", assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"),
                             managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                                 "AWSCodeDeployRoleForECSLimited")],
                             description=f"{name}: CodeDeploy blue/green; may only invoke CodeDeployHook_* functions")
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["iam:PassRole"], resources=[task_definition.task_role.role_arn,
                                                 task_definition.obtain_execution_role().role_arn]))
        acknowledge_inline_policy(self.role)
        acknowledge(self.role, Ack(
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECSLimited]",
            "AWS's least-privileged CodeDeploy ECS policy: it only invokes functions named CodeDeployHook_*, "
            "which is why every hook function carries that prefix."))
        config_name = spec.traffic.config_name(platform_name)
        self.deployment_config = deployment_config or codedeploy.EcsDeploymentConfig.from_ecs_deployment_config_name(
            self, "DeploymentConfig", config_name)
        self.deployment_group = codedeploy.EcsDeploymentGroup(
            self, "DeploymentGroup", application=self.application, deployment_group_name=name,
            # EcsDeploymentGroup would attach the broad AWSCodeDeployRoleForECS; keep only the Limited policy.
            service=service, role=self.role.without_policy_updates(), deployment_config=self.deployment_config,
            alarms=alarms,
            auto_rollback=codedeploy.AutoRollbackConfig(failed_deployment=True, stopped_deployment=True,
                                                        deployment_in_alarm=True),
            blue_green_deployment_config=codedeploy.EcsBlueGreenDeploymentConfig(
                blue_target_group=blue_target_group, green_target_group=green_target_group,
                listener=prod_listener, test_listener=test_listener,
                termination_wait_time=Duration.minutes(spec.drain.termination_wait_minutes)))

        self.trigger = DeploymentTrigger(
            self, "DeploymentTrigger", service_token=service_token, domain=spec.name, application_name=name,
            deployment_group_name=name, cluster_name=cluster_name(platform_name), service_name=name,
            task_definition=task_definition, container_name=APP_CONTAINER, container_port=spec.container_port,
            hooks=hooks, config_image=spec.image, waiting_resources=waiting_resources(spec))
        self.trigger.node.add_dependency(self.deployment_group)

        self.stickiness = ListenerStickiness(
            self, "ProdListenerStickiness", service_token=service_token, listener=prod_listener,
            application_name=name, deployment_group_name=name, seconds=spec.sticky_seconds)
        self.stickiness.node.add_dependency(self.deployment_group)
