"""The values a platform publishes for its domains, and where (SSM parameter names).

A domain stack never holds a CloudFormation reference to the platform stack (no `Fn::ImportValue`, no
`Fn::GetStackOutput`): it reads these parameters at deploy time through CloudFormation parameters of type
`AWS::SSM::Parameter::Value<...>`. So the platform can add or change shared values without being blocked by an
import, a changed value reaches a domain on its next deploy, and a domain built in another team's app reads
exactly what the platform's own domains read.

Names that follow a convention (cluster `P-cluster`, hook functions `CodeDeployHook_P_*`, audit table
`P-deployments`, deployment configs by shape) are derived, not published.
"""
from __future__ import annotations

from dataclasses import dataclass

PUBLISHED_PREFIX = "published"


def published_parameter_name(platform_name: str, key: str) -> str:
    """`/P/published/<key>`: one SSM String (or StringList) parameter per value."""
    return f"/{platform_name}/{PUBLISHED_PREFIX}/{key}"


# Keys of single values.
VPC_ID = "vpc-id"
VPC_CIDR = "vpc-cidr"
PRIVATE_SUBNET_IDS = "private-subnet-ids"  # StringList, one per zone
HOSTED_ZONE_ID = "hosted-zone-id"
LOGS_KEY_ARN = "logs-key-arn"
HOOKS_SECURITY_GROUP_ID = "hooks-security-group-id"  # the platform Lambdas' SG (smoke checks reach test ports)
RELEASE_PROVIDER_SERVICE_TOKEN = "release-provider-service-token"
PLATFORM_ZONE_COUNT = 2


@dataclass(frozen=True)
class LoadBalancerKeys:
    """Keys of one load balancer of an ALB group (`shard` 0, 1, ...)."""

    group: str
    shard: int

    def key(self, attribute: str) -> str:
        return f"alb/{self.group}/{self.shard}/{attribute}"

    @property
    def arn(self) -> str:
        return self.key("arn")

    @property
    def security_group_id(self) -> str:
        return self.key("security-group-id")

    @property
    def dns_name(self) -> str:
        return self.key("dns-name")

    @property
    def canonical_hosted_zone_id(self) -> str:
        return self.key("canonical-hosted-zone-id")

    @property
    def full_name(self) -> str:
        return self.key("full-name")


def certificate_key(group: str) -> str:
    """The default listener certificate of an HTTPS ALB group."""
    return f"alb/{group}/certificate-arn"


def flag_strategy_key(shape: str) -> str:
    """The AppConfig deployment strategy id shared by every domain with this rollout shape."""
    return f"flag-strategy/{shape}"


def cluster_name(platform_name: str) -> str:
    return f"{platform_name}-cluster"


def audit_table_name(platform_name: str) -> str:
    return f"{platform_name}-deployments"
