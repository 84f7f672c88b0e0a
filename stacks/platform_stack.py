"""PlatformStack: everything domains share."""
from __future__ import annotations

from aws_cdk import CfnOutput, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from bluegreen.alb_group import AlbGroup
from bluegreen.approval_gate import ApprovalGate
from bluegreen.audit_table import DeploymentAuditTable, TimelineTable
from bluegreen.deploy_api import DeployApi
from bluegreen.config.model import ApprovalSpec, PlatformConfig
from bluegreen.deployment_notifier import DeploymentNotifier
from bluegreen.feature_flags import flag_rollout_strategy
from bluegreen.handles import LoadBalancerHandle, PlatformHandles
from bluegreen.lambda_support import RuntimeLayer
from bluegreen.platform_foundation import PlatformFoundation
from bluegreen.smoke_test_hook import SmokeTestHook
from stacks.deployment_configs import SharedDeploymentConfigs


def approval_rules(config: PlatformConfig) -> dict[str, dict[str, object]]:
    """Per-domain approval rules that differ from the gate's defaults (kept small: the parameter is 4 KB)."""
    default = ApprovalSpec().rules_metadata()
    return {d.name: d.approval.rules_metadata() for d in config.domains if d.approval.rules_metadata() != default}


class PlatformStack(Stack):
    """VPC, cluster, ALB groups, hosted zone, shared deployment configs, approval gate, smoke-check hook,
    deployment timeline, audit table. Attribute `handles` is what every domain stack receives."""

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, **kwargs) -> None:
        self._zones = list(config.platform.zones)
        super().__init__(scope, id, description=f"{config.platform.name}: shared Blue/Green platform", **kwargs)
        platform = config.platform
        name = platform.name
        self.foundation = PlatformFoundation(self, "Foundation", platform_name=name,
                                             vpc_cidr=platform.vpc_cidr, hosted_zone=platform.hosted_zone,
                                             availability_zones=platform.zones)
        foundation = self.foundation
        load_balancers: dict[tuple[str, int], LoadBalancerHandle] = {}
        for group in config.alb_groups.values():
            shards = config.shards(group.name)
            if not shards:
                continue
            alb_group = AlbGroup(self, f"AlbGroup-{group.name}", platform_name=name, spec=group,
                                 vpc=foundation.vpc, access_log_bucket=foundation.access_log_bucket,
                                 shards=shards)
            for handle in alb_group.handles:
                load_balancers[(group.name, handle.shard)] = handle
        self.deployment_configs = SharedDeploymentConfigs(self, "DeploymentConfigs", platform_name=name,
                                                          shifts=[d.traffic for d in config.domains])

        self.audit = DeploymentAuditTable(self, "Audit", table_name=f"{name}-deployments", platform_name=name)
        lambdas_sg = ec2.SecurityGroup(self, "LambdaSecurityGroup", vpc=foundation.vpc, allow_all_outbound=True,
                                       description=f"{name} platform Lambdas: no inbound, outbound to AWS APIs, "
                                                   "Slack and the internal test listeners")
        layer = RuntimeLayer(self, "Runtime").layer
        shared = dict(platform_name=name, audit=self.audit, layer=layer, logs_key=foundation.logs_key,
                      vpc=foundation.vpc, security_group=lambdas_sg)
        self.approval_gate = ApprovalGate(self, "ApprovalGate", api_logging=platform.api_gateway_logging, **shared)
        self.smoke_tests = SmokeTestHook(self, "SmokeTests", **shared)
        self.deploy_api = DeployApi(self, "DeployApi", **shared)
        timeline = TimelineTable(self, "TimelineState", table_name=f"{name}-timeline")
        self.notifier = DeploymentNotifier(self, "Timeline", bot_token=self.approval_gate.secrets.bot_token,
                                           channel=platform.notification_channel, timeline=timeline,
                                           **{k: v for k, v in shared.items() if k != "audit"})

        self.platform_parameter = ssm.StringParameter(
            self, "PlatformParameter", parameter_name=f"/{name}/platform",
            description=f"{name}: platform-wide metadata for bgctl and the hooks (schemaVersion 1)",
            string_value=self.to_json_string({
                "schemaVersion": 1, "platform": name, "region": self.region,
                "domains": [d.name for d in config.domains], "auditTable": self.audit.table.table_name,
                "slackIdentityMap": dict(platform.slack_identity_map),
                "notificationChannel": platform.notification_channel, "deployApiUrl": self.deploy_api.url,
                "approvalRules": approval_rules(config),
                "githubDeployers": [g.repository for g in platform.github_deployers]}))
        CfnOutput(self, "AuditTableName", value=self.audit.table.table_name,
                  description="DynamoDB table with every approval, smoke result and timeline")

        # One strategy per distinct rollout shape, named by its content so adding one never renames another.
        self.flag_strategies = {}
        for rollout in sorted({config.flags_for(d.name).rollout for d in config.domains}, key=repr):
            shape = (f"{rollout.growth_type.value.lower()}-{rollout.growth_factor:g}pct-{rollout.duration_minutes}m-"
                     f"bake{rollout.final_bake_minutes}m").replace(".", "_")
            self.flag_strategies[rollout] = flag_rollout_strategy(
                self, f"FlagRollout-{shape}", name=f"{name}-flags-{shape}", rollout=rollout)

        self.handles = PlatformHandles(
            platform_name=name, vpc=foundation.vpc, vpc_cidr=platform.vpc_cidr,
            client_cidrs=platform.client_cidrs, cluster=foundation.cluster, zone=foundation.zone,
            zone_name=platform.hosted_zone.name, logs_key=foundation.logs_key, load_balancers=load_balancers,
            hook_function_arns={"AfterAllowTestTraffic": self.smoke_tests.function.function_arn,
                                "BeforeAllowTraffic": self.approval_gate.request_function.function_arn},
            audit_table_name=self.audit.table.table_name, flag_strategies=self.flag_strategies)

    @property
    def availability_zones(self) -> list[str]:
        """Never an `availability-zones` context lookup (no AWS calls at synth): the configured zones when the
        account is known, Fn::GetAZs otherwise."""
        if Token.is_unresolved(self.account):
            return super().availability_zones
        return self._zones
