"""The library used directly: PlatformFoundation + AlbGroup + DomainService in one bare stack."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match, Template

from bluegreen.alb_group import AlbGroup
from bluegreen.config.model import AlbGroupSpec, DomainSpec, HostedZoneSpec, Protocol
from bluegreen.domain_service import DomainService
from bluegreen.drain import DrainPolicy
from bluegreen.handles import PlatformHandles
from bluegreen.platform_foundation import PlatformFoundation
from bluegreen.traffic import TrafficShift

SPEC = DomainSpec(name="chat", alb_group="rt", port=7000, test_port=7001, image="repo/chat:2.0",
                  protocol=Protocol.WEBSOCKET, max_session_seconds=600, drain=DrainPolicy.for_websocket(600),
                  traffic=TrafficShift.canary(25, 3), stickiness_seconds=900)


@pytest.fixture(scope="module")
def built():
    app = cdk.App()
    stack = cdk.Stack(app, "Lib", env=cdk.Environment(region="eu-west-1"))
    foundation = PlatformFoundation(stack, "Foundation", platform_name="lib", vpc_cidr="10.9.0.0/16",
                                    hosted_zone=HostedZoneSpec(name="lib.internal"))
    group = AlbGroup(stack, "Rt", platform_name="lib", spec=AlbGroupSpec(name="rt", idle_timeout_seconds=700),
                     vpc=foundation.vpc, access_log_bucket=foundation.access_log_bucket)
    handles = PlatformHandles(
        platform_name="lib", vpc=foundation.vpc, vpc_cidr="10.9.0.0/16", client_cidrs=("192.168.0.0/16",),
        cluster=foundation.cluster, zone=foundation.zone, zone_name="lib.internal", logs_key=foundation.logs_key,
        load_balancers={("rt", 0): group.handles[0]},
        hook_function_arns={"AfterAllowTestTraffic": "arn:aws:lambda:eu-west-1:111122223333:function:CodeDeployHook_x"})
    domain = DomainService(stack, "Chat", spec=SPEC, platform=handles)
    return domain, Template.from_stack(stack)


def test_exposes_created_resources(built):
    domain, _ = built
    for attribute in ("repository", "task_definition", "app_container", "service", "blue_target_group",
                      "green_target_group", "prod_listener", "test_listener", "application", "deployment_group",
                      "rollback_alarms", "record", "metadata_parameter"):
        assert getattr(domain, attribute) is not None, attribute
    assert domain.endpoint == "http://chat.lib.internal:7000"


def test_websocket_drain_policy_applied(built):
    _, template = built
    template.resource_properties_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", {
        "TargetGroupAttributes": Match.array_with([
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(SPEC.drain.deregistration_delay_seconds)}])},
        2)
    template.has_resource_properties("AWS::CodeDeploy::DeploymentGroup", {"BlueGreenDeploymentConfiguration": {
        "TerminateBlueInstancesOnDeploymentSuccess": {
            "TerminationWaitTimeInMinutes": SPEC.drain.termination_wait_minutes}}})


def test_client_ranges_reach_only_the_production_port(built):
    _, template = built
    template.has_resource_properties("AWS::EC2::SecurityGroupIngress", {"CidrIp": "192.168.0.0/16",
                                                                        "FromPort": 7000, "ToPort": 7000})
    template.resource_properties_count_is("AWS::EC2::SecurityGroupIngress", {"CidrIp": "192.168.0.0/16"}, 1)


def test_hooks_named_in_the_appspec_only_when_configured(built):
    _, template = built
    content = Capture()
    template.has_resource_properties("Custom::CodeDeployBlueGreenDeployment", {"Update": content})
    rendered = str(content.as_object())
    # This spec has no smoke checks and no approval: no hook is wired even though the platform offers one.
    assert "CodeDeployHook_x" not in rendered


def test_custom_shift_needs_a_config_by_name(built):
    _, template = built
    template.has_resource_properties("AWS::CodeDeploy::DeploymentGroup", {
        "DeploymentConfigName": "lib-ECSCanary25Percent3Minutes"})
