"""BlueGreenPlatform: everything the domains of one platform share, built from a validated `PlatformConfig`.

VPC, cluster, ALB groups (sharded), hosted zone, access-log bucket and log key; the approval gate, the
smoke-check hook, the deployment timeline and the audit table; the release provider and the shared deployment
configs and flag-rollout strategies. Everything domains need is published to SSM (`PlatformPublication`), so
domain stacks (in this app or another team's) never reference this stack.
"""
from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_appconfig as appconfig
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from bluegreen.alb_group import AlbGroup, AlbShard
from bluegreen.approval_gate import ApprovalGate
from bluegreen.audit_table import DeploymentAuditTable, TimelineTable
from bluegreen.config.model import ApprovalSpec, PlatformConfig
from bluegreen.deploy_api import DeployApi
from bluegreen.deployment_notifier import DeploymentNotifier
from bluegreen.feature_flags import flag_rollout_strategy
from bluegreen.lambda_support import RuntimeLayer
from bluegreen.platform_foundation import PlatformFoundation
from bluegreen.platform_publication import PlatformPublication
from bluegreen.published import audit_table_name
from bluegreen.release_provider import ReleaseProvider
from bluegreen.shared_deployment_configs import SharedDeploymentConfigs
from bluegreen.smoke_test_hook import SmokeTestHook

PLATFORM_SCHEMA_VERSION = 1


def platform_parameter_name(platform_name: str) -> str:
    return f"/{platform_name}/platform"


def approval_rules(config: PlatformConfig) -> dict[str, dict[str, object]]:
    """Per-domain approval rules that differ from the gate's defaults (kept small: the parameter is 4 KB)."""
    default = ApprovalSpec().rules_metadata()
    return {d.name: d.approval.rules_metadata() for d in config.domains if d.approval.rules_metadata() != default}


class BlueGreenPlatform(Construct):
    """Attributes: `foundation`, `alb_groups`, `load_balancers` (AlbShard list), `audit`, `lambdas_security_group`,
    `approval_gate`, `smoke_tests`, `deploy_api`, `notifier`, `release_provider`, `deployment_configs`, `flag_strategies`
    (shape -> strategy), `publication`, `platform_parameter`."""

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig) -> None:
        super().__init__(scope, id)
        platform = config.platform
        name = platform.name
        self.foundation = PlatformFoundation(self, "Foundation", platform_name=name, vpc_cidr=platform.vpc_cidr,
                                             hosted_zone=platform.hosted_zone, availability_zones=platform.zones)
        foundation = self.foundation
        self.alb_groups: dict[str, AlbGroup] = {}
        self.load_balancers: list[AlbShard] = []
        for group in config.alb_groups.values():
            shards = config.shards(group.name)
            if not shards:
                continue
            alb_group = AlbGroup(self, f"AlbGroup-{group.name}", platform_name=name, spec=group, vpc=foundation.vpc,
                                 access_log_bucket=foundation.access_log_bucket, shards=shards)
            self.alb_groups[group.name] = alb_group
            self.load_balancers.extend(alb_group.shards)

        self.audit = DeploymentAuditTable(self, "Audit", table_name=audit_table_name(name), platform_name=name)
        self.lambdas_security_group = ec2.SecurityGroup(
            self, "LambdaSecurityGroup", vpc=foundation.vpc, allow_all_outbound=True,
            description=f"{name} platform Lambdas: no inbound, outbound to AWS APIs, Slack and the internal "
                        "test listeners")
        layer = RuntimeLayer(self, "Runtime").layer
        shared = dict(platform_name=name, audit=self.audit, layer=layer, logs_key=foundation.logs_key,
                      vpc=foundation.vpc, security_group=self.lambdas_security_group)
        self.approval_gate = ApprovalGate(self, "ApprovalGate", api_logging=platform.api_gateway_logging, **shared)
        self.smoke_tests = SmokeTestHook(self, "SmokeTests", **shared)
        self.deploy_api = DeployApi(self, "DeployApi", **shared)
        timeline = TimelineTable(self, "TimelineState", table_name=f"{name}-timeline")
        self.notifier = DeploymentNotifier(self, "Timeline", bot_token=self.approval_gate.secrets.bot_token,
                                           channel=platform.notification_channel, timeline=timeline,
                                           **{k: v for k, v in shared.items() if k != "audit"})
        self.release_provider = ReleaseProvider(
            self, "ReleaseProvider", platform_name=name, layer=layer, logs_key=foundation.logs_key,
            vpc=foundation.vpc, security_group=self.lambdas_security_group, deploy_api=self.deploy_api.api)
        self.deployment_configs = SharedDeploymentConfigs(
            self, "DeploymentConfigs", platform_name=name, shifts=[d.traffic for d in config.domains],
            service_token=self.release_provider.service_token)

        # One strategy per distinct rollout shape, named by its content so adding one never renames another.
        # Retained: a domain of another app may still name it after this config stops listing it.
        self.flag_strategies: dict[str, appconfig.IDeploymentStrategy] = {}
        for rollout in sorted({config.flags_for(d.name).rollout for d in config.domains}, key=repr):
            strategy = flag_rollout_strategy(self, f"FlagRollout-{rollout.shape}", name=f"{name}-flags-{rollout.shape}",
                                             rollout=rollout)
            strategy.apply_removal_policy(RemovalPolicy.RETAIN)
            self.flag_strategies[rollout.shape] = strategy

        stack = Stack.of(self)
        self.platform_parameter = ssm.StringParameter(
            self, "PlatformParameter", parameter_name=platform_parameter_name(name),
            description=f"{name}: platform-wide metadata for bgctl and the hooks (schemaVersion "
                        f"{PLATFORM_SCHEMA_VERSION})",
            string_value=stack.to_json_string({
                "schemaVersion": PLATFORM_SCHEMA_VERSION, "platform": name, "region": stack.region,
                "domains": [d.name for d in config.domains], "auditTable": self.audit.table.table_name,
                "slackIdentityMap": dict(platform.slack_identity_map),
                "notificationChannel": platform.notification_channel, "deployApiUrl": self.deploy_api.url,
                "approvalRules": approval_rules(config),
                "githubDeployers": [g.repository for g in platform.github_deployers],
                # For domains attached from other apps (docs/library.md): what they may use and must avoid.
                "albGroups": {g.name: {"protocol": g.protocol.value, "shards": config.shards(g.name),
                                       "portsInUse": sorted(p for d in config.domains if d.alb_group == g.name
                                                            for p in (d.port, d.test_port))}
                              for g in config.alb_groups.values()},
                "sharedDeploymentConfigs": sorted(self.deployment_configs.by_name),
                "flagRolloutShapes": sorted(self.flag_strategies)}))
        self.publication = PlatformPublication(
            self, "Published", platform_name=name, vpc=foundation.vpc, vpc_cidr=platform.vpc_cidr,
            zone=foundation.zone, logs_key=foundation.logs_key, hooks_security_group=self.lambdas_security_group,
            release_service_token=self.release_provider.service_token, load_balancers=self.load_balancers,
            flag_strategies=self.flag_strategies)
        CfnOutput(self, "AuditTableName", value=self.audit.table.table_name,
                  description="DynamoDB table with every approval, smoke result and timeline")
