"""DomainService: one domain's Fargate service released blue/green by CodeDeploy.

It composes the parts of a domain's release path (`bluegreen.domain`), each with one obvious home:

    registry -> task definition (+ AppConfig agent) -> traffic (target groups, listeners, DNS)
    -> runtime (Fargate service, CODE_DEPLOY) -> rollback alarms -> release (CodeDeploy, trigger, stickiness)
    -> metadata (SSM + outputs)

Platform values are read at deploy time from what the platform publishes (`bluegreen.handles`), never through a
cross-stack reference, so the same construct works in the platform's own app and in another team's app.
"""
from __future__ import annotations

from typing import Mapping

from aws_cdk import Stack
from aws_cdk import aws_codedeploy as codedeploy
from constructs import Construct

from bluegreen.config.model import DomainSpec
from bluegreen.domain.metadata import DomainMetadata, deployment_metadata, metadata_parameter_name
from bluegreen.domain.registry import DomainRegistry
from bluegreen.domain.release import DomainRelease
from bluegreen.domain.runtime import DomainRuntime
from bluegreen.domain.task import APP_CONTAINER, DomainTaskDefinition
from bluegreen.domain.traffic import DomainTraffic
from bluegreen.feature_flags import DomainFlagsSpec, FeatureFlags, add_appconfig_agent_sidecar
from bluegreen.handles import PlatformHandles, PlatformImports
from bluegreen.rollback_alarms import RollbackAlarms

__all__ = ["APP_CONTAINER", "DomainService", "MissingGate", "metadata_parameter_name"]


class MissingGate(ValueError):
    """A domain would release without a gate its spec requires."""


def required_hooks(spec: DomainSpec, available: Mapping[str, str]) -> dict[str, str]:
    """The lifecycle hooks this domain's releases must pass, from the platform's hook functions.

    Every domain runs its smoke checks at AfterAllowTestTraffic (at least one check: traffic never moves
    untested); a domain that requires approval is gated at BeforeAllowTraffic. A missing function is an error,
    never a silently dropped gate.
    """
    if not spec.smoke_checks:
        raise MissingGate(f"domain {spec.name!r} declares no smoke checks: traffic would move without any "
                          "test-traffic check. Add at least one SmokeCheckSpec to DomainSpec.smoke_checks.")
    needed = {"AfterAllowTestTraffic": "smoke checks"}
    if spec.approval.required:
        needed["BeforeAllowTraffic"] = "approval"
    missing = [f"{event} ({gate})" for event, gate in needed.items() if not available.get(event)]
    if missing:
        raise MissingGate(f"domain {spec.name!r} requires {', '.join(missing)} but the platform handles name no "
                          "hook function for it. Build the handles with PlatformHandles.from_config(...) or "
                          "PlatformHandles.attach(...) so the platform's CodeDeployHook_<platform>_* functions are "
                          "used (docs/library.md).")
    return {event: available[event] for event in needed}


