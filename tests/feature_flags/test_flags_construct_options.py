"""FeatureFlags / sidecar variations: no alarms, more alarms than AppConfig can watch, overrides, misuse."""
from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from bluegreen.feature_flags import (
    AGENT_CONTAINER_NAME,
    DomainFlagsSpec,
    FeatureFlags,
    FlagRolloutSpec,
    GrowthType,
    add_appconfig_agent_sidecar,
)


def new_stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(builtin_cloud_formation_validation=False), "FlagsOptions")


def alarms(stack: cdk.Stack, count: int) -> list[cloudwatch.Alarm]:
    return [cloudwatch.Alarm(stack, f"Alarm{i}", metric=cloudwatch.Metric(namespace="Test", metric_name=f"m{i}"),
                             threshold=1, evaluation_periods=1) for i in range(count)]


def flags(stack: cdk.Stack, **overrides: Any) -> FeatureFlags:
    props: dict[str, Any] = {"application_name": "bluegreen-order", "environment_name": "prod",
                             "spec": DomainFlagsSpec(), "rollback_alarms": []}
    props.update(overrides)
    return FeatureFlags(stack, "FeatureFlags", **props)


def task_with_app(stack: cdk.Stack) -> tuple[ecs.FargateTaskDefinition, ecs.ContainerDefinition]:
    task_definition = ecs.FargateTaskDefinition(stack, "TaskDefinition")
    app = task_definition.add_container("app", image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27"),
                                        logging=ecs.LogDrivers.aws_logs(stream_prefix="app"))
    return task_definition, app


def agent_container(template: Template) -> dict[str, Any]:
    task = next(iter(template.find_resources("AWS::ECS::TaskDefinition").values()))
    return next(c for c in task["Properties"]["ContainerDefinitions"] if c["Name"] == AGENT_CONTAINER_NAME)


def test_without_alarms_there_is_no_monitor_and_no_role() -> None:
    stack = new_stack()
    created = flags(stack)
    template = Template.from_stack(stack)
    environment = next(iter(template.find_resources("AWS::AppConfig::Environment").values()))
    assert environment["Properties"].get("Monitors", []) == []
    template.resource_count_is("AWS::IAM::Role", 0)
    template.resource_count_is("AWS::IAM::ManagedPolicy", 0)
    assert created.monitor_role is None and created.watched_alarms == ()
    content = next(iter(template.find_resources("AWS::AppConfig::HostedConfigurationVersion").values()))
    assert json.loads(content["Properties"]["Content"]) == {"version": "1", "flags": {}, "values": {}}


def test_more_than_five_alarms_are_watched_through_one_composite_alarm() -> None:
    stack = new_stack()
    members = alarms(stack, 7)
    created = flags(stack, rollback_alarms=members)
    template = Template.from_stack(stack)
    composites = template.find_resources("AWS::CloudWatch::CompositeAlarm")
    assert len(composites) == 1
    composite_id, composite = next(iter(composites.items()))
    rule = json.dumps(composite["Properties"]["AlarmRule"])
    for member_id in template.find_resources("AWS::CloudWatch::Alarm"):
        assert member_id in rule
    assert rule.count("ALARM(") == 7 and rule.count(" OR ") == 6
    environment = next(iter(template.find_resources("AWS::AppConfig::Environment").values()))
    assert [m["AlarmArn"] for m in environment["Properties"]["Monitors"]] == [{"Fn::GetAtt": [composite_id, "Arn"]}]
    policy = next(iter(template.find_resources("AWS::IAM::ManagedPolicy").values()))
    assert policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] == {"Fn::GetAtt": [composite_id, "Arn"]}
    assert created.composite_alarm is not None and created.watched_alarms == (created.composite_alarm,)


def test_five_alarms_are_watched_directly() -> None:
    stack = new_stack()
    flags(stack, rollback_alarms=alarms(stack, 5))
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudWatch::CompositeAlarm", 0)
    environment = next(iter(template.find_resources("AWS::AppConfig::Environment").values()))
    assert len(environment["Properties"]["Monitors"]) == 5


def test_exponential_rollout() -> None:
    stack = new_stack()
    flags(stack, spec=DomainFlagsSpec(rollout=FlagRolloutSpec(GrowthType.EXPONENTIAL, 60, 2.5, 30)))
    Template.from_stack(stack).has_resource_properties("AWS::AppConfig::DeploymentStrategy", {
        "GrowthType": "EXPONENTIAL", "GrowthFactor": 2.5, "DeploymentDurationInMinutes": 60,
        "FinalBakeTimeInMinutes": 30})


