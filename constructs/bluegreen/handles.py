"""What a domain needs from its platform: names and settings at synth time, deployed values at deploy time.

`PlatformHandles` is plain data (platform name, hosted-zone name, ALB group settings, client ranges). A domain
binds it to its own stack with `PlatformImports`, which reads every deployed value (VPC, subnets, load
balancers, keys, the release provider) from the SSM parameters the platform publishes (`bluegreen.published`),
resolved by CloudFormation at deploy time. No AWS call at synth, no cross-stack reference.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from aws_cdk import Acknowledgment, Arn, ArnComponents, ArnFormat, Fn, Stack, Validations
from aws_cdk import aws_appconfig as appconfig
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from bluegreen import published
from bluegreen.approval_gate import hook_function_name
from bluegreen.config.model import AlbGroupSpec, ListenerProtocol, PlatformConfig

# CodeDeploy lifecycle events the platform's hook functions answer, and the functions' purpose suffixes.
HOOK_PURPOSES = {"AfterAllowTestTraffic": "smoke-tests", "BeforeAllowTraffic": "approval-request"}


@dataclass(frozen=True)
class LoadBalancerHandle:
    """One load balancer of an ALB group (a group may hold several shards), as imported into a domain stack."""

    group: AlbGroupSpec
    shard: int
    load_balancer: elbv2.IApplicationLoadBalancer
    security_group: ec2.ISecurityGroup
    full_name: str


@dataclass(frozen=True)
class PlatformHandles:
    """A platform as its domains see it at synth time. Build it from the platform's config
    (`PlatformHandles.from_config`) or, in another team's app, from the platform's name and settings."""

    platform_name: str
    zone_name: str
    alb_groups: Mapping[str, AlbGroupSpec]
    client_cidrs: tuple[str, ...] = ()
    test_client_cidrs: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: PlatformConfig) -> "PlatformHandles":
        """The handles of the platform this config describes (the platform's own app)."""
        platform = config.platform
        return cls(platform_name=platform.name, zone_name=platform.hosted_zone.name,
                   alb_groups=dict(config.alb_groups), client_cidrs=tuple(platform.client_cidrs),
                   test_client_cidrs=tuple(platform.test_client_cidrs))

    @classmethod
    def attach(cls, platform_name: str, *, alb_groups: Sequence[AlbGroupSpec] | None = None,
               zone_name: str | None = None, client_cidrs: Sequence[str] = (),
               test_client_cidrs: Sequence[str] = ()) -> "PlatformHandles":
        """The handles of a platform another app deployed, by its name (docs/library.md, "Attach to a platform").

        Nothing is looked up at synth: every deployed value is read from the platform's SSM parameters when
        CloudFormation deploys the domain stack (in the stack's account and region). Defaults match the
        platform's own defaults: one HTTP ALB group `internal`, hosted zone `<platform>.internal`. For an HTTPS
        group the listener certificate is the platform's (read from SSM) unless `certificate_arn` is given.
        """
        from bluegreen.config.loader import NAME_RE, NAME_RULE

        if not isinstance(platform_name, str) or not NAME_RE.match(platform_name):
            raise ValueError(f"platform_name {platform_name!r} is not a platform name ({NAME_RULE})")
        groups = list(alb_groups) if alb_groups is not None else [AlbGroupSpec(name="internal")]
        if not groups or len({g.name for g in groups}) != len(groups):
            raise ValueError("alb_groups must name each ALB group of the platform once")
        return cls(platform_name=platform_name, zone_name=zone_name or f"{platform_name}.internal",
                   alb_groups={g.name: g for g in groups}, client_cidrs=tuple(client_cidrs),
                   test_client_cidrs=tuple(test_client_cidrs))

    @property
    def ssm_prefix(self) -> str:
        return f"/{self.platform_name}"

    @property
    def audit_table_name(self) -> str:
        return published.audit_table_name(self.platform_name)

    def alb_group(self, name: str) -> AlbGroupSpec:
        try:
            return self.alb_groups[name]
        except KeyError:
            raise KeyError(f"platform {self.platform_name!r} has no ALB group {name!r} "
                           f"(known: {', '.join(sorted(self.alb_groups)) or 'none'})") from None


class PlatformImports(Construct):
    """The platform's deployed values inside one domain stack, read from SSM at deploy time.

    Attributes: `vpc`, `cluster`, `zone`, `logs_key`, `hooks_security_group_id`, `release_service_token`,
    `hook_function_arns`; `load_balancer(group, shard)` and `flag_strategy(shape)` import on first use.
    """

    def __init__(self, scope: Construct, id: str, *, handles: PlatformHandles) -> None:
        super().__init__(scope, id)
        self.handles = handles
        self._load_balancers: dict[tuple[str, int], LoadBalancerHandle] = {}
        self._strategies: dict[str, appconfig.IDeploymentStrategy] = {}
        stack = Stack.of(self)
        subnets = self._list(published.PRIVATE_SUBNET_IDS)
        count = published.PLATFORM_ZONE_COUNT
        # Domain resources pick the private subnets by id; the zone names of imported subnets are never rendered,
        # so they are labels here rather than one more deploy-time parameter.
        self.vpc = ec2.Vpc.from_vpc_attributes(
            self, "Vpc", vpc_id=self.value(published.VPC_ID), vpc_cidr_block=self.value(published.VPC_CIDR),
            availability_zones=[f"{handles.platform_name}-zone-{i + 1}" for i in range(count)],
            private_subnet_ids=[Fn.select(i, subnets) for i in range(count)])
        Validations.of(self.vpc).acknowledge(Acknowledgment(
            id="Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId",
            reason="Domain stacks only place tasks in the platform's private subnets; nothing here reads or "
                   "changes their route tables, which the platform stack owns."))
        self.cluster = ecs.Cluster.from_cluster_attributes(
            self, "Cluster", cluster_name=published.cluster_name(handles.platform_name), vpc=self.vpc,
            security_groups=[])
        self.zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=self.value(published.HOSTED_ZONE_ID), zone_name=handles.zone_name)
        self.logs_key = kms.Key.from_key_arn(self, "LogsKey", self.value(published.LOGS_KEY_ARN))
        self.hooks_security_group_id = self.value(published.HOOKS_SECURITY_GROUP_ID)
        self.release_service_token = self.value(published.RELEASE_PROVIDER_SERVICE_TOKEN)
        # Hook functions are found by name (CodeDeployHook_<platform>_<purpose>), never by reference.
        self.hook_function_arns = {
            event: Arn.format(ArnComponents(service="lambda", resource="function", arn_format=ArnFormat.COLON_RESOURCE_NAME,
                                            resource_name=hook_function_name(handles.platform_name, purpose)), stack)
            for event, purpose in HOOK_PURPOSES.items()}

    def value(self, key: str) -> str:
        """A published String value (one CloudFormation parameter per name and stack)."""
        return ssm.StringParameter.value_for_string_parameter(
            self, published.published_parameter_name(self.handles.platform_name, key))

    def _list(self, key: str) -> list[str]:
        return ssm.StringListParameter.value_for_typed_list_parameter(
            self, published.published_parameter_name(self.handles.platform_name, key))

    def load_balancer(self, group: str, shard: int = 0) -> LoadBalancerHandle:
        if (group, shard) not in self._load_balancers:
            spec = self.handles.alb_group(group)
            keys = published.LoadBalancerKeys(group=group, shard=shard)
            suffix = f"{group}{shard}"
            security_group = ec2.SecurityGroup.from_security_group_id(
                self, f"AlbSecurityGroup{suffix}", self.value(keys.security_group_id), allow_all_outbound=False,
                mutable=True)
            load_balancer = elbv2.ApplicationLoadBalancer.from_application_load_balancer_attributes(
                self, f"LoadBalancer{suffix}", load_balancer_arn=self.value(keys.arn),
                security_group_id=security_group.security_group_id,
                load_balancer_dns_name=self.value(keys.dns_name),
                load_balancer_canonical_hosted_zone_id=self.value(keys.canonical_hosted_zone_id), vpc=self.vpc)
            self._load_balancers[(group, shard)] = LoadBalancerHandle(
                group=spec, shard=shard, load_balancer=load_balancer, security_group=security_group,
                full_name=self.value(keys.full_name))
        return self._load_balancers[(group, shard)]

    def certificate_arn(self, group: str) -> str | None:
        """The default certificate of an HTTPS group: from the handles, else the one the platform publishes."""
        spec = self.handles.alb_group(group)
        if spec.protocol is not ListenerProtocol.HTTPS:
            return None
        return spec.certificate_arn or self.value(published.certificate_key(group))

    def flag_strategy(self, shape: str) -> appconfig.IDeploymentStrategy:
        if shape not in self._strategies:
            self._strategies[shape] = appconfig.DeploymentStrategy.from_deployment_strategy_id(
                self, f"FlagStrategy-{shape}",
                appconfig.DeploymentStrategyId.from_string(self.value(published.flag_strategy_key(shape))))
        return self._strategies[shape]

