"""Human approval at BeforeAllowTraffic: Slack message, API Gateway callback, decision worker, expiry.

CodeDeploy stays the single control plane: the request hook claims the request and posts to Slack;
the callback (API Gateway -> Lambda) verifies Slack's signature, decides with at most two DynamoDB
calls and answers Slack; the worker (fed by the audit table's stream, retried, with a DLQ) answers the
lifecycle hook and updates Slack; an EventBridge Scheduler one-shot schedule expires unanswered
requests before CodeDeploy's 1-hour limit. Every role gets its own least-privilege policy.
"""
from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from bgruntime.event_patterns import decision_worker_filters
from bluegreen.audit_table import APPROVAL_KEYS, SMOKE_KEYS, DeploymentAuditTable
from bluegreen.config.model import ApiGatewayLogging
from bluegreen.compliance import Ack, acknowledge, acknowledge_inline_policy, acknowledge_wildcards, logical_ref
from bluegreen.lambda_support import PlatformFunction
from bluegreen.platform_grants import (
    grant_deployment_groups, grant_put_platform_events, grant_read_platform_parameters,
)
from bluegreen.slack_secrets import SlackSecrets

CALLBACK_PATH = ("slack", "interactions")


def hook_function_name(platform_name: str, purpose: str) -> str:
    """AWSCodeDeployRoleForECSLimited may only invoke functions named CodeDeployHook_*."""
    return f"CodeDeployHook_{platform_name}_{purpose}"


