"""`Custom::SharedEcsDeploymentConfig`: a custom ECS deployment config created once and never deleted.

Configs are shared by every domain with the same traffic shape and named by that shape. A domain (in this
app or another team's) may use one after the platform's config stops listing it, so removing it from the
template never deletes it, and adding it again finds it instead of failing on the name.
"""
from __future__ import annotations

from typing import Any, Mapping

from release.outcome import NONE, Refused, on_event_result
from release.properties import DeploymentConfigProperties


def routing(props: DeploymentConfigProperties) -> dict[str, Any]:
    if props.style == "canary":
        return {"type": "TimeBasedCanary", "timeBasedCanary": {
            "canaryPercentage": props.percentage, "canaryInterval": props.interval_minutes}}
    return {"type": "TimeBasedLinear", "timeBasedLinear": {
        "linearPercentage": props.percentage, "linearInterval": props.interval_minutes}}


def on_event(event: Mapping[str, Any], *, codedeploy: Any, now: float) -> dict[str, Any]:
    props = DeploymentConfigProperties.parse(event["ResourceProperties"])
    if event["RequestType"] == "Delete":
        return on_event_result(event.get("PhysicalResourceId") or props.name, action=NONE, started_at=now,
                               Reason="kept: a domain may still use it")
    wanted = routing(props)
    try:
        existing = codedeploy.get_deployment_config(deploymentConfigName=props.name)["deploymentConfigInfo"]
    except Exception as exc:  # noqa: BLE001 - only "does not exist" means create
        if getattr(exc, "response", {}).get("Error", {}).get("Code") != "DeploymentConfigDoesNotExistException":
            raise
        existing = None
    if existing is None:
        codedeploy.create_deployment_config(deploymentConfigName=props.name, computePlatform="ECS",
                                            trafficRoutingConfig=wanted)
        return on_event_result(props.name, action="created", started_at=now)
    if existing.get("trafficRoutingConfig") != wanted:
        raise Refused(f"deployment config {props.name} already exists with another traffic shape "
                      f"({existing.get('trafficRoutingConfig')}); its name must describe its shape")
    return on_event_result(props.name, action="found", started_at=now)