@pytest.mark.parametrize("image", [
    "public.ecr.aws/aws-appconfig/aws-appconfig-agent",
    "public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x",
    "public.ecr.aws/aws-appconfig/aws-appconfig-agent:latest",
])
def test_unpinned_agent_images_are_refused(image: str) -> None:
    stack = new_stack()
    task_definition, app = task_with_app(stack)
    with pytest.raises(ValueError, match="not pinned"):
        add_appconfig_agent_sidecar(task_definition=task_definition, app_container=app, flags=flags(stack), image=image)


def test_overrides_for_image_log_group_and_health_check() -> None:
    stack = new_stack()
    task_definition, app = task_with_app(stack)
    group = logs.LogGroup(stack, "PlatformLogs", retention=logs.RetentionDays.ONE_YEAR)
    digest = "public.ecr.aws/aws-appconfig/aws-appconfig-agent@sha256:" + "a" * 64
    check = ecs.HealthCheck(command=["CMD", "/bin/true"], interval=Duration.seconds(30))
    agent = add_appconfig_agent_sidecar(task_definition=task_definition, app_container=app, flags=flags(stack),
                                        log_group=group, image=digest, health_check=check)
    assert agent.container_name == AGENT_CONTAINER_NAME
    template = Template.from_stack(stack)
    container = agent_container(template)
    assert container["Image"] == digest
    assert container["HealthCheck"]["Command"] == ["CMD", "/bin/true"]
    group_id = next(iter(template.find_resources("AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 365}})))
    assert container["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": group_id}
    template.resource_count_is("AWS::Logs::LogGroup", 2)  # the platform group and the app's own


@pytest.mark.parametrize("overrides, error", [
    ({"application_name": ""}, ValueError),
    ({"application_name": "a" * 65}, ValueError),
    ({"environment_name": "e" * 65}, ValueError),
    ({"profile_name": ""}, ValueError),
    ({"spec": {"flags": []}}, TypeError),
])
def test_misuse_is_refused(overrides: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        flags(new_stack(), **overrides)


def test_two_domains_in_one_stack_do_not_collide() -> None:
    stack = new_stack()
    FeatureFlags(stack, "AuthFlags", application_name="bluegreen-auth", environment_name="prod",
                 spec=DomainFlagsSpec(), rollback_alarms=[])
    FeatureFlags(stack, "OrderFlags", application_name="bluegreen-order", environment_name="prod",
                 spec=DomainFlagsSpec(), rollback_alarms=[])
    template = Template.from_stack(stack)
    names = {s["Properties"]["Name"] for s in template.find_resources("AWS::AppConfig::DeploymentStrategy").values()}
    assert names == {"bluegreen-auth-prod-flags", "bluegreen-order-prod-flags"}


def test_the_nag_harness_fails_on_an_unacknowledged_finding() -> None:
    """Guards the compliance test: a plugin on the stack's app does stop synthesis."""
    stack = new_stack()
    task_definition = ecs.FargateTaskDefinition(stack, "TaskDefinition")
    task_definition.add_container("app", image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27"),
                                  logging=ecs.LogDrivers.aws_logs(stream_prefix="app"), environment={"A": "b"})
    Validations.of(stack.node.scope).add_plugins(AwsSolutionsChecks(stack.node.scope))
    with pytest.raises(Exception, match="AwsSolutions-ECS2"):
        Template.from_stack(stack)


def test_a_shared_deployment_strategy_replaces_the_per_domain_one() -> None:
    from aws_cdk import aws_appconfig as appconfig

    stack = new_stack()
    shared = appconfig.DeploymentStrategy(stack, "Shared", deployment_strategy_name="bluegreen-flags",
                                          rollout_strategy=appconfig.RolloutStrategy.ALL_AT_ONCE)
    created = flags(stack, deployment_strategy=shared)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::AppConfig::DeploymentStrategy", 1)
    shared_id = next(iter(template.find_resources("AWS::AppConfig::DeploymentStrategy")))
    template.has_resource_properties("AWS::AppConfig::Deployment", {"DeploymentStrategyId": {"Ref": shared_id}})
    assert created.deployment_strategy is shared
