"""Which handler serves which custom-resource type."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from release import deployment_configs, stickiness, trigger
from release.outcome import complete

TRIGGER = "Custom::CodeDeployBlueGreenDeployment"
WAITER = "Custom::CodeDeployDeploymentWaiter"
STICKINESS = "Custom::ProductionListenerStickiness"
DEPLOYMENT_CONFIG = "Custom::SharedEcsDeploymentConfig"
TYPES = (TRIGGER, WAITER, STICKINESS, DEPLOYMENT_CONFIG)


class UnknownResourceType(ValueError):
    pass


def _type(event: Mapping[str, Any]) -> str:
    resource_type = str(event.get("ResourceType", ""))
    if resource_type not in TYPES:
        raise UnknownResourceType(f"the release provider does not serve {resource_type!r} (serves {', '.join(TYPES)})")
    return resource_type


def on_event(event: Mapping[str, Any], clients: Callable[[str], Any], now: float) -> dict[str, Any]:
    resource_type = _type(event)
    if resource_type == TRIGGER:
        return trigger.on_event(event, trigger.Clients(codedeploy=clients("codedeploy"), ecs=clients("ecs"),
                                                       deploy_api=clients("deploy_api")), now)
    if resource_type == WAITER:
        return trigger.waiter_on_event(event, now)
    if resource_type == STICKINESS:
        return stickiness.on_event(event, codedeploy=clients("codedeploy"), elbv2=clients("elbv2"), now=now)
    return deployment_configs.on_event(event, codedeploy=clients("codedeploy"), now=now)


def is_complete(event: Mapping[str, Any], clients: Callable[[str], Any], now: float) -> dict[str, Any]:
    resource_type = _type(event)
    pair = trigger.Clients(codedeploy=clients("codedeploy"), ecs=clients("ecs"))
    if resource_type == TRIGGER:
        return trigger.is_complete(event, pair, now)
    if resource_type == WAITER:
        return trigger.waiter_is_complete(event, pair, now)
    return complete(event.get("Data"))
