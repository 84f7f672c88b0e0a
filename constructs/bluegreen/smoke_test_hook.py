"""AfterAllowTestTraffic hook: business-flow smoke checks against the green task set via the test listener."""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from bluegreen.approval_gate import hook_function_name
from bluegreen.audit_table import SMOKE_KEYS, DeploymentAuditTable
from bluegreen.platform_grants import (
    grant_deployment_groups, grant_put_platform_events, grant_read_platform_parameters,
)
from bluegreen.lambda_support import PlatformFunction


class SmokeTestHook(Construct):
    """One function for all domains; it reads each domain's checks from the published metadata.

    Runs in the VPC (the ALB is internal) and stops well before its own timeout. Attribute `function`.
    """

    def __init__(self, scope: Construct, id: str, *, platform_name: str, audit: DeploymentAuditTable,
                 layer: lambda_.ILayerVersion, logs_key: kms.IKey, vpc: ec2.IVpc,
                 security_group: ec2.ISecurityGroup, timeout: Duration = Duration.minutes(5)) -> None:
        super().__init__(scope, id)
        self.function = PlatformFunction(
            self, "Hook", function_name=hook_function_name(platform_name, "smoke-tests"),
            code_directory="smoke_tests", handler="handler.handler",
            description="AfterAllowTestTraffic hook: runs each domain's smoke checks through its test listener",
            layer=layer, logs_key=logs_key, vpc=vpc, security_group=security_group, timeout=timeout,
            environment={"PLATFORM_NAME": platform_name, "SSM_PREFIX": f"/{platform_name}",
                         "AUDIT_TABLE": audit.table.table_name}).function
        # Its own key space only: it can neither read nor write approval records (DEPLOYMENT#...).
        audit.grant_append(self.function, leading_keys=[SMOKE_KEYS])
        grant_deployment_groups(self.function, platform_name=platform_name,
                                actions=["codedeploy:PutLifecycleEventHookExecutionStatus", "codedeploy:GetDeployment"],
                                purpose="Reads the deployment and answers its AfterAllowTestTraffic hook.")
        grant_read_platform_parameters(self.function, platform_name=platform_name,
                                       purpose="Reads the published per-domain metadata (test endpoint, checks).")
        grant_put_platform_events(self.function)
