"""Compose the whole app from a validated config (no parsing here)."""
from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from bluegreen.compliance import add_nag_packs
from bluegreen.config.model import PlatformConfig
from bluegreen.handles import PlatformHandles
from stacks.deploy_access_stack import DeployAccessStack
from stacks.domain_service_stack import DomainServiceStack, domain_stack_name
from stacks.platform_stack import PlatformStack


@dataclass(frozen=True)
class BuiltApp:
    app: cdk.App
    platform: PlatformStack
    domains: dict[str, DomainServiceStack]
    deploy_access: DeployAccessStack | None


def stack_name(platform_name: str, part: str) -> str:
    return f"{platform_name.title().replace('-', '')}-{part}"


def build_app(config: PlatformConfig, *, app: cdk.App | None = None, nag: bool = True) -> BuiltApp:
    app = app or cdk.App()
    env = cdk.Environment(account=config.platform.account, region=config.platform.region)
    platform = PlatformStack(app, stack_name(config.platform.name, "Platform"), config=config, env=env)
    handles = PlatformHandles.from_config(config)
    domains: dict[str, DomainServiceStack] = {}
    for spec in config.domains:
        stack = DomainServiceStack(app, domain_stack_name(config.platform.name, spec.name), spec=spec,
                                   platform=handles, feature_flags=config.flags_for(spec.name), env=env)
        # Order only (`cdk deploy --all` deploys the platform first); no value crosses the stacks.
        stack.add_stack_dependency(platform, "reads the values the platform publishes to SSM")
        domains[spec.name] = stack
    deploy_access = None
    if config.platform.github_deployers:
        deploy_access = DeployAccessStack(
            app, stack_name(config.platform.name, "DeployAccess"), platform_name=config.platform.name,
            deployers=config.platform.github_deployers,
            existing_provider_arn=config.platform.existing_github_oidc_provider_arn,
            create_provider=config.platform.create_github_oidc_provider,
            audit_table_name=f"{config.platform.name}-deployments", env=env)
    # Never on listeners: any change to a listener resource re-applies its forward-to-blue action.
    cdk.Tags.of(app).add("platform", config.platform.name,
                         exclude_resource_types=["AWS::ElasticLoadBalancingV2::Listener"])
    if nag:
        add_nag_packs(app, hipaa=config.uses_tls)
    return BuiltApp(app=app, platform=platform, domains=domains, deploy_access=deploy_access)
