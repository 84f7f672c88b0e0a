"""Shared custom CodeDeploy ECS deployment configurations (one per distinct shape, not per domain).

Created through the release provider (`Custom::SharedEcsDeploymentConfig`): created once, found again when
re-added, never deleted, so no domain (of this app or another team's) loses the config it names.
"""
from __future__ import annotations

from typing import Iterable

from aws_cdk import CustomResource
from constructs import Construct

from bluegreen.traffic import TrafficShift

RESOURCE_TYPE = "Custom::SharedEcsDeploymentConfig"


class SharedDeploymentConfigs(Construct):
    """Attribute `by_name`: config name -> the custom resource that ensures it exists."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str, shifts: Iterable[TrafficShift],
                 service_token: str) -> None:
        super().__init__(scope, id)
        self.by_name: dict[str, CustomResource] = {}
        for shift in sorted(set(shifts), key=lambda s: (s.style, s.percentage, s.interval_minutes)):
            if shift.predefined_config_name:
                continue
            name = shift.custom_config_name(platform_name)
            self.by_name[name] = CustomResource(
                self, name, service_token=service_token, resource_type=RESOURCE_TYPE,
                properties={"Name": name, "Style": shift.style, "Percentage": str(shift.percentage),
                            "IntervalMinutes": str(shift.interval_minutes)})
