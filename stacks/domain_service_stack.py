"""DomainServiceStack: one domain, deployable on its own once the platform exists."""
from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_codedeploy as codedeploy
from constructs import Construct

from bluegreen.config.model import DomainSpec
from bluegreen.feature_flags import DomainFlagsSpec
from bluegreen.domain_service import DomainService
from bluegreen.handles import PlatformHandles


class DomainServiceStack(Stack):
    def __init__(self, scope: Construct, id: str, *, spec: DomainSpec, platform: PlatformHandles,
                 deployment_config: codedeploy.IEcsDeploymentConfig | None = None,
                 feature_flags: DomainFlagsSpec | None = None, **kwargs) -> None:
        super().__init__(scope, id, description=f"{platform.platform_name}: {spec.name} domain service", **kwargs)
        self.domain = DomainService(self, "Domain", spec=spec, platform=platform, shard=spec.shard or 0,
                                    deployment_config=deployment_config, feature_flags=feature_flags)
