"""Shared network and runtime: VPC with flow logs, ECS cluster, hosted zone, log encryption, access-log bucket."""
from __future__ import annotations

from typing import Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge, acknowledge_inline_policy
from bluegreen.config.model import HostedZoneSpec


class PlatformFoundation(Construct):
    """VPC (2 AZs, flow logs), Container Insights cluster, private zone, KMS key for logs, ALB log bucket.

    Attributes: `vpc`, `cluster`, `zone`, `logs_key`, `access_log_bucket`.
    """

    def __init__(self, scope: Construct, id: str, *, platform_name: str, vpc_cidr: str,
                 hosted_zone: HostedZoneSpec, availability_zones: Sequence[str] | None = None,
                 log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR) -> None:
        super().__init__(scope, id)
        region = Stack.of(self).region

        self.logs_key = kms.Key(
            self, "LogsKey", alias=f"alias/{platform_name}/logs", enable_key_rotation=True,
            description=f"{platform_name}: encrypts CloudWatch log groups of the platform",
            removal_policy=RemovalPolicy.RETAIN)
        self.logs_key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                    f"arn:{Stack.of(self).partition}:logs:{region}:{Stack.of(self).account}:*"}},
        ))

        # With a concrete account, max_azs would make `cdk synth` look the zones up in AWS: name them instead.
        # Without one, Fn::GetAZs keeps the template portable and needs no lookup either.
        account_known = not Token.is_unresolved(Stack.of(self).account)
        zones = list(availability_zones) if availability_zones and account_known else None
        self.vpc = ec2.Vpc(
            self, "Vpc", ip_addresses=ec2.IpAddresses.cidr(vpc_cidr), nat_gateways=2,
            **({"availability_zones": zones} if zones else {"max_azs": 2}),
            subnet_configuration=[
                # Public subnets hold only the NAT gateways (and internet-facing ALB groups if configured).
                ec2.SubnetConfiguration(name="ingress", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24,
                                        map_public_ip_on_launch=False),
                ec2.SubnetConfiguration(name="services", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
            ],
        )
        if zones:
            Validations.of(self.vpc).acknowledge(Acknowledgment(
                id="CloudFormation Validate::W3010",
                reason="Zones are named on purpose: with a concrete account CDK would otherwise look them up in AWS "
                       "during synth, which CI without credentials cannot do."))
        acknowledge(self.vpc, Ack(
            "HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
            "Only the public NAT subnets route 0.0.0.0/0 to the internet gateway; tasks and internal ALBs sit in "
            "private subnets. Production without internet egress would replace NAT with VPC interface endpoints."))
        flow_log_group = logs.LogGroup(self, "FlowLogs", retention=log_retention, encryption_key=self.logs_key,
                                       removal_policy=RemovalPolicy.RETAIN)
        self.vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
                              traffic_type=ec2.FlowLogTrafficType.ALL)
        acknowledge_inline_policy(self.vpc)
        self._retain_default_sg_provider_logs(log_retention)

        self.access_log_bucket = s3.Bucket(
            self, "AlbAccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365),
                                              noncurrent_version_expiration=Duration.days(30))],
        )
        acknowledge(self.access_log_bucket, Ack(
            "AwsSolutions-S1",
            "This bucket is the access-log destination itself; logging it to another bucket would recurse. "
            "Production: enable CloudTrail S3 data events on it if object-level audit is required."))
        # ALB access logs only support SSE-S3, and replication/lock would be organisation policy, not platform code.
        acknowledge(self.access_log_bucket,
                    Ack("HIPAA.Security-S3DefaultEncryptionKMS",
                        "ELB access logging only supports SSE-S3 (AES256) destination buckets, not SSE-KMS."),
                    Ack("HIPAA.Security-S3BucketReplicationEnabled",
                        "Access logs are operational data kept 365 days in-region; cross-region replication is an "
                        "organisation-level decision (configure with S3 replication rules in the log-archive account)."),
                    Ack("HIPAA.Security-S3BucketLoggingEnabled",
                        "This bucket is the access-log destination itself; logging it would recurse."))

        self.cluster = ecs.Cluster(self, "Cluster", vpc=self.vpc, cluster_name=f"{platform_name}-cluster",
                                   container_insights_v2=ecs.ContainerInsights.ENABLED)

        if hosted_zone.existing_zone_id:
            self.zone: route53.IHostedZone = route53.HostedZone.from_hosted_zone_attributes(
                self, "Zone", hosted_zone_id=hosted_zone.existing_zone_id, zone_name=hosted_zone.name)
        else:
            self.zone = route53.PrivateHostedZone(self, "Zone", zone_name=hosted_zone.name, vpc=self.vpc,
                                                  comment=f"{platform_name}: domain service endpoints")

    def _retain_default_sg_provider_logs(self, retention: logs.RetentionDays) -> None:
        """CDK's provider that empties the VPC's default security group (`restrictDefaultSecurityGroup`) is a
        raw CloudFormation Lambda without a log group, so its logs would never expire: give it one."""
        stack = Stack.of(self)
        provider = stack.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        handler = provider.node.try_find_child("Handler") if provider is not None else None
        if handler is None:
            return
        log_group = logs.LogGroup(self, "DefaultSecurityGroupProviderLogs", retention=retention,
                                  encryption_key=self.logs_key, removal_policy=RemovalPolicy.DESTROY)
        handler.add_property_override("LoggingConfig", {"LogGroup": log_group.log_group_name})
