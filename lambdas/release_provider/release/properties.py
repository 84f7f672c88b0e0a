"""Typed views of custom-resource properties (CloudFormation passes every scalar as a string)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


class PropertyError(ValueError):
    """A property is missing or malformed: the resource fails with this message."""


def text(props: Mapping[str, Any], key: str) -> str:
    value = props.get(key)
    if not isinstance(value, str) or not value:
        raise PropertyError(f"property {key} is required (got {value!r})")
    return value


def integer(props: Mapping[str, Any], key: str) -> int:
    value = props.get(key)
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise PropertyError(f"property {key} must be a whole number (got {value!r})") from None


def boolean(props: Mapping[str, Any], key: str) -> bool:
    value = str(props.get(key, "")).lower()
    if value not in ("true", "false"):
        raise PropertyError(f"property {key} must be true or false (got {props.get(key)!r})")
    return value == "true"


def string_map(props: Mapping[str, Any], key: str) -> dict[str, str]:
    value = props.get(key) or {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise PropertyError(f"property {key} must be a map of strings (got {value!r})")
    return dict(value)


@dataclass(frozen=True)
class TriggerProperties:
    """`Custom::CodeDeployBlueGreenDeployment`: release the stack's task-definition revision through CodeDeploy."""

    domain: str
    stack_name: str
    application: str
    deployment_group: str
    cluster: str
    service: str
    task_definition_arn: str
    container_name: str
    container_port: int
    config_image: str
    hooks: dict[str, str]
    budget_minutes: int
    last: bool  # no waiter follows: when the budget is spent, fail (CloudFormation then rolls back)

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> "TriggerProperties":
        return cls(domain=text(props, "Domain"), stack_name=text(props, "StackName"),
                   application=text(props, "ApplicationName"), deployment_group=text(props, "DeploymentGroupName"),
                   cluster=text(props, "ClusterName"), service=text(props, "ServiceName"),
                   task_definition_arn=text(props, "TaskDefinitionArn"), container_name=text(props, "ContainerName"),
                   container_port=integer(props, "ContainerPort"), config_image=text(props, "ConfigImage"),
                   hooks=string_map(props, "Hooks"), budget_minutes=integer(props, "WaitBudgetMinutes"),
                   last=boolean(props, "Last"))


@dataclass(frozen=True)
class WaiterProperties:
    """`Custom::CodeDeployDeploymentWaiter`: keep waiting for the trigger's deployment (CloudFormation gives one
    custom resource at most an hour)."""

    domain: str
    deployment_id: str
    budget_minutes: int
    last: bool

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> "WaiterProperties":
        return cls(domain=text(props, "Domain"), deployment_id=text(props, "DeploymentId"),
                   budget_minutes=integer(props, "WaitBudgetMinutes"), last=boolean(props, "Last"))


@dataclass(frozen=True)
class StickinessProperties:
    """`Custom::ProductionListenerStickiness`: target-group stickiness on the live forward action."""

    listener_arn: str
    application: str
    deployment_group: str
    enabled: bool
    duration_seconds: int

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> "StickinessProperties":
        return cls(listener_arn=text(props, "ListenerArn"), application=text(props, "ApplicationName"),
                   deployment_group=text(props, "DeploymentGroupName"), enabled=boolean(props, "Enabled"),
                   duration_seconds=integer(props, "DurationSeconds"))


@dataclass(frozen=True)
class DeploymentConfigProperties:
    """`Custom::SharedEcsDeploymentConfig`: a custom ECS deployment config that is created once, never deleted."""

    name: str
    style: str
    percentage: int
    interval_minutes: int

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> "DeploymentConfigProperties":
        style = text(props, "Style")
        if style not in ("canary", "linear"):
            raise PropertyError(f"property Style must be canary or linear (got {style!r})")
        return cls(name=text(props, "Name"), style=style, percentage=integer(props, "Percentage"),
                   interval_minutes=integer(props, "IntervalMinutes"))