class ApprovalGate(Construct):
    """Attributes: `request_function` (the BeforeAllowTraffic hook), `callback_function`, `worker_function`,
    `expiry_function`, `worker_dlq`, `api`, `callback_url`, `secrets`, `schedule_group`."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str, audit: DeploymentAuditTable,
                 layer: lambda_.ILayerVersion, logs_key: kms.IKey, vpc: ec2.IVpc,
                 security_group: ec2.ISecurityGroup, throttle_rate_per_second: int = 10,
                 throttle_burst: int = 20, api_logging: ApiGatewayLogging = ApiGatewayLogging.OFF) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.secrets = SlackSecrets(self, "SlackSecrets", platform_name=platform_name)
        self.schedule_group = scheduler.CfnScheduleGroup(self, "ExpirySchedules", name=f"{platform_name}-approvals")
        common_env = {"PLATFORM_NAME": platform_name, "SSM_PREFIX": f"/{platform_name}",
                      "AUDIT_TABLE": audit.table.table_name}
        slack_env = {"SLACK_BOT_TOKEN_SECRET_ARN": self.secrets.bot_token.secret_arn}

        def function(construct_id: str, name: str, handler: str, description: str, env: dict[str, str],
                     timeout: Duration, unscoped: str = "") -> lambda_.Function:
            return PlatformFunction(
                self, construct_id, function_name=name, code_directory="approval", handler=handler,
                description=description, layer=layer, logs_key=logs_key, vpc=vpc, security_group=security_group,
                environment={**common_env, **env}, timeout=timeout, unscoped_actions_reason=unscoped).function

        self.expiry_function = function(
            "Expiry", f"{platform_name}-approval-expiry", "expiry.handler",
            "Expires unanswered approval requests: records EXPIRED, reports Failed to CodeDeploy", {},
            Duration.seconds(30))
        self.worker_function = function(
            "Worker", f"{platform_name}-approval-worker", "worker.handler",
            "After the Slack ack: tells CodeDeploy the recorded decision, updates Slack, answers clickers",
            slack_env, Duration.seconds(60))
        scheduler_role = iam.Role(self, "SchedulerRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
                                  description=f"{platform_name}: lets one-shot expiry schedules invoke the expiry Lambda")
        self.expiry_function.grant_invoke(scheduler_role)
        acknowledge_inline_policy(scheduler_role)
        acknowledge(scheduler_role, Ack(
            f"AwsSolutions-IAM5[Resource::{logical_ref(self.expiry_function, 'Arn')}:*]",
            "CDK grants invoke on the function and its versions/aliases (':*'); only this function is reachable."))

        self.request_function = function(
            "Request", hook_function_name(platform_name, "approval-request"), "request.handler",
            "BeforeAllowTraffic hook: records PENDING, posts the Slack approval request, schedules expiry",
            {**slack_env, "SCHEDULE_GROUP": self.schedule_group.name,
             "EXPIRY_FUNCTION_ARN": self.expiry_function.function_arn, "SCHEDULER_ROLE_ARN": scheduler_role.role_arn},
            Duration.seconds(60),
            "ecs:DescribeTaskDefinition and cloudtrail:LookupEvents have no resource-level permissions; they only "
            "read the image being approved and who updated a domain stack (the cdk deploy requester).")
        self.callback_function = function(
            "Callback", f"{platform_name}-approval-callback", "callback.handler",
            "Slack interactivity endpoint: verifies the signature, records the click once, answers within 2.5 s",
            {**slack_env, "SLACK_SIGNING_SECRET_ARN": self.secrets.signing_secret.secret_arn}, Duration.seconds(10))

        self._grant(stack, platform_name, audit, scheduler_role)
        self.worker_dlq = self._worker_source(platform_name, audit)
        self.api = self._api(platform_name, logs_key, throttle_rate_per_second, throttle_burst, api_logging)
        self.callback_url = self.api.url_for_path("/" + "/".join(CALLBACK_PATH))
        CfnOutput(self, "ApprovalCallbackUrl", value=self.callback_url,
                  description="Slack app > Interactivity & Shortcuts > Request URL")

    def _grant(self, stack: Stack, platform_name: str, audit: DeploymentAuditTable, scheduler_role: iam.Role) -> None:
        request, callback, worker, expiry = (self.request_function, self.callback_function, self.worker_function,
                                             self.expiry_function)
        audit.grant_read(request, leading_keys=[APPROVAL_KEYS, SMOKE_KEYS])
        for fn in (callback, worker, expiry):
            audit.grant_read(fn, leading_keys=[APPROVAL_KEYS])
        for fn in (request, callback, worker, expiry):
            audit.grant_append(fn, leading_keys=[APPROVAL_KEYS])
        for fn in (request, callback, worker):
            self.secrets.bot_token.grant_read(fn)
        for fn in (request, worker):
            grant_put_platform_events(fn)
        grant_deployment_groups(
            request, platform_name=platform_name,
            actions=["codedeploy:GetDeployment", "codedeploy:ListDeployments", "codedeploy:BatchGetDeployments",
                     "codedeploy:PutLifecycleEventHookExecutionStatus"],
            purpose="Reads the deployment being approved, the group's history (rollback rule) and the platform's "
                    "other in-flight deployments, and answers the hook at once when no approval is required.")
        for fn in (worker, expiry):
            grant_deployment_groups(
                fn, platform_name=platform_name, actions=["codedeploy:PutLifecycleEventHookExecutionStatus"],
                purpose="Answers the BeforeAllowTraffic hook with the recorded decision.")
        self.secrets.signing_secret.grant_read(callback)
        grant_read_platform_parameters(request, platform_name=platform_name,
                                       purpose="Reads the published domain metadata, identity map and approval rules.")
        applications = f"application:{platform_name}-*"
        request.add_to_role_policy(iam.PolicyStatement(
            actions=["codedeploy:ListDeployments"],
            resources=[f"arn:{stack.partition}:codedeploy:{stack.region}:{stack.account}:{applications}"]))
        request.add_to_role_policy(iam.PolicyStatement(
            actions=["ecs:DescribeTaskDefinition", "cloudtrail:LookupEvents"], resources=["*"]))
        schedules = f"schedule/{platform_name}-approvals/*"
        request.add_to_role_policy(iam.PolicyStatement(
            actions=["scheduler:CreateSchedule"],
            resources=[f"arn:{stack.partition}:scheduler:{stack.region}:{stack.account}:{schedules}"]))
        request.add_to_role_policy(iam.PolicyStatement(
            actions=["iam:PassRole"], resources=[scheduler_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}))
        acknowledge_wildcards(
            request,
            ("codedeploy", applications,
             "Lists in-flight deployments of this platform's applications (named by convention) for the message."),
            ("scheduler", schedules,
             "Creates one-shot expiry schedules, one per approval request, only in the platform's schedule group."))

    def _worker_source(self, platform_name: str, audit: DeploymentAuditTable) -> sqs.Queue:
        """The audit table's stream -> worker: only new DECISION, VOTE# and EVENT# records; failed records are
        retried (ReportBatchItemFailures, bisecting) for up to an hour (CodeDeploy's hook deadline), then kept
        in an encrypted dead-letter queue."""
        dlq = sqs.Queue(self, "WorkerDeadLetters", queue_name=f"{platform_name}-approval-worker-dlq",
                        encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                        retention_period=Duration.days(14))
        acknowledge(dlq, Ack("AwsSolutions-SQS3", "This queue is itself the dead-letter queue of the approval "
                                                  "worker's stream source; a DLQ of a DLQ would only move the records."))
        self.worker_function.add_event_source(sources.DynamoEventSource(
            audit.table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=10,
            bisect_batch_on_error=True, report_batch_item_failures=True, retry_attempts=10000,
            max_record_age=Duration.hours(1), on_failure=sources.SqsDlq(dlq),
            filters=[lambda_.FilterCriteria.filter(pattern) for pattern in decision_worker_filters()]))
        return dlq

    def _api(self, platform_name: str, logs_key: kms.IKey, rate: int, burst: int,
             logging: ApiGatewayLogging) -> apigw.RestApi:
        # Stage logs need the account's API Gateway CloudWatch role (an account-wide singleton, see
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html), so the platform only
        # creates that singleton when asked to and logs only when the account has one.
        logged = logging is not ApiGatewayLogging.OFF
        stage_logs: dict = {}
        if logged:
            access_logs = logs.LogGroup(self, "ApiAccessLogs", retention=logs.RetentionDays.ONE_YEAR,
                                        encryption_key=logs_key, removal_policy=RemovalPolicy.RETAIN)
            stage_logs = dict(
                logging_level=apigw.MethodLoggingLevel.ERROR, data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False))
        creates_account_role = logging is ApiGatewayLogging.CREATE_ACCOUNT_ROLE
        api = apigw.RestApi(
            self, "Api", rest_api_name=f"{platform_name}-approvals",
            description="Slack interactivity endpoint for deployment approvals",
            endpoint_types=[apigw.EndpointType.REGIONAL], cloud_watch_role=creates_account_role,
            **({"cloud_watch_role_removal_policy": RemovalPolicy.RETAIN} if creates_account_role else {}),
            deploy_options=apigw.StageOptions(
                stage_name="v1", tracing_enabled=True, metrics_enabled=True,
                throttling_rate_limit=rate, throttling_burst_limit=burst, **stage_logs))
        if not logged:
            reason = ("Stage logging needs the account-wide API Gateway CloudWatch role, which this platform does not "
                      "own by default (api_gateway_logging: off); the callback Lambda logs every request it receives. "
                      "Set platform.api_gateway_logging to account-role-exists once the account has that role.")
            acknowledge(api, Ack("AwsSolutions-APIG1", reason), Ack("AwsSolutions-APIG6", reason),
                        Ack("HIPAA.Security-APIGWExecutionLoggingEnabled", reason))
        validator = api.add_request_validator("RequireSlackHeaders", validate_request_parameters=True,
                                              validate_request_body=True)
        resource = api.root
        for part in CALLBACK_PATH:
            resource = resource.add_resource(part)
        resource.add_method(
            "POST", apigw.LambdaIntegration(self.callback_function, proxy=True),
            authorization_type=apigw.AuthorizationType.NONE, request_validator=validator,
            request_parameters={"method.request.header.X-Slack-Signature": True,
                                "method.request.header.X-Slack-Request-Timestamp": True})
        reason_auth = ("Slack cannot sign requests with IAM or Cognito; every request is authenticated by Slack's "
                       "HMAC-SHA256 signature (5-minute window, constant-time compare) in the callback Lambda, and "
                       "requests without the signature headers are rejected by the gateway's validator.")
        acknowledge(api, Ack("AwsSolutions-APIG4", reason_auth), Ack("AwsSolutions-COG4", reason_auth),
                    Ack("AwsSolutions-APIG3",
                        "Stage throttling bounds the request rate and every body is signature-checked before use; "
                        "production fronting by an organisation WAF web ACL is attached outside this stack."),
                    Ack("HIPAA.Security-APIGWCacheEnabledAndEncrypted",
                        "Every Slack click is a unique signed POST that must reach the Lambda; a cache would either "
                        "never hit or replay decisions. No response is cached, so nothing is stored to encrypt."),
                    Ack("HIPAA.Security-APIGWSSLEnabled",
                        "The only integration is a Lambda proxy invoked through AWS's signed API, not an HTTP backend "
                        "that could verify an API Gateway client certificate; clients reach the API over TLS only."))
        if creates_account_role:
            acknowledge(api, Ack("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                                 "AmazonAPIGatewayPushToCloudWatchLogs]",
                                 "API Gateway's account-level logging role needs exactly this AWS-managed policy."))
        return api


