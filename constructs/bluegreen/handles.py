"""What a domain needs from the platform, as typed handles (no raw config)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from aws_cdk import aws_appconfig as appconfig
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53

from bluegreen.config.model import AlbGroupSpec


@dataclass(frozen=True)
class LoadBalancerHandle:
    """One load balancer of an ALB group (a group may hold several shards)."""

    group: AlbGroupSpec
    shard: int
    load_balancer: elbv2.IApplicationLoadBalancer
    security_group: ec2.ISecurityGroup


@dataclass(frozen=True)
class PlatformHandles:
    platform_name: str
    vpc: ec2.IVpc
    vpc_cidr: str
    client_cidrs: tuple[str, ...]
    cluster: ecs.ICluster
    zone: route53.IHostedZone
    zone_name: str
    logs_key: kms.IKey
    load_balancers: Mapping[tuple[str, int], LoadBalancerHandle]
    # CodeDeploy lifecycle event name -> hook function ARN (named CodeDeployHook_*).
    hook_function_arns: Mapping[str, str] = field(default_factory=dict)
    audit_table_name: str | None = None
    # Shared AppConfig deployment strategies keyed by rollout spec (AppConfig allows 20 per account/region).
    flag_strategies: Mapping[object, appconfig.IDeploymentStrategy] = field(default_factory=dict)

    @property
    def ssm_prefix(self) -> str:
        return f"/{self.platform_name}"

    def load_balancer(self, group: str, shard: int = 0) -> LoadBalancerHandle:
        try:
            return self.load_balancers[(group, shard)]
        except KeyError:
            raise KeyError(f"no load balancer for ALB group {group!r} shard {shard}") from None
