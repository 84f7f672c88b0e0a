"""CodeDeploy for one deployment group, answering a real botocore client through its own event hooks.

Deployments move along scripted timelines (`bgctl_scenario.State`), one state per GetDeployment, like the real
service moves while bgctl polls; every answer is validated against the CodeDeploy service model (as Stubber
does); faults are injected on demand: the network going down (botocore's real EndpointConnectionError),
expired credentials, StopDeployment refused. A deployment that succeeds puts its task definition in
production in moto's ECS, as CodeDeploy does, and writes its audit items (APPROVAL, SMOKE) into moto's table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from botocore.validate import validate_parameters

from bgctl_scenario import State, deployment_info, ecs_target
from bgctl_testkit import PLATFORM, START, audit_records, client, put_audit_item

GROUP = f"{PLATFORM}-auth"


@dataclass
class SimDeployment:
    deployment_id: str
    task_definition: str
    timeline: list[State]
    kind: str = "release"
    description: str = ""
    created: datetime = START
    position: int = 0
    polls_in_state: int = 0
    shown: State | None = None
    promoted: bool = False

    @property
    def state(self) -> State:
        return self.timeline[min(self.position, len(self.timeline) - 1)]


@dataclass
class CodeDeploySim:
    on_success: Callable[[SimDeployment], None] | None = None
    deployments: dict[str, SimDeployment] = field(default_factory=dict)
    network_down: bool = False
    fault: Callable[[str], Any] | None = None  # operation -> an exception to raise (or None)
    stop_error: tuple[str, str] | None = None
    calls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = client("codedeploy")
        self.client.meta.events.register_first("before-parameter-build.codedeploy.*", self._remember)
        self.client.meta.events.register_first("before-call.codedeploy.*", self._answer)
        self._dynamodb = client("dynamodb")

    # ------------------------------------------------------------------ scripting
    def add(self, deployment: SimDeployment) -> SimDeployment:
        self.deployments[deployment.deployment_id] = deployment
        return deployment

    def succeeded(self, deployment_id: str, task_definition: str, completed: datetime) -> None:
        """History: a deployment that put `task_definition` in production."""
        self.add(SimDeployment(deployment_id, task_definition, [State(status="Succeeded")], created=completed))

    # ------------------------------------------------------------------ botocore hooks
    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["sim_params"] = dict(params)

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        operation = model.name
        self.calls.append(operation)
        if self.network_down:
            raise EndpointConnectionError(endpoint_url="https://codedeploy.eu-west-1.amazonaws.com/")
        if self.fault is not None:
            error = self.fault(operation)
            if error is not None:
                raise error
        params = context.get("sim_params") or {}
        handler = getattr(self, f"_op_{operation}")
        answer = handler(params)
        if "Error" in answer:
            status = answer.pop("status", 400)
            return AWSResponse(None, status, {}, None), {**answer, "ResponseMetadata": {"HTTPStatusCode": status}}
        if model.output_shape is not None:
            validate_parameters(answer, model.output_shape)
        return AWSResponse(None, 200, {}, None), answer

    # ------------------------------------------------------------------ operations
    def _info(self, deployment: SimDeployment) -> dict[str, Any]:
        from bgctl import appspec

        info = deployment_info(deployment.state, deployment.deployment_id)
        info["createTime"] = deployment.created
        info["description"] = deployment.description or f"{deployment.kind} | kind={deployment.kind} source=bgctl"
        spec = appspec.build(task_definition_arn=deployment.task_definition, container_name="app",
                             container_port=8080, hooks={})
        info["revision"] = appspec.revision(spec)
        if deployment.state.status in ("Succeeded", "Failed", "Stopped"):
            info["completeTime"] = deployment.created + timedelta(minutes=5)
        return info

    def _settle(self, deployment: SimDeployment, state: State) -> None:
        """What the platform does around a state it shows: audit items, and production after success."""
        for record in audit_records(deployment.deployment_id, approval=state.approval, smoke=state.smoke):
            put_audit_item(self._dynamodb, record)
        if state.status == "Succeeded" and self.on_success is not None and not deployment.promoted:
            deployment.promoted = True
            self.on_success(deployment)

    def _op_ListDeployments(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("includeOnlyStatuses")
        ids = [d.deployment_id for d in sorted(self.deployments.values(), key=lambda d: d.created, reverse=True)
               if not wanted or d.state.status in wanted]
        return {"deployments": ids}

    def _op_BatchGetDeployments(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"deploymentsInfo": [self._info(self.deployments[i]) for i in params["deploymentIds"]
                                    if i in self.deployments]}

    def _op_GetDeployment(self, params: dict[str, Any]) -> dict[str, Any]:
        deployment = self.deployments.get(params["deploymentId"])
        if deployment is None:
            return {"Error": {"Code": "DeploymentDoesNotExistException", "Message": "no such deployment"}}
        shown = deployment.state
        info = self._info(deployment)
        deployment.shown = shown
        self._settle(deployment, shown)
        deployment.polls_in_state += 1
        if deployment.polls_in_state >= shown.repeat and deployment.position < len(deployment.timeline) - 1:
            deployment.position += 1
            deployment.polls_in_state = 0
        return {"deploymentInfo": info}

    def _op_ListDeploymentTargets(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"targetIds": [f"{PLATFORM}-cluster:{GROUP}"]}

    def _op_GetDeploymentTarget(self, params: dict[str, Any]) -> dict[str, Any]:
        deployment = self.deployments[params["deploymentId"]]
        return {"deploymentTarget": {"deploymentTargetType": "ECSTarget",
                                     "ecsTarget": ecs_target(deployment.shown or deployment.state,
                                                             deployment.deployment_id)}}

    def _op_GetDeploymentGroup(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"deploymentGroupInfo": {"applicationName": GROUP, "deploymentGroupName": GROUP,
                                        "alarmConfiguration": {"enabled": False, "alarms": []}}}

    def _op_StopDeployment(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.stop_error:
            code, message = self.stop_error
            return {"Error": {"Code": code, "Message": message}}
        deployment = self.deployments[params["deploymentId"]]
        deployment.timeline = deployment.timeline[: deployment.position] + [
            State(status="Stopped", events={"AllowTraffic": "Failed"}, rollback_id=f"{deployment.deployment_id}R",
                  error=("MANUAL_STOP", "The deployment was stopped by a user"))]
        deployment.polls_in_state = 0
        return {"status": "Pending", "statusMessage": "Stopping, rolling back"}


def registrar_for(sim: CodeDeploySim, timelines: dict[str, list[State]], ids: list[str]) -> Callable[..., Any]:
    """The deploy API's registrar over the simulator: one scripted timeline per kind, ids handed out in order,
    and the immutable REGISTERED record in moto's audit table (docs/deploy-api.md)."""
    dynamodb = client("dynamodb")

    def register(body: dict[str, Any]) -> tuple[int, Any]:
        running = [d for d in sim.deployments.values() if d.state.status not in ("Succeeded", "Failed", "Stopped")]
        if running:
            return 409, {"error": {"code": "deployment_in_flight", "message": f"{running[0].deployment_id} is in "
                                                                               "flight"},
                         "deploymentId": running[0].deployment_id}
        deployment_id = ids.pop(0)
        kind = str(body["kind"])
        created = START + timedelta(hours=len(sim.deployments))
        sim.add(SimDeployment(deployment_id, str(body["taskDefinitionArn"]), [State(**vars(s)) for s in timelines[kind]],
                              kind=kind, description=f"{body.get('reason')} | kind={kind} source={body.get('source')}",
                              created=created))
        requester = {"principalArn": "arn:aws:sts::123456789012:assumed-role/PlatformOperator/carol",
                     "githubActor": None, "verifiedBy": ["iam"]}
        put_audit_item(dynamodb, {"pk": f"DEPLOYMENT#{deployment_id}", "sk": "REGISTERED", "domain": "auth",
                                  "kind": kind, "taskDefinitionArn": body["taskDefinitionArn"],
                                  "requestedAt": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "requester": requester,
                                  "source": body.get("source"), "reason": body.get("reason")})
        return 201, {"deploymentId": deployment_id, "requester": requester,
                     "consoleUrl": "https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/"
                                   f"{deployment_id}?region=eu-west-1"}

    return register


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)
