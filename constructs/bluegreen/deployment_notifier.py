"""Deployment timeline: CodeDeploy state changes and approval/smoke events -> one Slack thread per deployment."""
from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from bgruntime import event_patterns
from bluegreen.audit_table import TimelineTable
from bluegreen.compliance import acknowledge_wildcards
from bluegreen.platform_grants import grant_deployment_groups, grant_read_platform_parameters
from bluegreen.lambda_support import PlatformFunction

PLATFORM_EVENT_SOURCE = event_patterns.PLATFORM_SOURCE


def rule_pattern(pattern: event_patterns.Pattern) -> events.EventPattern:
    """An EventBridge rule pattern from its one definition in `bgruntime.event_patterns`."""
    return events.EventPattern(source=list(pattern["source"]), detail_type=list(pattern["detail-type"]),
                               detail=dict(pattern["detail"]))


class DeploymentNotifier(Construct):
    """EventBridge rules + notifier Lambda. Attributes `function`, `codedeploy_rule`, `platform_rule`."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str, timeline: TimelineTable,
                 bot_token: secretsmanager.ISecret, channel: str | None, layer: lambda_.ILayerVersion,
                 logs_key: kms.IKey, vpc: ec2.IVpc, security_group: ec2.ISecurityGroup) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        environment = {"PLATFORM_NAME": platform_name, "SSM_PREFIX": f"/{platform_name}",
                       "TIMELINE_TABLE": timeline.table.table_name, "SLACK_BOT_TOKEN_SECRET_ARN": bot_token.secret_arn}
        if channel:
            environment["NOTIFY_CHANNEL"] = channel
        self.function = PlatformFunction(
            self, "Notifier", function_name=f"{platform_name}-deployment-notifier",
            code_directory="deployment_notifier", handler="handler.handler",
            description="Posts one threaded Slack timeline per deployment (never fails a deployment)",
            layer=layer, logs_key=logs_key, vpc=vpc, security_group=security_group,
            environment=environment, timeout=Duration.seconds(30)).function
        timeline.grant_items(self.function)  # its own bookkeeping table; no access to the audit records
        bot_token.grant_read(self.function)
        grant_deployment_groups(self.function, platform_name=platform_name,
                                actions=["codedeploy:GetDeployment", "codedeploy:GetDeploymentGroup"],
                                purpose="Reads deployments to describe them in the timeline.")
        grant_read_platform_parameters(self.function, platform_name=platform_name,
                                       purpose="Reads published domain metadata (channel, image) for messages.")
        alarms = f"alarm:{platform_name}-*"
        self.function.add_to_role_policy(iam.PolicyStatement(
            actions=["cloudwatch:DescribeAlarms"],
            resources=[f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:{alarms}"]))
        acknowledge_wildcards(self.function, ("cloudwatch", alarms,
                                              "Names the rollback alarm that fired, from this platform's alarms."))

        target = targets.LambdaFunction(self.function, retry_attempts=2, max_event_age=Duration.hours(1))
        codedeploy_pattern, platform_pattern = event_patterns.timeline_patterns(platform_name)
        self.codedeploy_rule = events.Rule(
            self, "CodeDeployStateChanges", description=f"{platform_name}: CodeDeploy deployment state changes",
            event_pattern=rule_pattern(codedeploy_pattern), targets=[target])
        self.platform_rule = events.Rule(
            self, "PlatformEvents", description=f"{platform_name}: smoke checks and approval decisions",
            event_pattern=rule_pattern(platform_pattern), targets=[target])
