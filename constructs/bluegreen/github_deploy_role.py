"""GitHub Actions deploy access through OIDC: no long-lived keys, one least-privilege role per repository.

The role may register task definitions of the platform's families, pass only the domains' task and
execution roles, create/stop deployments on the platform's deployment groups, read the published
parameters and the audit table, and push to the domains' ECR repositories. It can never update an
ECS service directly and never answer an approval: CodeDeploy stays the single control plane.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge, acknowledge_inline_policy, acknowledge_wildcards

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True)
class DeployableDomain:
    """What one domain contributes to a deploy role (from its DomainService)."""

    name: str
    repository: ecr.IRepository
    task_role: iam.IRole
    execution_role: iam.IRole


def subject_claims(repository: str, branches: Sequence[str], environments: Sequence[str]) -> list[str]:
    """The `sub` claims GitHub puts in tokens for pushes to these branches / jobs in these environments."""
    return ([f"repo:{repository}:ref:refs/heads/{branch}" for branch in branches]
            + [f"repo:{repository}:environment:{env}" for env in environments])


class GithubOidcProvider(Construct):
    """The account's GitHub OIDC provider, created or (by ARN) reused. Attribute `provider`."""

    def __init__(self, scope: Construct, id: str, *, existing_provider_arn: str | None = None) -> None:
        super().__init__(scope, id)
        if existing_provider_arn:
            self.provider: iam.IOidcProvider = iam.OidcProviderNative.from_oidc_provider_arn(
                self, "Existing", existing_provider_arn)
        else:
            self.provider = iam.OidcProviderNative(self, "Provider", url=GITHUB_OIDC_URL,
                                                   client_ids=[GITHUB_AUDIENCE])


class GithubDeployRole(Construct):
    """A role GitHub Actions assumes for one repository (branches/environments). Attribute `role`."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str, provider: iam.IOidcProvider,
                 repository: str, branches: Sequence[str], environments: Sequence[str],
                 domains: Sequence[DeployableDomain], audit_table_name: str,
                 max_session: Duration = Duration.hours(2)) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        safe_repo = re.sub(r"[^A-Za-z0-9+=,.@_-]", "-", repository)
        self.role = iam.Role(
            self, "Role", role_name=f"{platform_name}-deploy-{safe_repo}"[:64],
            description=f"GitHub Actions deploys of {repository} through CodeDeploy ({platform_name})",
            max_session_duration=max_session,
            assumed_by=iam.WebIdentityPrincipal(provider.oidc_provider_arn, conditions={
                "StringEquals": {"token.actions.githubusercontent.com:aud": GITHUB_AUDIENCE},
                "StringLike": {"token.actions.githubusercontent.com:sub":
                               subject_claims(repository, branches, environments)}}))
        def arn(service: str) -> str:
            return f"arn:{stack.partition}:{service}:{stack.region}:{stack.account}"

        codedeploy = arn("codedeploy")
        audit_table_arn = f"{arn('dynamodb')}:table/{audit_table_name}"
        names = [f"{platform_name}-{d.name}" for d in domains]
        statements = [
            iam.PolicyStatement(sid="RegisterPlatformTaskDefinitions", actions=["ecs:RegisterTaskDefinition"],
                                resources=[f"{arn('ecs')}:task-definition/{n}:*" for n in names]),
            iam.PolicyStatement(sid="TagOnlyWhileRegistering", actions=["ecs:TagResource"],
                                resources=[f"{arn('ecs')}:task-definition/{n}:*" for n in names],
                                conditions={"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}),
            iam.PolicyStatement(sid="ReadTaskDefinitions",
                                actions=["ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"], resources=["*"]),
            iam.PolicyStatement(sid="ReadDomainServices", actions=["ecs:DescribeServices"],
                                resources=[f"{arn('ecs')}:service/{platform_name}-cluster/{n}" for n in names]),
            iam.PolicyStatement(sid="PassOnlyDomainRoles", actions=["iam:PassRole"],
                                resources=[r.role_arn for d in domains for r in (d.task_role, d.execution_role)],
                                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
            iam.PolicyStatement(sid="DeployThroughCodeDeploy",
                                actions=["codedeploy:CreateDeployment", "codedeploy:GetDeployment",
                                         "codedeploy:GetDeploymentGroup", "codedeploy:ListDeployments",
                                         "codedeploy:BatchGetDeployments",
                                         "codedeploy:StopDeployment", "codedeploy:ListDeploymentTargets",
                                         "codedeploy:GetDeploymentTarget"],
                                resources=[f"{codedeploy}:deploymentgroup:{n}/{n}" for n in names]),
            iam.PolicyStatement(sid="RegisterAppSpecRevisions",
                                actions=["codedeploy:RegisterApplicationRevision",
                                         "codedeploy:GetApplicationRevision", "codedeploy:GetApplication"],
                                resources=[f"{codedeploy}:application:{n}" for n in names]),
            iam.PolicyStatement(sid="ReadDeploymentConfigs", actions=["codedeploy:GetDeploymentConfig"],
                                resources=[f"{codedeploy}:deploymentconfig:*"]),
            iam.PolicyStatement(sid="ReadPublishedMetadata", actions=["ssm:GetParameter"],
                                resources=[f"{arn('ssm')}:parameter/{platform_name}/*"]),
            iam.PolicyStatement(sid="ReadAuditTrail", actions=["dynamodb:GetItem", "dynamodb:Query"],
                                resources=[audit_table_arn, f"{audit_table_arn}/index/*"]),
            iam.PolicyStatement(sid="ReadRollbackAlarms", actions=["cloudwatch:DescribeAlarms"],
                                resources=[f"{arn('cloudwatch')}:alarm:{platform_name}-*"]),
            iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(sid="PushDomainImages",
                                actions=["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
                                         "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
                                         "ecr:BatchGetImage", "ecr:DescribeImages"],
                                resources=[d.repository.repository_arn for d in domains]),
        ]
        self.policy = iam.ManagedPolicy(self, "Policy", statements=statements, roles=[self.role],
                                        description=f"Deploy {platform_name} domains through CodeDeploy")
        acknowledge(self.policy, Ack(
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken, ecs:DescribeTaskDefinition and ecs:ListTaskDefinitions have no "
            "resource-level permissions; every write is scoped to the platform's families, groups and repositories."))
        acknowledge_wildcards(
            self.policy,
            *[("ecs", f"task-definition/{n}:*",
               "Any revision of this domain's task-definition family: each deploy registers a new revision.")
              for n in names],
            ("dynamodb", f"table/{audit_table_name}/index/*",
             "Queries the audit trail by domain (byDomain index) to show approvals while waiting."),
            ("codedeploy", "deploymentconfig:*", "Reads whichever deployment config a group uses (predefined or shared)."),
            ("ssm", f"parameter/{platform_name}/*", "Reads the published deployment metadata of the platform."),
            ("cloudwatch", f"alarm:{platform_name}-*", "Shows the state of the platform's rollback alarms while waiting."))
        acknowledge_inline_policy(self.role)
        CfnOutput(self, "RoleArn", value=self.role.role_arn, export_name=f"{platform_name}-DeployRoleArn-{safe_repo}",
                  description=f"role-to-assume for {repository} (repository variable AWS_DEPLOY_ROLE_ARN)")


def _nag_table(table_arn: str) -> str:
    return "<AuditTable>"
