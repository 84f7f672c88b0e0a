"""The platform's release provider: one custom-resource service token for every domain stack.

It serves `Custom::CodeDeployBlueGreenDeployment` (a config change released through CodeDeploy and waited for),
`Custom::CodeDeployDeploymentWaiter` (more waiting: CloudFormation gives a custom resource at most an hour),
`Custom::ProductionListenerStickiness` (stickiness on the live forward action) and
`Custom::SharedEcsDeploymentConfig` (custom deployment configs that are created once and never deleted).
Code: `lambdas/release_provider/`. Domain stacks find the service token in SSM (`bluegreen.published`).

CDK Provider framework: onEvent + isComplete, polled every 30 s, at most one hour per resource
(https://docs.aws.amazon.com/cdk/api/v2/python/aws_cdk.custom_resources/Provider.html, `total_timeout`;
CloudFormation custom resources time out after 3600 s: `ServiceTimeout` 1..3600).
"""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from bluegreen.compliance import (
    Ack, acknowledge, acknowledge_inline_policy, acknowledge_wildcards, logical_ref, nag_iam_arn,
)
from bluegreen.lambda_support import HIPAA_LAMBDA_ACKS, PlatformFunction
from bluegreen.published import cluster_name

QUERY_INTERVAL = Duration.seconds(30)
TOTAL_TIMEOUT = Duration.hours(1)  # the Provider framework's (and CloudFormation's) maximum per resource



