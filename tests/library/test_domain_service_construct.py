"""The library used directly: a DomainService in a bare stack, with platform handles built from plain values."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from bluegreen.config.model import (
    AlbGroupSpec, ApprovalSpec, ApproverSpec, DomainSpec, Protocol, SmokeCheckSpec,
)
from bluegreen.domain_service import DomainService, MissingGate, required_hooks
from bluegreen.drain import DrainPolicy
from bluegreen.handles import PlatformHandles
from bluegreen.traffic import TrafficShift
from tests.synth_support import published_ref

CHECK = SmokeCheckSpec(name="chat", kind="websocket", path="/chat", expect_status=101)
SPEC = DomainSpec(name="chat", alb_group="rt", port=7000, test_port=7001, image="repo/chat:2.0",
                  protocol=Protocol.WEBSOCKET, max_session_seconds=600, drain=DrainPolicy.for_websocket(600),
                  traffic=TrafficShift.canary(25, 3), stickiness_seconds=900, smoke_checks=(CHECK,))
HANDLES = PlatformHandles(platform_name="lib", zone_name="lib.internal",
                          alb_groups={"rt": AlbGroupSpec(name="rt", idle_timeout_seconds=700)},
                          client_cidrs=("192.168.0.0/16",), test_client_cidrs=("172.16.0.0/16",))


@pytest.fixture(scope="module")
def built():
    stack = cdk.Stack(cdk.App(), "Lib", env=cdk.Environment(region="eu-west-1"))
    domain = DomainService(stack, "Chat", spec=SPEC, platform=HANDLES)
    return domain, Template.from_stack(stack)


def test_exposes_created_resources(built):
    domain, _ = built
    for attribute in ("repository", "task_definition", "app_container", "service", "blue_target_group",
                      "green_target_group", "prod_listener", "test_listener", "application", "deployment_group",
                      "rollback_alarms", "record", "metadata_parameter", "trigger", "stickiness"):
        assert getattr(domain, attribute) is not None, attribute
    assert domain.endpoint == "http://chat.lib.internal:7000"


def test_websocket_drain_policy_applied(built):
    _, template = built
    # 600 s sessions: margin max(300, 600/3 rounded up to 60) = 300 -> 900 s delay; 10 + 5 = 15 min wait.
    for group in template.find_resources("AWS::ElasticLoadBalancingV2::TargetGroup").values():
        attributes = {a["Key"]: a["Value"] for a in group["Properties"]["TargetGroupAttributes"]}
        assert attributes["deregistration_delay.timeout_seconds"] == "900"
    template.has_resource_properties("AWS::CodeDeploy::DeploymentGroup", {"BlueGreenDeploymentConfiguration": {
        "TerminateBlueInstancesOnDeploymentSuccess": {"Action": "TERMINATE", "TerminationWaitTimeInMinutes": 15}}})


def test_client_ranges_reach_only_their_ports(built):
    _, template = built
    rules = [r["Properties"] for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()]
    by_cidr = {(r.get("CidrIp"), r["FromPort"]) for r in rules if isinstance(r.get("CidrIp"), str)}
    assert by_cidr == {("192.168.0.0/16", 7000), ("172.16.0.0/16", 7001)}


def test_every_value_of_the_platform_is_read_at_deploy_time(built):
    _, template = built
    rendered = template.to_json()
    assert "Fn::ImportValue" not in str(rendered) and "Fn::GetStackOutput" not in str(rendered)
    (listener,) = [r for r in template.find_resources("AWS::ElasticLoadBalancingV2::Listener").values()
                   if r["Properties"]["Port"] == 7000]
    assert listener["Properties"]["LoadBalancerArn"] == published_ref(rendered, "lib", "alb/rt/0/arn")


def test_custom_shift_needs_a_config_by_name(built):
    _, template = built
    template.has_resource_properties("AWS::CodeDeploy::DeploymentGroup", {
        "DeploymentConfigName": "lib-ECSCanary25Percent3Minutes"})


def test_a_domain_without_smoke_checks_is_refused():
    with pytest.raises(MissingGate, match="no smoke checks"):
        required_hooks(DomainSpec(name="x", alb_group="rt", port=1, test_port=2, image="r/x:1"),
                       {"AfterAllowTestTraffic": "arn:hook"})


@pytest.mark.parametrize("event, gate", [("AfterAllowTestTraffic", "smoke checks"),
                                         ("BeforeAllowTraffic", "approval")])
def test_a_missing_hook_function_is_an_error_naming_the_gate(event, gate):
    approving = DomainSpec(name="x", alb_group="rt", port=1, test_port=2, image="r/x:1", smoke_checks=(CHECK,),
                           approval=ApprovalSpec(required=True, channel="C0X",
                                                 approvers=ApproverSpec(user_ids=("U0X",))))
    available = {"AfterAllowTestTraffic": "arn:smoke", "BeforeAllowTraffic": "arn:approval"}
    del available[event]
    with pytest.raises(MissingGate, match=f"{event} \\({gate}\\)"):
        required_hooks(approving, available)
    stack = cdk.Stack(cdk.App(), "Gates", env=cdk.Environment(region="eu-west-1"))
    with pytest.raises(MissingGate, match="docs/library.md"):
        DomainService(stack, "X", spec=approving, platform=HANDLES, hook_function_arns=available)


def test_ingress_rule_ids_come_from_what_they_open_not_a_list_position(built):
    """Adding or removing a client range must not move another rule to a new logical id (CloudFormation creates
    the duplicate before deleting the old one, and the update fails)."""
    _, template = built
    ids = sorted(template.find_resources("AWS::EC2::SecurityGroupIngress"))
    assert [i for i in ids if "Ingress" in i and "ProdIngress1921680016" in i] != []
    assert [i for i in ids if "TestIngress" in i and "TestIngress172160016" in i] != []
