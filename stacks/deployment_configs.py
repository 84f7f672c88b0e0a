"""Shared custom CodeDeploy ECS deployment configurations (one per distinct shape, not per domain)."""
from __future__ import annotations

from typing import Iterable

from aws_cdk import aws_codedeploy as codedeploy
from constructs import Construct

from bluegreen.traffic import TrafficShift


class SharedDeploymentConfigs(Construct):
    """Creates `AWS::CodeDeploy::DeploymentConfig` for shifts that no predefined ECS config matches.

    Attribute `by_name`: config name -> created config.
    """

    def __init__(self, scope: Construct, id: str, *, platform_name: str, shifts: Iterable[TrafficShift]) -> None:
        super().__init__(scope, id)
        self.by_name: dict[str, codedeploy.EcsDeploymentConfig] = {}
        for shift in sorted(set(shifts), key=lambda s: (s.style, s.percentage, s.interval_minutes)):
            if shift.predefined_config_name:
                continue
            name = shift.custom_config_name(platform_name)
            if shift.style == "canary":
                routing = codedeploy.TrafficRouting.time_based_canary(
                    interval=_minutes(shift.interval_minutes), percentage=shift.percentage)
            else:
                routing = codedeploy.TrafficRouting.time_based_linear(
                    interval=_minutes(shift.interval_minutes), percentage=shift.percentage)
            self.by_name[name] = codedeploy.EcsDeploymentConfig(
                self, name, deployment_config_name=name, traffic_routing=routing)


def _minutes(value: int):
    from aws_cdk import Duration

    return Duration.minutes(value)
