"""DomainServiceStack: one domain, deployable on its own once the platform exists."""
from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from bluegreen.config.model import DomainSpec
from bluegreen.domain_service import DomainService
from bluegreen.feature_flags import DomainFlagsSpec
from bluegreen.handles import PlatformHandles


class DomainServiceStack(Stack):
    def __init__(self, scope: Construct, id: str, *, spec: DomainSpec, platform: PlatformHandles,
                 feature_flags: DomainFlagsSpec | None = None, **kwargs) -> None:
        super().__init__(scope, id, description=f"{platform.platform_name}: {spec.name} domain service", **kwargs)
        self.domain = DomainService(self, "Domain", spec=spec, platform=platform, feature_flags=feature_flags)
