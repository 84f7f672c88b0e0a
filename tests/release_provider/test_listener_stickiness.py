"""Stickiness is written onto the live forward action, keeping whichever target groups and weights CodeDeploy
made live; it never goes through the listener resource (whose update would send production back to blue)."""
from __future__ import annotations

import pytest

from fakes import FakeCodeDeploy, FakeElb
from release import resources
from release.outcome import Refused

STICKINESS = "Custom::ProductionListenerStickiness"
LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/p-internal/abc/def"
BLUE = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/p-shop-blue/1"
GREEN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/p-shop-green/2"


def event(request: str, enabled: str = "true", seconds: str = "360", old: dict | None = None) -> dict:
    found = {"RequestType": request, "ResourceType": STICKINESS, "LogicalResourceId": "Stickiness",
             "ResourceProperties": {"ListenerArn": LISTENER, "ApplicationName": "p-shop",
                                    "DeploymentGroupName": "p-shop", "Enabled": enabled, "DurationSeconds": seconds}}
    if old:
        found["OldResourceProperties"] = old
    return found


def run(evt: dict, elb: FakeElb, codedeploy: FakeCodeDeploy | None = None) -> dict:
    clients = {"elbv2": elb, "codedeploy": codedeploy or FakeCodeDeploy()}
    return resources.on_event(evt, clients.__getitem__, 0.0)


def test_green_stays_live_when_stickiness_is_set():
    """After an odd-numbered deployment green is live: the new action must still forward to green only."""
    elb = FakeElb([{"Type": "forward", "TargetGroupArn": GREEN}])
    result = run(event("Update", seconds="300"), elb)
    (_, request), = elb.calls
    assert request["DefaultActions"] == [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": GREEN, "Weight": 1}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 300}}}]
    assert result["Data"]["LiveTargetGroups"] == GREEN


def test_weights_are_kept_as_codedeploy_wrote_them():
    elb = FakeElb([{"Type": "forward", "Order": 1, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": BLUE, "Weight": 90}, {"TargetGroupArn": GREEN, "Weight": 10}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 3600}}}])
    run(event("Create", seconds="360"), elb)
    (_, request), = elb.calls
    (action,) = request["DefaultActions"]
    assert action["Order"] == 1
    assert action["ForwardConfig"]["TargetGroups"] == [{"TargetGroupArn": BLUE, "Weight": 90},
                                                       {"TargetGroupArn": GREEN, "Weight": 10}]


def test_disabling_stickiness_for_an_all_at_once_domain():
    elb = FakeElb([{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": BLUE, "Weight": 1}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 360}}}])
    run(event("Update", enabled="false", seconds="0"), elb)
    (_, request), = elb.calls
    assert request["DefaultActions"][0]["ForwardConfig"]["TargetGroupStickinessConfig"] == {"Enabled": False}


def test_nothing_is_written_when_the_live_action_already_matches():
    elb = FakeElb([{"Type": "forward", "TargetGroupArn": BLUE}])
    result = run(event("Create", enabled="false", seconds="0"), elb)
    assert elb.calls == [] and result["Data"]["Action"] == "none"


def test_refused_while_a_deployment_shifts_traffic():
    codedeploy = FakeCodeDeploy()
    busy = codedeploy.add("InProgress", "x | source=bgctl")
    elb = FakeElb([{"Type": "forward", "TargetGroupArn": BLUE}])
    with pytest.raises(Refused, match=f"while deployment {busy} shifts traffic; CloudFormation changed nothing"):
        run(event("Update"), elb, codedeploy)
    assert elb.calls == []


def test_delete_leaves_the_listener_alone():
    elb = FakeElb([{"Type": "forward", "TargetGroupArn": GREEN}])
    assert run(event("Delete"), elb)["Data"]["Action"] == "none" and elb.calls == []
