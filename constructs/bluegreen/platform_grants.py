"""IAM grants that several platform functions share, each with its cdk-nag acknowledgment.

Grants are scoped by the platform's naming convention (`<platform>-<domain>` groups, `/<platform>/`
parameters) because domains join without redeploying the platform, so their ARNs cannot be listed.
"""
from __future__ import annotations

from typing import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from bluegreen.compliance import acknowledge_wildcards

CONVENTION = "Scoped to this platform's resources by their naming convention; domains join without a platform deploy."


def _arn(stack: Stack, service: str, resource: str) -> str:
    return f"arn:{stack.partition}:{service}:{stack.region}:{stack.account}:{resource}"


def grant_deployment_groups(fn: lambda_.IFunction, *, platform_name: str, actions: Sequence[str],
                            purpose: str) -> None:
    """`actions` on every `<platform>-*` CodeDeploy deployment group."""
    resource = f"deploymentgroup:{platform_name}-*/{platform_name}-*"
    fn.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=[_arn(Stack.of(fn), "codedeploy",
                                                                                      resource)]))
    acknowledge_wildcards(fn, ("codedeploy", resource, f"{purpose} {CONVENTION}"))


def grant_read_platform_parameters(fn: lambda_.IFunction, *, platform_name: str, purpose: str) -> None:
    """ssm:GetParameter(s) under the platform's SSM prefix (published metadata)."""
    resource = f"parameter/{platform_name}/*"
    fn.add_to_role_policy(iam.PolicyStatement(actions=["ssm:GetParameter", "ssm:GetParameters"],
                                              resources=[_arn(Stack.of(fn), "ssm", resource)]))
    acknowledge_wildcards(fn, ("ssm", resource, f"{purpose} {CONVENTION}"))


def grant_put_platform_events(fn: lambda_.IFunction) -> None:
    """events:PutEvents on the default bus (smoke results, approval requests and decisions)."""
    fn.add_to_role_policy(iam.PolicyStatement(actions=["events:PutEvents"],
                                              resources=[_arn(Stack.of(fn), "events", "event-bus/default")]))
