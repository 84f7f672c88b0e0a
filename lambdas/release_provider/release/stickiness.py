"""`Custom::ProductionListenerStickiness`: stickiness on the production listener without touching its colour.

The listener's CloudFormation properties never change after create (an update would re-apply the template's
forward-to-blue action whichever colour CodeDeploy made live). Stickiness, which a domain may change later,
is set here instead: read the live forward action (the target groups and weights CodeDeploy last wrote) and
write it back with the new `TargetGroupStickinessConfig`. Refused while a deployment shifts traffic.
"""
from __future__ import annotations

from typing import Any, Mapping

from release import deployments
from release.outcome import NONE, Refused, on_event_result
from release.properties import StickinessProperties


def desired(props: StickinessProperties) -> dict[str, Any]:
    return {"Enabled": True, "DurationSeconds": props.duration_seconds} if props.enabled else {"Enabled": False}


def _forward_action(listener: Mapping[str, Any]) -> dict[str, Any]:
    for action in listener.get("DefaultActions") or []:
        if action.get("Type") == "forward":
            return dict(action)
    raise Refused(f"listener {listener.get('ListenerArn')} has no forward action; nothing CodeDeploy manages")


def live_forward(action: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(target groups with weights, stickiness) of a forward action, in either of ELB's two shapes."""
    config = action.get("ForwardConfig") or {}
    groups = [{"TargetGroupArn": g["TargetGroupArn"], "Weight": int(g.get("Weight", 1))}
              for g in config.get("TargetGroups") or []]
    if not groups and action.get("TargetGroupArn"):
        groups = [{"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}]
    stickiness = dict(config.get("TargetGroupStickinessConfig") or {"Enabled": False})
    if not stickiness.get("Enabled"):
        stickiness = {"Enabled": False}
    return groups, stickiness


def on_event(event: Mapping[str, Any], *, codedeploy: Any, elbv2: Any, now: float) -> dict[str, Any]:
    props = StickinessProperties.parse(event["ResourceProperties"])
    physical = f"{props.listener_arn}/stickiness"
    if event["RequestType"] == "Delete":
        return on_event_result(physical, action=NONE, started_at=now)
    listener = elbv2.describe_listeners(ListenerArns=[props.listener_arn])["Listeners"][0]
    action = _forward_action(listener)
    groups, current = live_forward(action)
    wanted = desired(props)
    if current == wanted:
        return on_event_result(physical, action=NONE, started_at=now, Stickiness=str(wanted))
    busy = deployments.in_flight(codedeploy, props.application, props.deployment_group)
    if busy:
        raise Refused(f"stickiness of {props.deployment_group} cannot change while deployment "
                      f"{busy[0].deployment_id} shifts traffic; CloudFormation changed nothing. Run `cdk deploy` "
                      "again once it has finished.")
    forward: dict[str, Any] = {"Type": "forward",
                               "ForwardConfig": {"TargetGroups": groups, "TargetGroupStickinessConfig": wanted}}
    if "Order" in action:
        forward["Order"] = action["Order"]
    elbv2.modify_listener(ListenerArn=props.listener_arn, DefaultActions=[forward])
    return on_event_result(physical, action="modified", started_at=now, Stickiness=str(wanted),
                           LiveTargetGroups=",".join(g["TargetGroupArn"] for g in groups))