class ReleaseProvider(Construct):
    """Attributes: `service_token`, `on_event_function`, `is_complete_function`, `provider`."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str, layer: lambda_.ILayerVersion,
                 logs_key: kms.IKey, vpc: ec2.IVpc, security_group: ec2.ISecurityGroup,
                 deploy_api: apigw.RestApi) -> None:
        super().__init__(scope, id)
        # Named: the deploy API accepts `source: cloudformation` only from this role (bgruntime.identities).
        self.role = iam.Role(self, "Role", role_name=f"{platform_name}-release-provider",
                             assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description=f"{platform_name}: releases config changes of every domain stack through the "
                                         "deploy API and waits for CodeDeploy",
                             managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                                 "service-role/AWSLambdaVPCAccessExecutionRole")])
        common = dict(code_directory="release_provider", layer=layer, logs_key=logs_key, vpc=vpc,
                      security_group=security_group, role=self.role,
                      environment={"PLATFORM_NAME": platform_name, "DEPLOY_API_URL": deploy_api.url},
                      unscoped_actions_reason="ecs:DescribeTaskDefinition and elasticloadbalancing:DescribeListeners "
                                              "have no resource-level permissions; they only read.")
        self.on_event_function = PlatformFunction(
            self, "OnEvent", function_name=f"{platform_name}-release-provider", handler="provider.on_event",
            description="Releases config changes through CodeDeploy; listener stickiness; shared deployment configs",
            timeout=Duration.minutes(2), **common).function
        self.is_complete_function = PlatformFunction(
            self, "IsComplete", function_name=f"{platform_name}-release-provider-waiter",
            handler="provider.is_complete", description="Polls the CodeDeploy deployment a release started",
            timeout=Duration.minutes(1), **common).function
        self._grant(platform_name, deploy_api)
        framework_logs = logs.LogGroup(self, "FrameworkLogs", retention=logs.RetentionDays.ONE_YEAR,
                                       encryption_key=logs_key, removal_policy=RemovalPolicy.DESTROY)
        self.provider = cr.Provider(
            self, "Provider", on_event_handler=self.on_event_function, is_complete_handler=self.is_complete_function,
            query_interval=QUERY_INTERVAL, total_timeout=TOTAL_TIMEOUT, log_group=framework_logs,
            vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[security_group],
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=logs.LogGroup(self, "WaiterLogs", retention=logs.RetentionDays.ONE_YEAR,
                                          encryption_key=logs_key, removal_policy=RemovalPolicy.DESTROY),
                include_execution_data=False, level=sfn.LogLevel.ALL))
        self.service_token = self.provider.service_token
        self._acknowledge_framework()

    def _grant(self, platform_name: str, deploy_api: apigw.RestApi) -> None:
        stack = Stack.of(self)

        def arn(service: str, resource: str) -> str:
            return f"arn:{stack.partition}:{service}:{stack.region}:{stack.account}:{resource}"

        groups = f"deploymentgroup:{platform_name}-*/{platform_name}-*"
        shared_configs = f"deploymentconfig:{platform_name}-*"
        families = f"task-definition/{platform_name}-*:*"
        services = f"service/{cluster_name(platform_name)}/{platform_name}-*"
        listeners = f"listener/app/{platform_name}-*/*/*"
        statements = [
            # Never CreateDeployment: every deployment starts through the deploy API, which records who asked.
            iam.PolicyStatement(sid="StartThroughTheDeployApi", actions=["execute-api:Invoke"],
                                resources=[deploy_api.arn_for_execute_api("POST", "/deployments", "v1")]),
            iam.PolicyStatement(sid="WatchAndStopDeployments", resources=[arn("codedeploy", groups)], actions=[
                "codedeploy:GetDeployment", "codedeploy:ListDeployments", "codedeploy:BatchGetDeployments",
                "codedeploy:StopDeployment", "codedeploy:GetDeploymentGroup"]),
            iam.PolicyStatement(sid="SharedDeploymentConfigs", resources=[arn("codedeploy", shared_configs)],
                                actions=["codedeploy:CreateDeploymentConfig", "codedeploy:GetDeploymentConfig"]),
            iam.PolicyStatement(sid="ReadPredefinedConfigs", actions=["codedeploy:GetDeploymentConfig"],
                                resources=[arn("codedeploy", "deploymentconfig:CodeDeployDefault.*")]),
            iam.PolicyStatement(sid="ReadServices", actions=["ecs:DescribeServices"],
                                resources=[arn("ecs", services)]),
            iam.PolicyStatement(sid="ReadTaskDefinitions", actions=["ecs:DescribeTaskDefinition"], resources=["*"]),
            iam.PolicyStatement(sid="KeepRunningImage", actions=["ecs:RegisterTaskDefinition"],
                                resources=[arn("ecs", families)]),
            iam.PolicyStatement(sid="PassOnlyDomainRoles", actions=["iam:PassRole"], resources=[
                f"arn:{stack.partition}:iam::{stack.account}:role/{platform_name}-*-task",
                f"arn:{stack.partition}:iam::{stack.account}:role/{platform_name}-*-execution"],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
            iam.PolicyStatement(sid="ReadListeners", actions=["elasticloadbalancing:DescribeListeners"],
                                resources=["*"]),
            iam.PolicyStatement(sid="SetStickinessOnLiveAction", actions=["elasticloadbalancing:ModifyListener"],
                                resources=[arn("elasticloadbalancing", listeners)]),
        ]
        for statement in statements:  # one role serves both functions
            self.role.add_to_policy(statement)
        reason = "Scoped by the platform's naming convention: domains join without a platform deploy."
        acknowledge_inline_policy(self.role)
        acknowledge(self.role, Ack(
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
            "The AWS-managed VPC access policy grants exactly the ENI and log permissions these VPC functions need."),
            Ack("AwsSolutions-IAM5[Resource::*]",
                "ecs:DescribeTaskDefinition, elasticloadbalancing:DescribeListeners and X-Ray tracing have no "
                "resource-level permissions; they only read or write traces."))
        for function in (self.role,):
            acknowledge_wildcards(
                function,
                ("codedeploy", groups, "Watches and, on rollback or delete, stops deployments of the platform's "
                                       "groups. " + reason),
                ("codedeploy", shared_configs, "Creates the platform's shared deployment configs (named by shape)."),
                ("codedeploy", "deploymentconfig:CodeDeployDefault.*", "Reads AWS's predefined ECS deployment configs (CodeDeployDefault.*) that groups may name."),
                ("ecs", services, "Reads which revision a domain's service runs. " + reason),
                ("ecs", families, "Registers a revision that keeps the running image. " + reason),
                ("elasticloadbalancing", listeners, "Sets stickiness on a domain's production listener. " + reason))
            acknowledge(function, *[Ack(f"AwsSolutions-IAM5[Resource::"
                                        f"{nag_iam_arn(function, f'role/{platform_name}-*-{kind}')}]",
                                        f"Passes only the platform's {kind} roles (named <platform>-<domain>-{kind}) "
                                        "to ecs-tasks, for revisions it registers. " + reason)
                                    for kind in ("task", "execution")])

    def _acknowledge_framework(self) -> None:
        framework_reason = ("CDK's Provider framework: its functions only relay CloudFormation events to this "
                            "provider's own functions and report back; they hold no data.")
        acknowledge(self.provider, *HIPAA_LAMBDA_ACKS,
                    Ack("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AWSLambdaBasicExecutionRole]", framework_reason + " The managed policy only writes logs."),
                    Ack("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AWSLambdaVPCAccessExecutionRole]", framework_reason + " The managed policy grants the ENI "
                        "permissions a VPC function needs."),
                    Ack("AwsSolutions-IAM5[Resource::*]", framework_reason + " CDK grants them invoke on the "
                        "provider's functions and versions (':*') and state-machine logging, which has no "
                        "resource-level permissions."),
                    Ack("AwsSolutions-L1", framework_reason + " CDK pins the framework's Node.js runtime; it "
                        "moves with aws-cdk-lib upgrades."),
                    Ack("AwsSolutions-SF2", framework_reason + " The waiter state machine only loops over "
                        "isComplete; X-Ray on it would trace a timer."))
        framework_functions = [c for c in self.provider.node.find_all() if isinstance(c, lambda_.Function)]
        invoked = [self.on_event_function, self.is_complete_function, *framework_functions]
        acknowledge(self.provider, *[Ack(f"AwsSolutions-IAM5[Resource::{logical_ref(function, 'Arn')}:*]",
                                         framework_reason + " CDK grants invoke on this function and its "
                                         "versions (':*'); nothing else is invocable.") for function in invoked])
        acknowledge_inline_policy(self.provider)
