"""Smaller constructs, each in a bare stack: rollback alarms, deployment trigger, audit table, shared configs."""
from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Capture, Match, Template

from bluegreen.audit_table import DeploymentAuditTable
from bluegreen.config.model import CustomAlarmSpec, RollbackAlarmsSpec
from bluegreen.deployment_trigger import DeploymentTrigger, appspec
from bluegreen.rollback_alarms import RollbackAlarms
from bluegreen.traffic import TrafficShift
from stacks.deployment_configs import SharedDeploymentConfigs

ALARMS = RollbackAlarmsSpec(error_rate_percent=2.5, p99_latency_ms=800, evaluation_periods=3,
                            custom=(CustomAlarmSpec(name="orders-failed", namespace="Shop", metric_name="Failed",
                                                    threshold=3),),
                            existing_alarm_names=("legacy-alarm",))


@pytest.fixture(scope="module")
def built():
    stack = cdk.Stack(cdk.App(), "Bare", env=cdk.Environment(region="eu-west-1"))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    blue, green = (elbv2.ApplicationTargetGroup(stack, name, vpc=vpc, port=8080, target_type=elbv2.TargetType.IP)
                   for name in ("Blue", "Green"))
    alarms = RollbackAlarms(stack, "Alarms", name_prefix="p-shop", spec=ALARMS, blue=blue, green=green,
                            load_balancer_full_name="app/p-internal/abc")
    task = ecs.FargateTaskDefinition(stack, "Task", family="p-shop")
    task.add_container("app", image=ecs.ContainerImage.from_registry("repo/shop:1"),
                       port_mappings=[ecs.PortMapping(container_port=8080)])
    DeploymentTrigger(stack, "Trigger", application_name="p-shop", deployment_group_name="p-shop",
                      deployment_config_name="CodeDeployDefault.ECSAllAtOnce", task_definition=task,
                      container_name="app", container_port=8080,
                      hooks={"BeforeAllowTraffic": "arn:aws:lambda:eu-west-1:1:function:CodeDeployHook_p_a"},
                      image="repo/shop:1")
    DeploymentAuditTable(stack, "Audit", table_name="p-deployments")
    configs = SharedDeploymentConfigs(stack, "Configs", platform_name="p", shifts=[
        TrafficShift.canary(25, 3), TrafficShift.canary(25, 3), TrafficShift.linear(10, 3), TrafficShift.all_at_once()])
    return alarms, configs, Template.from_stack(stack)


def test_alarm_count_thresholds_and_periods(built):
    alarms, _, template = built
    assert len(alarms.alarms) == 5
    template.resource_count_is("AWS::CloudWatch::Alarm", 4)  # the existing alarm is only referenced
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "p-shop-5xx-rate", "Threshold": 2.5, "EvaluationPeriods": 3, "DatapointsToAlarm": 3,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching"})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": "p-shop-p99-latency", "Threshold": 0.8})


def test_error_rate_uses_both_groups_and_guards_zero_traffic(built):
    _, _, template = built
    metrics = Capture()
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": "p-shop-5xx-rate", "Metrics": metrics})
    expression = next(m["Expression"] for m in metrics.as_array() if "Expression" in m)
    assert "bReq > 0" in expression and "gReq > 0" in expression and expression.startswith("MAX(")
    stats = [m["MetricStat"]["Metric"]["MetricName"] for m in metrics.as_array() if "MetricStat" in m]
    assert sorted(stats) == ["HTTPCode_Target_5XX_Count"] * 2 + ["RequestCount"] * 2


def test_trigger_reads_on_create_and_deploys_on_update(built):
    _, _, template = built
    (resource,) = template.find_resources("Custom::CodeDeployBlueGreenDeployment").values()
    create, update = resource["Properties"]["Create"], resource["Properties"]["Update"]
    assert json.loads(create)["action"] == "getDeploymentGroup"
    rendered = json.dumps(update)
    assert "createDeployment" in rendered and "CodeDeployHook_p_a" in rendered and "requester=cloudformation" in rendered


def test_appspec_shape():
    spec = appspec(task_definition_arn="arn:td:1", container_name="app", container_port=8080,
                   hooks={"BeforeAllowTraffic": "b", "AfterAllowTestTraffic": "a"})
    target = spec["Resources"][0]["TargetService"]
    assert target["Type"] == "AWS::ECS::Service"
    assert target["Properties"] == {"TaskDefinition": "arn:td:1",
                                    "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080}}
    assert spec["Hooks"] == [{"AfterAllowTestTraffic": "a"}, {"BeforeAllowTraffic": "b"}]


def test_audit_table_never_expires_items(built):
    _, _, template = built
    template.has_resource("AWS::DynamoDB::GlobalTable", {
        "DeletionPolicy": "Retain", "Properties": Match.object_like({"TimeToLiveSpecification": Match.absent()})})


def test_shared_configs_once_per_distinct_shape(built):
    _, configs, template = built
    assert sorted(configs.by_name) == ["p-ECSCanary25Percent3Minutes"]
    template.resource_count_is("AWS::CodeDeploy::DeploymentConfig", 1)
