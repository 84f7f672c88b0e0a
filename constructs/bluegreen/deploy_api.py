"""The deploy API: the only principal that calls CodeDeploy CreateDeployment (docs/deploy-api.md).

A REST API with `AWS_IAM` authorization on every method, so API Gateway verifies each caller's SigV4
signature and tells the registrar Lambda who called (`requestContext.identity.userArn`). The registrar
records that identity (plus a verified GitHub OIDC attestation) as an immutable `REGISTERED` audit record
and starts the deployment itself; it also takes `bgctl approve|reject` decisions under the Slack rules.
Clients: GitHub deploy roles and operators get `execute-api:Invoke`, never `codedeploy:CreateDeployment`.
"""
from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from bluegreen.audit_table import APPROVAL_KEYS, DeploymentAuditTable
from bluegreen.compliance import Ack, acknowledge, acknowledge_wildcards
from bluegreen.lambda_support import PlatformFunction
from bluegreen.platform_grants import grant_deployment_groups, grant_read_platform_parameters

STAGE = "v1"
START_PATH = "deployments"
DECISION_PATH = "deployments/*/decisions"


def deploy_api_name(platform_name: str) -> str:
    return f"{platform_name}-deploy-api"


def invoke_arn_pattern(partition: str, region: str, account: str, path: str) -> str:
    """`execute-api:Invoke` resource for a POST on `path` of stage v1 of any API of the account.

    API ids are random, so clients in other stacks (DeployAccess) name the method, not the API; only this
    platform's API has these paths with IAM authorization (docs/deploy-api.md, residual risk)."""
    return f"arn:{partition}:execute-api:{region}:{account}:*/{STAGE}/POST/{path}"


class DeployApi(Construct):
    """Attributes `function` (`<platform>-deploy-api`), `api`, `url`."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str, audit: DeploymentAuditTable,
                 layer: lambda_.ILayerVersion, logs_key: kms.IKey, vpc: ec2.IVpc,
                 security_group: ec2.ISecurityGroup, throttle_rate_per_second: int = 5,
                 throttle_burst: int = 10) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.function = PlatformFunction(
            self, "Registrar", function_name=deploy_api_name(platform_name), code_directory="deploy_api",
            handler="handler.handler", layer=layer, logs_key=logs_key, vpc=vpc, security_group=security_group,
            description="Deploy API: records the verified requester, then starts the CodeDeploy deployment itself",
            environment={"PLATFORM_NAME": platform_name, "SSM_PREFIX": f"/{platform_name}",
                         "AUDIT_TABLE": audit.table.table_name},
            timeout=Duration.seconds(25)).function
        audit.grant_read(self.function, leading_keys=[APPROVAL_KEYS])
        audit.grant_append(self.function, leading_keys=[APPROVAL_KEYS])
        grant_deployment_groups(
            self.function, platform_name=platform_name,
            actions=["codedeploy:CreateDeployment", "codedeploy:ListDeployments", "codedeploy:BatchGetDeployments",
                     "codedeploy:GetDeployment", "codedeploy:PutLifecycleEventHookExecutionStatus"],
            purpose="Starts deployments (the only role that may), refuses a second one in flight, and answers the "
                    "approval hook with a break-glass decision.")
        codedeploy = f"arn:{stack.partition}:codedeploy:{stack.region}:{stack.account}"
        applications, configs = f"application:{platform_name}-*", "deploymentconfig:*"
        self.function.add_to_role_policy(iam.PolicyStatement(
            actions=["codedeploy:RegisterApplicationRevision", "codedeploy:GetApplicationRevision"],
            resources=[f"{codedeploy}:{applications}"]))
        self.function.add_to_role_policy(iam.PolicyStatement(
            actions=["codedeploy:GetDeploymentConfig"], resources=[f"{codedeploy}:{configs}"]))
        acknowledge_wildcards(
            self.function,
            ("codedeploy", applications, "CreateDeployment registers the AppSpec revision of the platform's "
                                         "applications (named <platform>-<domain>)."),
            ("codedeploy", configs, "CreateDeployment reads the group's deployment config, predefined or shared."))
        grant_read_platform_parameters(self.function, platform_name=platform_name,
                                       purpose="Reads domain metadata (AppSpec), identity map and GitHub deployers.")

        self.api = apigw.RestApi(
            self, "Api", rest_api_name=deploy_api_name(platform_name),
            description="IAM-authenticated registrar: the only way a deployment starts",
            endpoint_types=[apigw.EndpointType.REGIONAL], cloud_watch_role=False,
            deploy_options=apigw.StageOptions(stage_name=STAGE, tracing_enabled=True, metrics_enabled=True,
                                              throttling_rate_limit=throttle_rate_per_second,
                                              throttling_burst_limit=throttle_burst))
        integration = apigw.LambdaIntegration(self.function, proxy=True)
        deployments = self.api.root.add_resource("deployments")
        deployments.add_method("POST", integration, authorization_type=apigw.AuthorizationType.IAM)
        decisions = deployments.add_resource("{deploymentId}").add_resource("decisions")
        decisions.add_method("POST", integration, authorization_type=apigw.AuthorizationType.IAM)
        self.url = self.api.url
        reason_logs = ("Stage logging needs the account-wide API Gateway CloudWatch role, which the platform does not "
                       "own by default; the registrar Lambda logs every request with the verified caller.")
        acknowledge(
            self.api, Ack("AwsSolutions-APIG1", reason_logs), Ack("AwsSolutions-APIG6", reason_logs),
            Ack("HIPAA.Security-APIGWExecutionLoggingEnabled", reason_logs),
            Ack("AwsSolutions-COG4", "Every method uses AWS_IAM authorization (SigV4): callers are IAM principals "
                                     "(GitHub OIDC roles, SSO users, the cdk deploy trigger), not Cognito users."),
            Ack("AwsSolutions-APIG2", "The registrar validates every body itself (size, fields, types) and answers a "
                                      "4xx that names the problem; a gateway model would duplicate those rules."),
            Ack("AwsSolutions-APIG3", "IAM authorization and stage throttling bound who can call and how often; an "
                                      "organisation WAF web ACL can be attached outside this stack."),
            Ack("HIPAA.Security-APIGWCacheEnabledAndEncrypted",
                "Every request starts a deployment or records a decision; nothing may be served from a cache."),
            Ack("HIPAA.Security-APIGWSSLEnabled",
                "The only integration is a Lambda proxy, not an HTTP backend that could check a client certificate."))
        CfnOutput(self, "DeployApiUrl", value=self.url, description="deploy API base URL (also /P/platform deployApiUrl)")
