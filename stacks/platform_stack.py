"""PlatformStack: the shared platform of the app (composition only; `bluegreen.platform` builds it)."""
from __future__ import annotations

from aws_cdk import Stack, Token
from constructs import Construct

from bluegreen.config.model import PlatformConfig
from bluegreen.platform import BlueGreenPlatform


class PlatformStack(Stack):
    """Attribute `platform`: the `BlueGreenPlatform`. Domain stacks read what it publishes from SSM; they hold
    no reference to this stack (deploy it first: `build_app` records that order as a stack dependency)."""

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig, **kwargs) -> None:
        self._zones = list(config.platform.zones)
        super().__init__(scope, id, description=f"{config.platform.name}: shared Blue/Green platform", **kwargs)
        self.platform = BlueGreenPlatform(self, "Platform", config=config)

    @property
    def availability_zones(self) -> list[str]:
        """Never an `availability-zones` context lookup (no AWS calls at synth): the configured zones when the
        account is known, Fn::GetAZs otherwise."""
        if Token.is_unresolved(self.account):
            return super().availability_zones
        return self._zones
