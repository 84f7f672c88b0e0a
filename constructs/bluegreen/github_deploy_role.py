"""GitHub Actions deploy access through OIDC: no long-lived keys, one least-privilege role per repository.

The role may register task definitions of the platform's families, pass only the domains' task and
execution roles, start deployments only through the platform's IAM-authenticated deploy API (it never
holds codedeploy:CreateDeployment: the registrar records who asked), read and stop deployments on the
platform's deployment groups, read the published parameters and the audit table, and push to the
domains' ECR repositories. Sessions last up to 12 hours (IAM's maximum) so long releases keep credentials. Every grant is scoped by
the platform's naming convention (`<platform>-<domain>`, repositories `<platform>/<domain>`), so the
policy has a fixed size whatever the number of domains (IAM caps a managed policy at 6,144 characters)
and a new domain needs no change here. It can never update an
ECS service directly and never answer an approval: CodeDeploy stays the single control plane.
"""
from __future__ import annotations

import re
from typing import Sequence

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge, acknowledge_inline_policy, acknowledge_wildcards
from bluegreen.deploy_api import START_PATH, invoke_arn_pattern

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"


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
                 audit_table_name: str,
                 max_session: Duration = Duration.hours(12)) -> None:
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
        family = f"{platform_name}-*"
        statements = [
            iam.PolicyStatement(sid="RegisterPlatformTaskDefinitions", actions=["ecs:RegisterTaskDefinition"],
                                resources=[f"{arn('ecs')}:task-definition/{family}:*"]),
            iam.PolicyStatement(sid="TagOnlyWhileRegistering", actions=["ecs:TagResource"],
                                resources=[f"{arn('ecs')}:task-definition/{family}:*"],
                                conditions={"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}),
            iam.PolicyStatement(sid="ReadTaskDefinitions",
                                actions=["ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"], resources=["*"]),
            iam.PolicyStatement(sid="ReadDomainServices", actions=["ecs:DescribeServices"],
                                resources=[f"{arn('ecs')}:service/{platform_name}-cluster/{family}"]),
            iam.PolicyStatement(sid="PassOnlyDomainRoles", actions=["iam:PassRole"],
                                resources=[f"arn:{stack.partition}:iam::{stack.account}:role/{family}-task",
                                           f"arn:{stack.partition}:iam::{stack.account}:role/{family}-execution"],
                                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
            iam.PolicyStatement(sid="StartDeploymentsThroughTheDeployApi", actions=["execute-api:Invoke"],
                                resources=[invoke_arn_pattern(stack.partition, stack.region, stack.account,
                                                              START_PATH)]),
            iam.PolicyStatement(sid="FollowAndStopDeployments",
                                actions=["codedeploy:GetDeployment",
                                         "codedeploy:GetDeploymentGroup", "codedeploy:ListDeployments",
                                         "codedeploy:BatchGetDeployments",
                                         "codedeploy:StopDeployment", "codedeploy:ListDeploymentTargets",
                                         "codedeploy:GetDeploymentTarget"],
                                resources=[f"{codedeploy}:deploymentgroup:{family}/{family}"]),
            iam.PolicyStatement(sid="RegisterAppSpecRevisions",
                                actions=["codedeploy:RegisterApplicationRevision",
                                         "codedeploy:GetApplicationRevision", "codedeploy:GetApplication"],
                                resources=[f"{codedeploy}:application:{family}"]),
            iam.PolicyStatement(sid="ReadDeploymentConfigs", actions=["codedeploy:GetDeploymentConfig"],
                                resources=[f"{codedeploy}:deploymentconfig:*"]),
            iam.PolicyStatement(sid="ReadPublishedMetadata", actions=["ssm:GetParameter"],
                                resources=[f"{arn('ssm')}:parameter/{platform_name}/*"]),
            # bgctl status batch-gets REGISTERED/APPROVAL/DECISION; bgctl watch queries one deployment
            iam.PolicyStatement(sid="ReadAuditTrail", actions=["dynamodb:BatchGetItem", "dynamodb:Query"],
                                resources=[audit_table_arn, f"{audit_table_arn}/index/*"]),
            iam.PolicyStatement(sid="ReadRollbackAlarms", actions=["cloudwatch:DescribeAlarms"],
                                resources=[f"{arn('cloudwatch')}:alarm:{platform_name}-*"]),
            iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(sid="PushDomainImages",
                                actions=["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
                                         "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
                                         "ecr:BatchGetImage", "ecr:DescribeImages"],
                                resources=[f"{arn('ecr')}:repository/{platform_name}/*"]),
        ]
        self.policy = iam.ManagedPolicy(self, "Policy", statements=statements, roles=[self.role],
                                        description=f"Deploy {platform_name} domains through CodeDeploy")
        acknowledge(self.policy, Ack(
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken, ecs:DescribeTaskDefinition and ecs:ListTaskDefinitions have no "
            "resource-level permissions; every write is scoped to the platform's families, groups and repositories."))
        convention = "Scoped by the platform's naming convention so the policy stays within IAM's size quota and " \
                     "new domains need no change; nothing outside this platform matches."
        acknowledge_wildcards(
            self.policy,
            ("ecs", f"task-definition/{family}:*", "Any revision of the platform's families: each deploy registers one. "
             + convention),
            ("ecs", f"service/{platform_name}-cluster/{family}", "Reads the platform's services. " + convention),
            ("codedeploy", f"deploymentgroup:{family}/{family}", "Follows and stops deployments only on the platform's "
             "groups. " + convention),
            ("execute-api", f"*/v1/POST/{START_PATH}", "Starts deployments only through the deploy API's POST "
             "/deployments (API ids are random, so the method is named instead; the API requires IAM auth)."),
            ("codedeploy", f"application:{family}", "Registers AppSpec revisions of the platform's applications. "
             + convention),
            ("ecr", f"repository/{platform_name}/*", "Pushes to the platform's domain repositories. " + convention),
            ("dynamodb", f"table/{audit_table_name}/index/*",
             "Queries the audit trail by domain (byDomain index) to show approvals while waiting."),
            ("codedeploy", "deploymentconfig:*", "Reads whichever deployment config a group uses (predefined or shared)."),
            ("ssm", f"parameter/{platform_name}/*", "Reads the published deployment metadata of the platform."),
            ("cloudwatch", f"alarm:{platform_name}-*", "Shows the state of the platform's rollback alarms while waiting."))
        acknowledge(self.policy, Ack(
            f"AwsSolutions-IAM5[Resource::{_nag_role_arn(stack, family + '-task')}]",
            "Passes only the platform's task roles (named <platform>-<domain>-task) to ecs-tasks. " + convention),
            Ack(f"AwsSolutions-IAM5[Resource::{_nag_role_arn(stack, family + '-execution')}]",
                "Passes only the platform's execution roles (named <platform>-<domain>-execution) to ecs-tasks. "
                + convention))
        acknowledge_inline_policy(self.role)
        CfnOutput(self, "RoleArn", value=self.role.role_arn,
                  description=f"role-to-assume for {repository} (repository variable AWS_DEPLOY_ROLE_ARN)")


def _nag_table(table_arn: str) -> str:
    return "<AuditTable>"


def _nag_role_arn(stack: Stack, name: str) -> str:
    from aws_cdk import Token

    partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    return f"arn:{partition}:iam::{account}:role/{name}"
