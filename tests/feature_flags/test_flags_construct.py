"""FeatureFlags + the AppConfig agent sidecar in a bare stack, synthesized once for the module.

The stack's app also runs cdk-nag (AwsSolutions): synthesis fails on any unacknowledged finding.
CDK's built-in CloudFormation validation is off here (it costs ~5 s per process); cfn-lint below
checks the same template.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from bluegreen.feature_flags import (
    AGENT_CONTAINER_NAME,
    DEFAULT_AGENT_IMAGE,
    DomainFlagsSpec,
    FeatureFlags,
    FeatureFlagSpec,
    FlagRolloutSpec,
    FlagTargeting,
    GrowthType,
    add_appconfig_agent_sidecar,
    feature_flags_document,
)

SPEC = DomainFlagsSpec(
    flags=(
        FeatureFlagSpec(key="new_checkout", description="One-page checkout", attributes={"max_items": 50},
                        targeting=FlagTargeting(enabled_for_user_ids=("alice", "bob"))),
        FeatureFlagSpec(key="dark_mode", description="Dark theme", default_enabled=True),
    ),
    rollout=FlagRolloutSpec(growth_type=GrowthType.LINEAR, duration_minutes=20, growth_factor=25,
                            final_bake_minutes=15),
)
AGENT_PATH = "/applications/bluegreen-auth/environments/prod/configurations/feature-flags"
READ_ACTIONS = ["appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"]


@dataclass
class Synth:
    stack: cdk.Stack
    flags: FeatureFlags
    template: Template
    nag_error: Exception | None
    outdir: str

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = self.template.find_resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.items()))

    def containers(self) -> dict[str, dict[str, Any]]:
        _, task = self.only("AWS::ECS::TaskDefinition")
        return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}


@pytest.fixture(scope="module")
def synth() -> Synth:
    stack = cdk.Stack(cdk.App(builtin_cloud_formation_validation=False), "FlagsTest")
    alarms = [cloudwatch.Alarm(stack, f"RollbackAlarm{i}", metric=cloudwatch.Metric(namespace="Test", metric_name=f"m{i}"),
                               threshold=1, evaluation_periods=1) for i in range(2)]
    flags = FeatureFlags(stack, "FeatureFlags", application_name="bluegreen-auth", environment_name="prod",
                         spec=SPEC, rollback_alarms=alarms)
    task_definition = ecs.FargateTaskDefinition(stack, "TaskDefinition")
    app = task_definition.add_container("app", image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27"),
                                        logging=ecs.LogDrivers.aws_logs(stream_prefix="app"),
                                        port_mappings=[ecs.PortMapping(container_port=8080)])
    add_appconfig_agent_sidecar(task_definition=task_definition, app_container=app, flags=flags)
    app_scope = stack.node.scope
    Validations.of(app_scope).add_plugins(AwsSolutionsChecks(app_scope))
    nag_error: Exception | None = None
    try:
        template = Template.from_stack(stack)
    except Exception as error:  # noqa: BLE001 - reported by test_cdk_nag_has_no_unacknowledged_findings
        nag_error = error
        outdir = app_scope.outdir
        template = Template.from_json(json.load(open(os.path.join(outdir, f"{stack.artifact_id}.template.json"))))
    return Synth(stack=stack, flags=flags, template=template, nag_error=nag_error, outdir=app_scope.outdir)


def logical_ids(synth: Synth, resource_type: str) -> set[str]:
    return set(synth.template.find_resources(resource_type))


# ---------------------------------------------------------------------------------------------
# AppConfig resources
# ---------------------------------------------------------------------------------------------

def test_application_environment_and_feature_flag_profile(synth: Synth) -> None:
    template = synth.template
    template.resource_count_is("AWS::AppConfig::Application", 1)
    template.has_resource_properties("AWS::AppConfig::Application", {"Name": "bluegreen-auth"})
    app_id, _ = synth.only("AWS::AppConfig::Application")
    template.has_resource_properties("AWS::AppConfig::Environment", {"Name": "prod", "ApplicationId": {"Ref": app_id}})
    template.resource_count_is("AWS::AppConfig::ConfigurationProfile", 1)
    template.has_resource_properties("AWS::AppConfig::ConfigurationProfile", {
        "ApplicationId": {"Ref": app_id},
        "Name": "feature-flags",
        "Type": "AWS.AppConfig.FeatureFlags",
        "LocationUri": "hosted",
        "Validators": Match.absent(),  # AppConfig validates the FeatureFlags type itself
    })


def test_hosted_content_is_exactly_the_declared_flags(synth: Synth) -> None:
    _, version = synth.only("AWS::AppConfig::HostedConfigurationVersion")
    profile_id, _ = synth.only("AWS::AppConfig::ConfigurationProfile")
    assert version["Properties"]["ContentType"] == "application/json"
    assert version["Properties"]["ConfigurationProfileId"] == {"Ref": profile_id}
    assert json.loads(version["Properties"]["Content"]) == feature_flags_document(SPEC)
    assert synth.flags.document == feature_flags_document(SPEC)


def test_deployment_strategy_numbers_come_from_the_rollout_spec(synth: Synth) -> None:
    synth.template.has_resource_properties("AWS::AppConfig::DeploymentStrategy", {
        "GrowthType": "LINEAR",
        "GrowthFactor": 25,
        "DeploymentDurationInMinutes": 20,
        "FinalBakeTimeInMinutes": 15,
        "ReplicateTo": "NONE",
        "Name": "bluegreen-auth-prod-flags",
    })


def test_deployment_ties_version_profile_environment_and_strategy(synth: Synth) -> None:
    refs = {kind: synth.only(f"AWS::AppConfig::{kind}")[0]
            for kind in ("Application", "Environment", "ConfigurationProfile", "HostedConfigurationVersion",
                         "DeploymentStrategy")}
    synth.template.resource_count_is("AWS::AppConfig::Deployment", 1)
    synth.template.has_resource_properties("AWS::AppConfig::Deployment", {
        "ApplicationId": {"Ref": refs["Application"]},
        "EnvironmentId": {"Ref": refs["Environment"]},
        "ConfigurationProfileId": {"Ref": refs["ConfigurationProfile"]},
        "ConfigurationVersion": {"Ref": refs["HostedConfigurationVersion"]},
        "DeploymentStrategyId": {"Ref": refs["DeploymentStrategy"]},
    })


def test_monitors_watch_the_rollback_alarms_through_a_scoped_role(synth: Synth) -> None:
    alarm_ids = logical_ids(synth, "AWS::CloudWatch::Alarm")
    _, environment = synth.only("AWS::AppConfig::Environment")
    monitors = environment["Properties"]["Monitors"]
    assert {m["AlarmArn"]["Fn::GetAtt"][0] for m in monitors} == alarm_ids
    role_ids = {m["AlarmRoleArn"]["Fn::GetAtt"][0] for m in monitors}
    assert len(role_ids) == 1
    role_id = role_ids.pop()
    role = synth.template.to_json()["Resources"][role_id]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "appconfig.amazonaws.com"}}]
    assert "Policies" not in role["Properties"] and "ManagedPolicyArns" not in role["Properties"]
    policies = [p for p in synth.template.find_resources("AWS::IAM::ManagedPolicy").values()
                if {"Ref": role_id} in p["Properties"]["Roles"]]
    assert len(policies) == 1
    statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    assert len(statements) == 1 and statements[0]["Action"] == "cloudwatch:DescribeAlarms"
    assert {arn["Fn::GetAtt"][0] for arn in statements[0]["Resource"]} == alarm_ids
    assert environment["DependsOn"] == [next(iter(synth.template.find_resources("AWS::IAM::ManagedPolicy")))]


# ---------------------------------------------------------------------------------------------
# The agent sidecar and the app container
# ---------------------------------------------------------------------------------------------

def test_sidecar_container(synth: Synth) -> None:
    agent = synth.containers()[AGENT_CONTAINER_NAME]
    assert agent["Image"] == DEFAULT_AGENT_IMAGE
    assert re.fullmatch(r"public\.ecr\.aws/aws-appconfig/aws-appconfig-agent:\d+\.\d+\.\d+", agent["Image"])
    assert agent["Essential"] is False
    assert agent["RestartPolicy"] == {"Enabled": True, "RestartAttemptPeriod": 60}
    environment = {e["Name"]: e["Value"] for e in agent["Environment"]}
    assert environment["HTTP_PORT"] == "2772"
    assert environment["HTTP_HOST"] == "localhost"
    assert environment["SERVICE_REGION"] == {"Ref": "AWS::Region"}
    assert "PortMappings" not in agent  # reachable on the task's loopback only


def test_sidecar_has_no_unverified_health_probe(synth: Synth) -> None:
    """Whether the agent image ships curl/wget is not documented: no probe by default (pass one to opt in)."""
    assert "HealthCheck" not in synth.containers()[AGENT_CONTAINER_NAME]


def test_sidecar_logs_to_cloudwatch_without_blocking(synth: Synth) -> None:
    logging = synth.containers()[AGENT_CONTAINER_NAME]["LogConfiguration"]
    assert logging["LogDriver"] == "awslogs"
    assert logging["Options"]["awslogs-stream-prefix"] == AGENT_CONTAINER_NAME
    assert logging["Options"]["mode"] == "non-blocking"
    group_id = logging["Options"]["awslogs-group"]["Ref"]
    assert synth.template.to_json()["Resources"][group_id]["Properties"]["RetentionInDays"] == 30


def test_app_container_gets_the_agent_url_and_only_waits_for_the_agent_to_start(synth: Synth) -> None:
    app = synth.containers()["app"]
    environment = {e["Name"]: e["Value"] for e in app["Environment"]}
    assert environment == {
        "FEATURE_FLAGS_URL": f"http://localhost:2772{AGENT_PATH}",
        "FEATURE_FLAGS_APPLICATION": "bluegreen-auth",
        "FEATURE_FLAGS_ENVIRONMENT": "prod",
        "FEATURE_FLAGS_PROFILE": "feature-flags",
    }
    # START, never HEALTHY: an agent or AppConfig outage must not keep the app from starting and serving.
    assert app["DependsOn"] == [{"ContainerName": AGENT_CONTAINER_NAME, "Condition": "START"}]
    assert app["Essential"] is True
    assert synth.flags.agent_url == f"http://localhost:2772{AGENT_PATH}"
    assert synth.flags.agent_path == AGENT_PATH


def test_task_role_may_read_only_this_domains_configuration(synth: Synth) -> None:
    _, task = synth.only("AWS::ECS::TaskDefinition")
    task_role_id = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    statements = [statement
                  for policy in synth.template.find_resources("AWS::IAM::Policy").values()
                  if {"Ref": task_role_id} in policy["Properties"]["Roles"]
                  for statement in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert len(statements) == 1
    statement = statements[0]
    assert statement["Effect"] == "Allow" and statement["Action"] == READ_ACTIONS
    parts = statement["Resource"]["Fn::Join"][1]
    app_id, env_id, profile_id = (synth.only(f"AWS::AppConfig::{kind}")[0]
                                  for kind in ("Application", "Environment", "ConfigurationProfile"))
    assert parts[-6:] == [":application/", {"Ref": app_id}, "/environment/", {"Ref": env_id},
                          "/configuration/", {"Ref": profile_id}]
    assert ":appconfig:" in parts


# ---------------------------------------------------------------------------------------------
# Compliance
# ---------------------------------------------------------------------------------------------

def test_cdk_nag_has_no_unacknowledged_findings(synth: Synth) -> None:
    assert synth.nag_error is None, f"cdk-nag failed: {synth.nag_error}"
    raw = AwsSolutionsChecks().validate_scope(synth.stack)  # ignores acknowledgments: lists every finding
    assert sorted({violation.rule_name for violation in raw.violations}) == ["AwsSolutions-ECS2"]
    report_path = os.path.join(synth.outdir, "validation-report.json")
    if os.path.exists(report_path):
        report = json.load(open(report_path))
        for plugin in report.get("pluginReports", []):
            assert plugin["violations"] == []
            assert all(len(s["reason"]) >= 40 for s in plugin.get("suppressedViolations", []))


def test_cfn_lint_reports_no_errors(synth: Synth) -> None:
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(synth.template.to_json()), config=ManualArgs(regions=["eu-west-1"]))
    errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.severity == "error"]
    assert errors == []