class DomainService(Construct):
    """A domain service on the platform's ALB with a CodeDeploy blue/green release path.

    Attributes: `platform` (the imported platform values), `repository`, `task_definition`, `app_container`,
    `log_group`, `service`, `blue_target_group`, `green_target_group`, `prod_listener`, `test_listener`,
    `record`, `endpoint`, `test_endpoint`, `rollback_alarms`, `feature_flags`, `agent_container`,
    `application`, `deployment_group`, `trigger`, `stickiness`, `hooks`, `metadata_parameter`, `metadata`.
    """

    def __init__(self, scope: Construct, id: str, *, spec: DomainSpec, platform: PlatformHandles,
                 feature_flags: DomainFlagsSpec | None = None,
                 deployment_config: codedeploy.IEcsDeploymentConfig | None = None,
                 extra_environment: Mapping[str, str] | None = None,
                 hook_function_arns: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        platform_name = platform.platform_name
        self.spec = spec
        self.platform = PlatformImports(self, "Platform", handles=platform)
        self.hooks = required_hooks(spec, self.platform.hook_function_arns if hook_function_arns is None
                                    else hook_function_arns)
        lb = self.platform.load_balancer(spec.alb_group, spec.shard or 0)

        registry = DomainRegistry(self, "Registry", platform_name=platform_name, domain=spec.name)
        self.repository = registry.repository

        task = DomainTaskDefinition(self, "Task", platform_name=platform_name, spec=spec,
                                    repository=self.repository, logs_key=self.platform.logs_key,
                                    extra_environment=extra_environment)
        self.task_definition, self.app_container, self.log_group = task.task_definition, task.app_container, \
            task.log_group

        traffic = DomainTraffic(self, "Traffic", platform_name=platform_name, spec=spec, load_balancer=lb,
                                vpc=self.platform.vpc, vpc_cidr=self.platform.vpc.vpc_cidr_block,
                                client_cidrs=platform.client_cidrs, test_client_cidrs=platform.test_client_cidrs,
                                hooks_security_group_id=self.platform.hooks_security_group_id,
                                zone=self.platform.zone, zone_name=platform.zone_name,
                                certificate_arn=self.platform.certificate_arn(spec.alb_group))
        self.blue_target_group, self.green_target_group = traffic.blue_target_group, traffic.green_target_group
        self.prod_listener, self.test_listener = traffic.prod_listener, traffic.test_listener
        self.record, self.endpoint, self.test_endpoint = traffic.record, traffic.endpoint, traffic.test_endpoint

        runtime = DomainRuntime(self, "Runtime", platform_name=platform_name, spec=spec,
                                cluster=self.platform.cluster, vpc=self.platform.vpc,
                                task_definition=self.task_definition,
                                blue_target_group=self.blue_target_group)
        self.service = runtime.service

        name = f"{platform_name}-{spec.name}"
        self.rollback_alarms = RollbackAlarms(self, "RollbackAlarms", name_prefix=name, spec=spec.alarms,
                                              blue=self.blue_target_group, green=self.green_target_group,
                                              load_balancer_full_name=lb.full_name)

        flags_spec = feature_flags or DomainFlagsSpec()
        self.feature_flags = FeatureFlags(
            self, "FeatureFlags", application_name=name, environment_name="live", spec=flags_spec,
            rollback_alarms=self.rollback_alarms.alarms,
            deployment_strategy=self.platform.flag_strategy(flags_spec.rollout.shape))
        self.agent_container = add_appconfig_agent_sidecar(
            task_definition=self.task_definition, app_container=self.app_container, flags=self.feature_flags,
            log_group=self.log_group)

        release = DomainRelease(
            self, "Release", platform_name=platform_name, spec=spec, service=self.service,
            task_definition=self.task_definition, blue_target_group=self.blue_target_group,
            green_target_group=self.green_target_group, prod_listener=self.prod_listener,
            test_listener=self.test_listener, alarms=self.rollback_alarms.alarms, hooks=self.hooks,
            service_token=self.platform.release_service_token, deployment_config=deployment_config)
        self.application, self.deployment_group = release.application, release.deployment_group
        self.trigger, self.stickiness = release.trigger, release.stickiness

        document = deployment_metadata(
            platform_name=platform_name, spec=spec, region=stack.region,
            task_definition_arn=self.trigger.task_definition_arn,
            prod_listener_arn=self.prod_listener.listener_arn, test_listener_arn=self.test_listener.listener_arn,
            endpoint=self.endpoint, test_endpoint=self.test_endpoint, hooks=self.hooks,
            ecr_repository=self.repository.repository_uri, task_role_arn=task.task_role.role_arn,
            execution_role_arn=task.execution_role.role_arn,
            feature_flags={"application": self.feature_flags.application_id,
                           "environment": self.feature_flags.environment_id,
                           "profile": self.feature_flags.configuration_profile_id,
                           "agentPath": self.feature_flags.agent_path})
        self.metadata = DomainMetadata(self, "Metadata", platform_name=platform_name, spec=spec, document=document,
                                       outputs={
            "OutputEndpoint": (self.endpoint, "production endpoint"),
            "OutputTestEndpoint": (self.test_endpoint, "test-listener endpoint (green during a deployment)"),
            "OutputCodeDeployApplication": (name, "CodeDeploy application"),
            "OutputDeploymentGroup": (name, "CodeDeploy deployment group"),
            "OutputTaskDefinitionFamily": (name, "ECS task-definition family"),
            "OutputMetadataParameter": (metadata_parameter_name(platform_name, spec.name),
                                        "SSM parameter with deployment metadata"),
            "OutputEcrRepositoryUri": (self.repository.repository_uri, "ECR repository for this domain's images"),
        })
        # Published last: only once the release (and every waiter) has finished.
        self.metadata.node.add_dependency(self.trigger.completion)
        self.metadata_parameter = self.metadata.parameter
