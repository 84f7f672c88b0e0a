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
from bluegreen.deployment_trigger import DeploymentTrigger
from bluegreen.rollback_alarms import RollbackAlarms
from bluegreen.shared_deployment_configs import SharedDeploymentConfigs
from bluegreen.traffic import TrafficShift

TOKEN = "arn:aws:lambda:eu-west-1:111122223333:function:release-provider"
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
    DeploymentTrigger(stack, "Trigger", service_token=TOKEN, domain="shop", application_name="p-shop",
                      deployment_group_name="p-shop", cluster_name="p-cluster", service_name="p-shop",
                      task_definition=task, container_name="app", container_port=8080,
                      hooks={"BeforeAllowTraffic": "arn:aws:lambda:eu-west-1:1:function:CodeDeployHook_p_a"},
                      config_image="repo/shop:1", waiting_resources=3)
    DeploymentAuditTable(stack, "Audit", table_name="p-deployments")
    configs = SharedDeploymentConfigs(stack, "Configs", platform_name="p", service_token=TOKEN, shifts=[
        TrafficShift.canary(25, 3), TrafficShift.canary(25, 3), TrafficShift.linear(10, 3), TrafficShift.all_at_once()])
    return alarms, configs, Template.from_stack(stack)


def test_alarm_count_thresholds_and_periods(built):
    alarms, _, template = built
    assert len(alarms.alarms) == 6  # 4 built-in + 1 custom + 1 existing
    template.resource_count_is("AWS::CloudWatch::Alarm", 5)  # the existing alarm is only referenced
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "p-shop-5xx-rate", "Threshold": 2.5, "EvaluationPeriods": 3, "DatapointsToAlarm": 3,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching"})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": "p-shop-p99-latency", "Threshold": 0.8})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": "p-shop-elb-5xx-rate", "Threshold": 2.5})


def test_alarm_limit_counts_existing_alarms():
    """3 custom + 3 existing + 4 built-in = 10 is the limit; one more existing alarm is refused."""
    stack = cdk.Stack(cdk.App(), "Limit")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    blue, green = (elbv2.ApplicationTargetGroup(stack, name, vpc=vpc, port=80, target_type=elbv2.TargetType.IP)
                   for name in ("B", "G"))
    custom = tuple(CustomAlarmSpec(name=f"c{i}", namespace="N", metric_name="M", threshold=1) for i in range(3))
    RollbackAlarms(stack, "Ok", name_prefix="ok", blue=blue, green=green, load_balancer_full_name="app/x/y",
                   spec=RollbackAlarmsSpec(custom=custom, existing_alarm_names=("e1", "e2", "e3")))
    with pytest.raises(ValueError, match="11 alarms exceed CodeDeploy's 10"):
        RollbackAlarms(stack, "TooMany", name_prefix="no", blue=blue, green=green, load_balancer_full_name="app/x/y",
                       spec=RollbackAlarmsSpec(custom=custom, existing_alarm_names=("e1", "e2", "e3", "e4")))


def test_error_rate_uses_both_groups_and_guards_zero_traffic(built):
    _, _, template = built
    metrics = Capture()
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": "p-shop-5xx-rate", "Metrics": metrics})
    expression = next(m["Expression"] for m in metrics.as_array() if "Expression" in m)
    assert expression == ("MAX([IF(bReq > 0, 100 * FILL(b5xx, 0) / bReq, 0), "
                          "IF(gReq > 0, 100 * FILL(g5xx, 0) / gReq, 0)])")
    stats = [m["MetricStat"]["Metric"]["MetricName"] for m in metrics.as_array() if "MetricStat" in m]
    assert sorted(stats) == ["HTTPCode_Target_5XX_Count"] * 2 + ["RequestCount"] * 2


def test_trigger_chain_waits_in_one_hour_steps(built):
    _, _, template = built
    (trigger_id, trigger), = template.find_resources("Custom::CodeDeployBlueGreenDeployment").items()
    props = trigger["Properties"]
    assert props["ServiceToken"] == TOKEN and props["ServiceTimeout"] == "3600"
    assert props["Hooks"] == {"BeforeAllowTraffic": "arn:aws:lambda:eu-west-1:1:function:CodeDeployHook_p_a"}
    assert (props["WaitBudgetMinutes"], props["Last"]) == ("50", "false")
    waiters = template.find_resources("Custom::CodeDeployDeploymentWaiter")
    assert len(waiters) == 2
    first, second = sorted(waiters.items())
    assert first[1]["Properties"]["Last"] == "false" and second[1]["Properties"]["Last"] == "true"
    assert trigger_id in first[1]["DependsOn"] and first[0] in second[1]["DependsOn"]


def test_trigger_refuses_an_empty_chain():
    stack = cdk.Stack(cdk.App(), "Empty")
    task = ecs.FargateTaskDefinition(stack, "Task", family="p-x")
    task.add_container("app", image=ecs.ContainerImage.from_registry("repo/x:1"))
    with pytest.raises(ValueError, match="at least 1"):
        DeploymentTrigger(stack, "T", service_token=TOKEN, domain="x", application_name="p-x",
                          deployment_group_name="p-x", cluster_name="p-cluster", service_name="p-x",
                          task_definition=task, container_name="app", container_port=80, hooks={},
                          config_image="repo/x:1", waiting_resources=0)


def test_audit_table_never_expires_items(built):
    _, _, template = built
    template.has_resource("AWS::DynamoDB::GlobalTable", {
        "DeletionPolicy": "Retain", "Properties": Match.object_like({"TimeToLiveSpecification": Match.absent()})})


def test_shared_configs_once_per_distinct_shape_and_never_deleted(built):
    _, configs, template = built
    assert sorted(configs.by_name) == ["p-ECSCanary25Percent3Minutes"]  # linear 10/3 is predefined
    template.resource_count_is("AWS::CodeDeploy::DeploymentConfig", 0)
    (config,) = template.find_resources("Custom::SharedEcsDeploymentConfig").values()
    assert config["Properties"] == {"ServiceToken": TOKEN, "Name": "p-ECSCanary25Percent3Minutes", "Style": "canary",
                                    "Percentage": "25", "IntervalMinutes": "3"}
