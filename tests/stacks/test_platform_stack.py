"""PlatformStack: VPC, cluster, ALB groups, zone, access logs."""
from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from tests.synth_support import resources_of_type


@pytest.fixture(scope="module")
def platform(default_app) -> Template:
    return Template.from_json(default_app.template("-Platform"))


def test_vpc_spans_two_azs_with_flow_logs(platform):
    platform.resource_count_is("AWS::EC2::VPC", 1)
    platform.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.40.0.0/16"})
    platform.resource_count_is("AWS::EC2::Subnet", 4)
    platform.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL",
                                                           "LogDestinationType": "cloud-watch-logs"})


def test_cluster_has_container_insights(platform):
    platform.has_resource_properties("AWS::ECS::Cluster", {
        "ClusterName": "bluegreen-cluster",
        "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]})


def test_one_internal_alb_per_group_with_hardening(platform):
    albs = resources_of_type(platform.to_json(), "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert len(albs) == 2
    for alb in albs.values():
        props = alb["Properties"]
        assert props["Scheme"] == "internal"
        attributes = {a["Key"]: a["Value"] for a in props["LoadBalancerAttributes"]}
        assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
        assert attributes["access_logs.s3.enabled"] == "true"
        assert attributes["deletion_protection.enabled"] == "true"
    timeouts = sorted(
        {a["Key"]: a["Value"] for a in alb["Properties"]["LoadBalancerAttributes"]}["idle_timeout.timeout_seconds"]
        for alb in albs.values())
    assert timeouts == ["1900", "60"]


def test_alb_security_groups_start_closed(platform):
    for sg in resources_of_type(platform.to_json(), "AWS::EC2::SecurityGroup").values():
        if "ALB group" in sg["Properties"]["GroupDescription"]:
            assert "SecurityGroupIngress" not in sg["Properties"]


def test_access_log_bucket_is_encrypted_and_ssl_only(platform):
    platform.has_resource_properties("AWS::S3::Bucket", {
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True}})
    platform.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})


def test_private_hosted_zone(platform):
    platform.has_resource_properties("AWS::Route53::HostedZone", {"Name": "bluegreen.internal.",
                                                                  "VPCs": Match.any_value()})


def test_log_groups_are_kms_encrypted(platform):
    for group in resources_of_type(platform.to_json(), "AWS::Logs::LogGroup").values():
        assert "KmsKeyId" in group["Properties"]


def test_custom_deployment_configs_are_shared_created_once_and_never_deleted(platform):
    """Only payment's linear 20 %/2 min needs a custom config (the others are CodeDeploy's predefined ones). It is
    a release-provider resource that creates the config if absent and never deletes it: a domain may still use it."""
    assert resources_of_type(platform.to_json(), "AWS::CodeDeploy::DeploymentConfig") == {}
    configs = resources_of_type(platform.to_json(), "Custom::SharedEcsDeploymentConfig")
    assert [{k: v for k, v in c["Properties"].items() if k != "ServiceToken"} for c in configs.values()] == [
        {"Name": "bluegreen-ECSLinear20PercentEvery2Minutes", "Style": "linear", "Percentage": "20",
         "IntervalMinutes": "2"}]


def test_flag_rollout_strategies_are_retained(platform):
    strategies = resources_of_type(platform.to_json(), "AWS::AppConfig::DeploymentStrategy")
    assert sorted(s["Properties"]["Name"] for s in strategies.values()) == [
        "bluegreen-flags-exponential-10pct-20m-bake15m", "bluegreen-flags-linear-20pct-10m-bake10m"]
    assert {s["DeletionPolicy"] for s in strategies.values()} == {"Retain"}


PUBLISHED = {"vpc-id", "vpc-cidr", "private-subnet-ids", "hosted-zone-id", "logs-key-arn",
             "hooks-security-group-id", "release-provider-service-token",
             "flag-strategy/linear-20pct-10m-bake10m", "flag-strategy/exponential-10pct-20m-bake15m",
             *[f"alb/{group}/0/{attribute}" for group in ("internal", "realtime")
               for attribute in ("arn", "security-group-id", "dns-name", "canonical-hosted-zone-id", "full-name")]}


def test_platform_publishes_what_domains_read_and_exports_nothing(platform, default_app):
    template = platform.to_json()
    names = {r["Properties"]["Name"] for r in resources_of_type(template, "AWS::SSM::Parameter").values()}
    published = {name.removeprefix("/bluegreen/published/") for name in names if name.startswith("/bluegreen/published/")}
    assert published == PUBLISHED
    assert not [o for o in template.get("Outputs", {}).values() if "Export" in o]
    # Every value a domain stack reads is one the platform publishes.
    for domain in ("auth", "order", "payment", "voice"):
        read = {p["Default"] for p in default_app.template(f"-Domain-{domain}").get("Parameters", {}).values()
                if str(p.get("Type", "")).startswith("AWS::SSM::Parameter::Value")
                and not p["Default"].startswith("/cdk-bootstrap/")}
        assert read <= {f"/bluegreen/published/{key}" for key in PUBLISHED}, domain


def test_release_provider_waits_at_most_the_hour_cloudformation_allows(platform):
    functions = {f["Properties"].get("FunctionName"): f["Properties"]
                 for f in resources_of_type(platform.to_json(), "AWS::Lambda::Function").values()}
    assert functions["bluegreen-release-provider"]["Handler"] == "provider.on_event"
    assert functions["bluegreen-release-provider-waiter"]["Handler"] == "provider.is_complete"
    (machine,) = resources_of_type(platform.to_json(), "AWS::StepFunctions::StateMachine").values()
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    # 30 s between polls, 120 attempts: one hour, CloudFormation's custom-resource maximum.
    assert '\\"IntervalSeconds\\":30' in definition and '\\"MaxAttempts\\":120' in definition
