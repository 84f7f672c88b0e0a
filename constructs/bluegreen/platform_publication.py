"""Publish the platform's deployed values as SSM parameters (see `bluegreen.published`).

Domain stacks read them at deploy time; nothing here is a CloudFormation export, so the platform stack can
always change or add values without being blocked by a domain that imports one.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from aws_cdk import aws_appconfig as appconfig
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from bluegreen import published
from bluegreen.alb_group import AlbShard


class PlatformPublication(Construct):
    """One SSM parameter per published value. Attribute `parameters`: key -> parameter."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str, vpc: ec2.IVpc, vpc_cidr: str,
                 zone: route53.IHostedZone, logs_key: kms.IKey, hooks_security_group: ec2.ISecurityGroup,
                 release_service_token: str, load_balancers: Sequence[AlbShard],
                 flag_strategies: Mapping[str, appconfig.IDeploymentStrategy]) -> None:
        super().__init__(scope, id)
        self.platform_name = platform_name
        self.parameters: dict[str, ssm.StringParameter | ssm.StringListParameter] = {}
        private = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        if len(private.subnet_ids) != published.PLATFORM_ZONE_COUNT:
            raise ValueError(f"the platform VPC must have {published.PLATFORM_ZONE_COUNT} private subnets, "
                             f"got {len(private.subnet_ids)}")
        self._string(published.VPC_ID, vpc.vpc_id, "VPC of the platform")
        self._string(published.VPC_CIDR, vpc_cidr, "VPC CIDR")
        self._list(published.PRIVATE_SUBNET_IDS, private.subnet_ids, "private subnets where tasks run")
        self._string(published.HOSTED_ZONE_ID, zone.hosted_zone_id, "hosted zone of the domain endpoints")
        self._string(published.LOGS_KEY_ARN, logs_key.key_arn, "KMS key that encrypts log groups")
        self._string(published.HOOKS_SECURITY_GROUP_ID, hooks_security_group.security_group_id,
                     "security group of the platform Lambdas (the only source allowed on test listeners)")
        self._string(published.RELEASE_PROVIDER_SERVICE_TOKEN, release_service_token,
                     "custom-resource provider that releases config changes through CodeDeploy")
        for group in sorted({shard.group.name: shard.group for shard in load_balancers}.values(),
                            key=lambda g: g.name):
            if group.certificate_arn:
                self._string(published.certificate_key(group.name), group.certificate_arn,
                             f"ALB group {group.name}: default listener certificate")
        for shard in load_balancers:
            keys = published.LoadBalancerKeys(group=shard.group.name, shard=shard.shard)
            alb = shard.load_balancer
            what = f"ALB group {shard.group.name} shard {shard.shard}"
            self._string(keys.arn, alb.load_balancer_arn, f"{what}: load balancer ARN")
            self._string(keys.security_group_id, shard.security_group.security_group_id, f"{what}: security group")
            self._string(keys.dns_name, alb.load_balancer_dns_name, f"{what}: DNS name")
            self._string(keys.canonical_hosted_zone_id, alb.load_balancer_canonical_hosted_zone_id,
                         f"{what}: canonical hosted zone (Route 53 alias target)")
            self._string(keys.full_name, alb.load_balancer_full_name, f"{what}: full name (CloudWatch dimension)")
        for shape, strategy in sorted(flag_strategies.items()):
            self._string(published.flag_strategy_key(shape), strategy.deployment_strategy_id,
                         f"AppConfig deployment strategy for flag rollouts shaped {shape}")

    def _name(self, key: str) -> str:
        return published.published_parameter_name(self.platform_name, key)

    def _string(self, key: str, value: str, description: str) -> None:
        self.parameters[key] = ssm.StringParameter(
            self, key.replace("/", "-"), parameter_name=self._name(key), string_value=value,
            description=f"{self.platform_name}: {description}"[:1024])

    def _list(self, key: str, values: Sequence[str], description: str) -> None:
        self.parameters[key] = ssm.StringListParameter(
            self, key.replace("/", "-"), parameter_name=self._name(key), string_list_value=list(values),
            description=f"{self.platform_name}: {description}"[:1024])
