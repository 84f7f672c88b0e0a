"""DeployAccessStack: GitHub OIDC provider and one deploy role per configured repository.

Separate from the platform so access can be granted and revoked without touching running services.
Grants follow the platform's naming convention, so adding a domain needs no change here.
"""
from __future__ import annotations

from typing import Sequence

from aws_cdk import Stack
from constructs import Construct

from bluegreen.config.model import GithubDeploySpec
from bluegreen.github_deploy_role import GITHUB_OIDC_URL, GithubDeployRole, GithubOidcProvider


def github_oidc_provider_arn(stack: Stack) -> str:
    """`arn:<partition>:iam::<account>:oidc-provider/token.actions.githubusercontent.com`."""
    host = GITHUB_OIDC_URL.removeprefix("https://")
    return f"arn:{stack.partition}:iam::{stack.account}:oidc-provider/{host}"


class DeployAccessStack(Stack):
    def __init__(self, scope: Construct, id: str, *, platform_name: str, deployers: Sequence[GithubDeploySpec],
                 existing_provider_arn: str | None, audit_table_name: str, create_provider: bool = False,
                 **kwargs) -> None:
        super().__init__(scope, id, description=f"{platform_name}: GitHub Actions deploy access (OIDC)", **kwargs)
        # One provider per URL per account, with a predictable ARN: reference it unless asked to create it.
        reference = None if create_provider else (existing_provider_arn or github_oidc_provider_arn(self))
        self.oidc = GithubOidcProvider(self, "GithubOidc", existing_provider_arn=reference)
        self.roles = {
            deployer.repository: GithubDeployRole(
                self, f"Deployer-{deployer.repository.replace('/', '-')}", platform_name=platform_name,
                provider=self.oidc.provider, repository=deployer.repository, branches=deployer.branches,
                environments=deployer.environments, audit_table_name=audit_table_name).role
            for deployer in deployers}
