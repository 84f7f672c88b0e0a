"""DomainServiceStack: one domain in its own stack, deployable on its own once its platform exists.

Used by the platform's app for every domain of its config, and by a domain team's app for its own domain on a
deployed platform (docs/library.md): the same class, the same template for the same spec.
"""
from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from bluegreen.config.model import DomainSpec
from bluegreen.domain_service import DomainService
from bluegreen.feature_flags import DomainFlagsSpec
from bluegreen.handles import PlatformHandles


def domain_stack_name(platform_name: str, domain: str) -> str:
    """`Bluegreen-Domain-auth` for platform `bluegreen`, domain `auth` (the name the platform's app uses)."""
    return f"{platform_name.title().replace('-', '')}-Domain-{domain}"


class DomainServiceStack(Stack):
    """Attribute `domain`: the `DomainService`."""

    def __init__(self, scope: Construct, id: str, *, spec: DomainSpec, platform: PlatformHandles,
                 feature_flags: DomainFlagsSpec | None = None, **kwargs: Any) -> None:
        super().__init__(scope, id, description=f"{platform.platform_name}: {spec.name} domain service", **kwargs)
        self.domain = DomainService(self, "Domain", spec=spec, platform=platform, feature_flags=feature_flags)
