"""How the platform packages and runs its Lambda functions (no Docker: plain asset directories).

Code lives under the repository's `lambdas/` folder (packaged into the library's wheel as
`bluegreen/lambda_assets/`), resolved from this file, never from the working directory. Shared runtime helpers (`bgruntime`) ship as a layer built from `lambdas/layer/`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge, acknowledge_inline_policy

# In the repository a symlink to the top-level `lambdas/`; in the installed wheel the packaged copy.
LAMBDAS_DIR = Path(__file__).resolve().parent / "lambda_assets"
RUNTIME = lambda_.Runtime.PYTHON_3_14
# Packaging files of the layer's own distribution (`lambdas/layer/pyproject.toml`) never ship to Lambda.
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.hypothesis", "pyproject.toml",
                  "**/*.egg-info", "build"]

HIPAA_LAMBDA_ACKS = (
    Ack("HIPAA.Security-LambdaConcurrency",
        "Reserved concurrency would fail deployment in accounts with the default pool and these functions are "
        "bounded by their event sources (CodeDeploy hooks, API Gateway throttling, one schedule per request)."),
    Ack("HIPAA.Security-LambdaDLQ",
        "Every failure is already surfaced where an operator looks: hooks report Failed to CodeDeploy (which rolls "
        "back), the callback answers Slack, the notifier only posts; a DLQ would hold events nobody replays."),
)


def lambda_code(directory: str) -> lambda_.Code:
    path = (LAMBDAS_DIR / directory).resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"Lambda code directory {path} does not exist")
    return lambda_.Code.from_asset(str(path), exclude=ASSET_EXCLUDES)


class RuntimeLayer(Construct):
    """The `bgruntime` package as a Lambda layer. Attribute `layer`."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.layer = lambda_.LayerVersion(
            self, "Layer", code=lambda_code("layer"), compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="bgruntime: Slack client, approvals store, CodeDeploy helpers (stdlib + boto3)")


class PlatformFunction(Construct):
    """A platform Lambda: ARM64, latest Python, in the VPC's private subnets, KMS-encrypted log group,
    X-Ray tracing, the runtime layer. Attribute `function`."""

    def __init__(self, scope: Construct, id: str, *, function_name: str, code_directory: str, handler: str,
                 description: str, layer: lambda_.ILayerVersion, logs_key: kms.IKey, vpc: ec2.IVpc,
                 security_group: ec2.ISecurityGroup, environment: Mapping[str, str] | None = None,
                 timeout: Duration = Duration.seconds(30), memory_size: int = 256,
                 unscoped_actions_reason: str = "", role: iam.IRole | None = None) -> None:
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(self, "Logs", log_group_name=f"/aws/lambda/{function_name}",
                                       retention=logs.RetentionDays.ONE_YEAR, encryption_key=logs_key,
                                       removal_policy=RemovalPolicy.RETAIN)
        self.function = lambda_.Function(
            self, "Function", function_name=function_name, runtime=RUNTIME, architecture=lambda_.Architecture.ARM_64,
            code=lambda_code(code_directory), handler=handler, description=description, layers=[layer],
            environment=dict(sorted((environment or {}).items())), timeout=timeout, memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE, log_group=self.log_group, vpc=vpc, security_groups=[security_group],
            role=role,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS))
        acknowledge(self.function, *HIPAA_LAMBDA_ACKS, Ack(
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
            "The AWS-managed VPC access policy grants exactly the ENI permissions a VPC Lambda needs; its "
            "CloudWatch Logs grant covers this function's own log group."))
        acknowledge(self.function, Ack(
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The AWS-managed basic execution policy only lets the function write its own logs."))
        acknowledge_inline_policy(self.function)
        acknowledge(self.function, Ack(
            "AwsSolutions-IAM5[Resource::*]",
            "xray:PutTraceSegments and xray:PutTelemetryRecords (tracing) have no resource-level permissions. "
            + unscoped_actions_reason))
