"""PlatformStack: everything domains share."""
from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from bluegreen.alb_group import AlbGroup
from bluegreen.config.model import PlatformConfig
from bluegreen.handles import LoadBalancerHandle, PlatformHandles
from bluegreen.platform_foundation import PlatformFoundation
from stacks.deployment_configs import SharedDeploymentConfigs


class PlatformStack(Stack):
    """VPC, cluster, ALB groups, hosted zone, shared deployment configs. Attribute `handles`."""

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, **kwargs) -> None:
        super().__init__(scope, id, description=f"{config.platform.name}: shared Blue/Green platform", **kwargs)
        platform = config.platform
        self.foundation = PlatformFoundation(self, "Foundation", platform_name=platform.name,
                                             vpc_cidr=platform.vpc_cidr, hosted_zone=platform.hosted_zone)
        load_balancers: dict[tuple[str, int], LoadBalancerHandle] = {}
        for group in config.alb_groups.values():
            if not any(d.alb_group == group.name for d in config.domains):
                continue
            alb_group = AlbGroup(self, f"AlbGroup-{group.name}", platform_name=platform.name, spec=group,
                                 vpc=self.foundation.vpc, access_log_bucket=self.foundation.access_log_bucket)
            for handle in alb_group.handles:
                load_balancers[(group.name, handle.shard)] = handle
        self.deployment_configs = SharedDeploymentConfigs(self, "DeploymentConfigs", platform_name=platform.name,
                                                          shifts=[d.traffic for d in config.domains])
        self.handles = PlatformHandles(
            platform_name=platform.name, vpc=self.foundation.vpc, vpc_cidr=platform.vpc_cidr,
            client_cidrs=platform.client_cidrs, cluster=self.foundation.cluster, zone=self.foundation.zone,
            zone_name=platform.hosted_zone.name, logs_key=self.foundation.logs_key, load_balancers=load_balancers)
