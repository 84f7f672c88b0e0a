"""Scripted deployment states for the watch / golden-output tests.

A scenario is a list of `State`s; `Script.queue` turns them into the exact API answers the watcher asks
for on each poll (Stubber responses for CodeDeploy, DynamoDB and CloudWatch), in the probe's call order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.stub import ANY, Stubber

from bgctl_testkit import AUDIT_TABLE, PLATFORM, START, audit_records, client

from bgruntime.approvals import to_attr

DEPLOYMENT_ID = "d-GOLDEN001"
ALARMS = ("bluegreen-auth-5xx", "bluegreen-auth-p99-latency")
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/auth:4f2c1ab"
DESCRIPTION = f"Deploy auth auth:4f2c1ab | requester=github:alice image={IMAGE} source=bgctl"
EVENTS = ("BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic",
          "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")


@dataclass
class State:
    status: str = "InProgress"
    events: dict[str, str] = field(default_factory=dict)
    blue: tuple[float, int, int] | None = (100.0, 2, 2)
    green: tuple[float, int, int] | None = None
    approval: dict[str, Any] | None = None
    smoke: dict[str, Any] | None = None
    alarms: dict[str, str] = field(default_factory=dict)
    draining: bool = False
    error: tuple[str, str] | None = None
    rollback_id: str | None = None
    ended: dict[str, datetime] = field(default_factory=dict)
    repeat: int = 1


def deployment_info(state: State, deployment_id: str = DEPLOYMENT_ID) -> dict[str, Any]:
    info: dict[str, Any] = {
        "applicationName": f"{PLATFORM}-auth", "deploymentGroupName": f"{PLATFORM}-auth",
        "deploymentId": deployment_id, "status": state.status, "description": DESCRIPTION, "creator": "user",
        "createTime": START, "computePlatform": "ECS",
        "instanceTerminationWaitTimeStarted": state.draining,
        "blueGreenDeploymentConfiguration": {"terminateBlueInstancesOnDeploymentSuccess": {
            "action": "TERMINATE", "terminationWaitTimeInMinutes": 1}},
    }
    if state.error:
        info["errorInformation"] = {"code": state.error[0], "message": state.error[1]}
    if state.rollback_id:
        info["rollbackInfo"] = {"rollbackDeploymentId": state.rollback_id,
                                "rollbackMessage": f"Deployment rolled back by {state.rollback_id}"}
    return info


def ecs_target(state: State, deployment_id: str = DEPLOYMENT_ID) -> dict[str, Any]:
    events = []
    for name in EVENTS:
        event: dict[str, Any] = {"lifecycleEventName": name, "status": state.events.get(name, "Pending")}
        if name in state.ended:
            event["endTime"] = state.ended[name]
        events.append(event)
    task_sets = []
    for label, values in (("Blue", state.blue), ("Green", state.green)):
        if values:
            task_sets.append({"identifer": f"ecs-svc/{label.lower()}", "taskSetLabel": label,
                              "trafficWeight": values[0], "runningCount": values[1], "desiredCount": values[2],
                              "pendingCount": 0, "status": "PRIMARY" if label == "Blue" else "ACTIVE",
                              "targetGroup": {"name": f"{PLATFORM}-auth-{label.lower()}"}})
    return {"deploymentId": deployment_id, "targetId": f"{PLATFORM}-cluster:{PLATFORM}-auth",
            "status": state.status if state.status in ("InProgress", "Succeeded", "Failed") else "InProgress",
            "lifecycleEvents": events, "taskSetsInfo": task_sets}


def audit_items(state: State, deployment_id: str = DEPLOYMENT_ID, *,
                partition: str = "DEPLOYMENT#") -> list[dict[str, Any]]:
    """The records of one partition (`DEPLOYMENT#` or `SMOKE#`) as DynamoDB returns them."""
    return [{k: to_attr(v) for k, v in record.items()}
            for record in audit_records(deployment_id, approval=state.approval, smoke=state.smoke)
            if record["pk"] == f"{partition}{deployment_id}"]


class Script:
    """Stubbed CodeDeploy / DynamoDB / CloudWatch clients answering the scenario poll by poll."""

    def __init__(self) -> None:
        self.codedeploy = client("codedeploy")
        self.dynamodb = client("dynamodb")
        self.cloudwatch = client("cloudwatch")
        self.stubs = [Stubber(self.codedeploy), Stubber(self.dynamodb), Stubber(self.cloudwatch)]
        self.cd, self.ddb, self.cw = self.stubs

    @property
    def overrides(self) -> dict[str, Any]:
        return {"codedeploy": self.codedeploy, "dynamodb": self.dynamodb, "cloudwatch": self.cloudwatch}

    def get_deployment(self, state: State, deployment_id: str = DEPLOYMENT_ID) -> None:
        self.cd.add_response("get_deployment", {"deploymentInfo": deployment_info(state, deployment_id)},
                             {"deploymentId": deployment_id})

    def queue(self, states: list[State], *, deployment_id: str = DEPLOYMENT_ID, alarms: tuple[str, ...] = ALARMS,
              watch_lookup: bool = True, audit: bool = True) -> None:
        if watch_lookup:  # `bgctl watch` reads the deployment once to learn its domain
            self.get_deployment(states[0], deployment_id)
        listed = False
        first = True
        for state in states:
            for _ in range(state.repeat):
                self.get_deployment(state, deployment_id)
                if state.status not in ("Created", "Queued"):
                    if not listed:
                        self.cd.add_response("list_deployment_targets",
                                             {"targetIds": [f"{PLATFORM}-cluster:{PLATFORM}-auth"]},
                                             {"deploymentId": deployment_id})
                        listed = True
                    self.cd.add_response("get_deployment_target",
                                         {"deploymentTarget": {"deploymentTargetType": "ECSTarget",
                                                               "ecsTarget": ecs_target(state, deployment_id)}},
                                         {"deploymentId": deployment_id, "targetId": ANY})
                if audit:  # the append-only approval records, then the smoke hook's own key space
                    for partition in ("DEPLOYMENT#", "SMOKE#"):
                        self.ddb.add_response(
                            "query", {"Items": audit_items(state, deployment_id, partition=partition)},
                            {"TableName": AUDIT_TABLE, "KeyConditionExpression": "pk = :pk",
                             "ExpressionAttributeValues": {":pk": {"S": f"{partition}{deployment_id}"}}})
                if first:
                    self.cd.add_response("get_deployment_group", {"deploymentGroupInfo": {
                        "applicationName": f"{PLATFORM}-auth", "deploymentGroupName": f"{PLATFORM}-auth",
                        "alarmConfiguration": {"enabled": True, "alarms": [{"name": a} for a in alarms]}}})
                    first = False
                if alarms:
                    self.cw.add_response("describe_alarms", {"MetricAlarms": [
                        {"AlarmName": a, "StateValue": state.alarms.get(a, "OK")} for a in alarms]},
                        {"AlarmNames": list(alarms)})

    def __enter__(self) -> "Script":
        for stub in self.stubs:
            stub.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        for stub in self.stubs:
            stub.deactivate()

    def assert_done(self) -> None:
        for stub in self.stubs:
            stub.assert_no_pending_responses()


PENDING = {"status": "PENDING", "slackChannel": "C0123", "requester": "github:alice",
           "requestedAt": "2026-03-02T10:00:09Z",
           "expiresAt": "2026-03-02T10:45:09Z", "image": IMAGE}
SMOKE_PASSED = {"status": "PASSED", "finishedAt": "2026-03-02T10:00:15Z", "checks": [
    {"name": "health", "passed": True, "status": 200, "latencyMs": 12},
    {"name": "login", "passed": True, "status": 200, "latencyMs": 85},
    {"name": "token-refresh", "passed": True, "status": 200, "latencyMs": 40}]}
SMOKE_FAILED = {"status": "FAILED", "finishedAt": "2026-03-02T10:00:15Z", "checks": [
    {"name": "health", "passed": True, "status": 200, "latencyMs": 12},
    {"name": "login", "passed": False, "status": 500, "latencyMs": 85, "detail": "HTTP 500"},
    {"name": "token-refresh", "passed": True, "status": 200, "latencyMs": 40}]}
INSTALLED = {"BeforeInstall": "Succeeded", "Install": "Succeeded", "AfterInstall": "Succeeded",
             "AllowTestTraffic": "Succeeded"}
TESTED = {**INSTALLED, "AfterAllowTestTraffic": "Succeeded"}


def happy_path(approval_polls: int = 22) -> list[State]:
    """Install, test traffic, approval (polled every 15 s), canary shift, drain, success."""
    decided = START + timedelta(seconds=10 + (approval_polls - 1) * 15 + 8)
    shifted = decided + timedelta(seconds=11)
    approved = dict(PENDING, status="APPROVED", decidedBy={"slackUserId": "U0CAROL", "name": "Carol"},
                    decidedVia="slack", decidedAt=decided.strftime("%Y-%m-%dT%H:%M:%SZ"), reason="looks good",
                    codeDeployStatus="Succeeded", codeDeployResult="OK")
    shift_done = {**TESTED, "BeforeAllowTraffic": "Succeeded", "AllowTraffic": "Succeeded",
                  "AfterAllowTraffic": "Succeeded"}
    ended = {"AllowTraffic": shifted, "AfterAllowTraffic": shifted}
    return [
        State(events={"BeforeInstall": "Succeeded", "Install": "InProgress"}, green=(0.0, 0, 2)),
        State(events={**INSTALLED, "AfterAllowTestTraffic": "InProgress"}, green=(0.0, 2, 2)),
        State(events={**TESTED, "BeforeAllowTraffic": "InProgress"}, green=(0.0, 2, 2), smoke=SMOKE_PASSED,
              approval=PENDING, repeat=approval_polls),
        State(events={**TESTED, "BeforeAllowTraffic": "Succeeded", "AllowTraffic": "InProgress"},
              blue=(90.0, 2, 2), green=(10.0, 2, 2), smoke=SMOKE_PASSED, approval=approved),
        State(events=shift_done, blue=(0.0, 2, 2), green=(100.0, 2, 2), smoke=SMOKE_PASSED, approval=approved,
              draining=True, ended=ended, repeat=4),
        State(status="Succeeded", events={name: "Succeeded" for name in EVENTS}, blue=None, green=(100.0, 2, 2),
              smoke=SMOKE_PASSED, approval=approved, ended=ended),
    ]
