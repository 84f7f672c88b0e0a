"""PlatformStack: VPC, cluster, ALB groups, zone, access logs."""
from __future__ import annotations

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


def test_custom_deployment_configs_are_shared_and_only_where_needed(platform):
    configs = resources_of_type(platform.to_json(), "AWS::CodeDeploy::DeploymentConfig")
    assert [c["Properties"]["DeploymentConfigName"] for c in configs.values()] == [
        "bluegreen-ECSLinear20PercentEvery2Minutes"]
    (config,) = configs.values()
    assert config["Properties"]["ComputePlatform"] == "ECS"
    assert config["Properties"]["TrafficRoutingConfig"] == {
        "Type": "TimeBasedLinear", "TimeBasedLinear": {"LinearInterval": 2, "LinearPercentage": 20}}
