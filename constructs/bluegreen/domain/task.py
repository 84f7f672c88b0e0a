"""The domain's task definition: the app container (named `app`) with its roles and log group."""
from __future__ import annotations

from typing import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge, acknowledge_inline_policy
from bluegreen.config.model import DomainSpec

APP_CONTAINER = "app"
STOP_TIMEOUT = Duration.seconds(120)  # Fargate's maximum; draining, not SIGTERM grace, protects sessions


def app_environment(spec: DomainSpec, platform_name: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """What the app container always gets: its identity, its port (images that honour PORT listen on the
    configured container port) and the longest session it must serve; then the config's own variables."""
    environment = {"DOMAIN": spec.name, "PLATFORM": platform_name, "PORT": str(spec.container_port),
                   "MAX_SESSION_SECONDS": str(spec.max_session_seconds), **dict(spec.environment),
                   **dict(extra or {})}
    return dict(sorted(environment.items()))


class DomainTaskDefinition(Construct):
    """Family `<platform>-<domain>`, X86_64 Linux, container `app`; named task and execution roles (the deploy
    role may pass `<platform>-*-task|execution` and nothing else).

    Replaced revisions stay registered (`UpdateReplacePolicy` and `DeletionPolicy` Retain): a rollback to the
    revision that ran before a config change must find it ACTIVE. Attributes: `task_definition`, `app_container`, `log_group`,
    `task_role`, `execution_role`.
    """

    def __init__(self, scope: Construct, id: str, *, platform_name: str, spec: DomainSpec,
                 repository: ecr.IRepository, logs_key: kms.IKey,
                 extra_environment: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, id)
        name = f"{platform_name}-{spec.name}"
        self.log_group = logs.LogGroup(self, "Logs", log_group_name=f"/{platform_name}/{spec.name}",
                                       retention=logs.RetentionDays.THREE_MONTHS, encryption_key=logs_key,
                                       removal_policy=RemovalPolicy.RETAIN)
        self.task_role = iam.Role(self, "TaskRole", role_name=f"{name}-task",
                                  assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                                  description=f"{name}: the application's own AWS permissions")
        self.execution_role = iam.Role(self, "ExecutionRole", role_name=f"{name}-execution",
                                       assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                                       description=f"{name}: pulls the image and writes logs for ECS")
        self.task_definition = ecs.FargateTaskDefinition(
            self, "TaskDefinition", family=name, cpu=spec.cpu, memory_limit_mib=spec.memory_mib,
            task_role=self.task_role, execution_role=self.execution_role,
            runtime_platform=ecs.RuntimePlatform(cpu_architecture=ecs.CpuArchitecture.X86_64,
                                                 operating_system_family=ecs.OperatingSystemFamily.LINUX))
        self.task_definition.apply_removal_policy(RemovalPolicy.RETAIN)
        self.app_container = self.task_definition.add_container(
            APP_CONTAINER, container_name=APP_CONTAINER, image=ecs.ContainerImage.from_registry(spec.image),
            port_mappings=[ecs.PortMapping(container_port=spec.container_port, name="http")],
            environment=app_environment(spec, platform_name, extra_environment),
            logging=ecs.LogDrivers.aws_logs(stream_prefix=spec.name, log_group=self.log_group),
            essential=True, stop_timeout=STOP_TIMEOUT)
        acknowledge(self.task_definition, Ack(
            "AwsSolutions-ECS2",
            "Environment variables carry non-secret settings (domain name, port, session length, flag URLs); "
            "secrets are never configured here. Production would add secrets through ecs.Secret from Secrets Manager."))
        repository.grant_pull(self.execution_role)
        for role in (self.task_role, self.execution_role):
            acknowledge_inline_policy(role)
        acknowledge(self.execution_role, Ack(
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken has no resource-level permissions and must use '*'; image pulls and log "
            "writes are scoped to this domain's repository and log group."))
