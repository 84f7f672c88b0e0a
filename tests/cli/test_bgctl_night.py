"""The operator's bad night, scripted: deploy -> the network drops while watching -> resume -> a bad release
is noticed -> `bgctl rollback` -> production is back on the previous revision. Every step is visible (the
whole transcript is a golden file), every exit code says what happened, and every step leaves a --json record.

AWS: moto (SSM, ECS, ECR, DynamoDB), CodeDeploy simulated on a real botocore client (codedeploy_sim), the deploy
API as a real HTTP server on 127.0.0.1 whose registrar plays the approval gate's part for rollbacks: the rollback
to a revision that ran in production comes back auto-approved (the rule itself is the gate's, issue 12)."""
from __future__ import annotations

import json
import re
import shlex
from datetime import timedelta
from typing import Any

import pytest

from bgctl_scenario import INSTALLED, PENDING, SMOKE_PASSED, TESTED, State
from bgctl_testkit import PLATFORM, START, Cli, Platform, golden
from codedeploy_sim import CodeDeploySim, registrar_for
from deploy_api_fake import DeployApiFake

DONE = {name: "Succeeded" for name in ("BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic",
                                       "AfterAllowTestTraffic", "BeforeAllowTraffic", "AllowTraffic",
                                       "AfterAllowTraffic")}
APPROVED = dict(PENDING, status="APPROVED", decidedBy={"slackUserId": "U0CAROL", "name": "Carol"}, decidedVia="slack",
                decidedAt="2026-03-02T10:00:40Z", reason="looks good")
AUTO_APPROVED = dict(PENDING, status="APPROVED", decidedBy={"name": "rollback rule"}, decidedVia="rollback-rule",
                     decidedAt="2026-03-02T10:01:33Z",
                     reason="operator rollback to a revision that ran in production")


def release_timeline() -> list[State]:
    return [
        State(events={"BeforeInstall": "Succeeded", "Install": "InProgress"}, green=(0.0, 0, 2)),
        State(events={**INSTALLED, "AfterAllowTestTraffic": "InProgress"}, green=(0.0, 2, 2)),
        State(events={**TESTED, "BeforeAllowTraffic": "InProgress"}, green=(0.0, 2, 2), smoke=SMOKE_PASSED,
              approval=PENDING, repeat=3),
        State(events={**TESTED, "BeforeAllowTraffic": "Succeeded", "AllowTraffic": "InProgress"},
              blue=(90.0, 2, 2), green=(10.0, 2, 2), smoke=SMOKE_PASSED, approval=APPROVED),
        State(events=DONE, blue=(0.0, 2, 2), green=(100.0, 2, 2), smoke=SMOKE_PASSED, approval=APPROVED,
              draining=True, repeat=2),
        State(status="Succeeded", events=DONE, blue=None, green=(100.0, 2, 2), smoke=SMOKE_PASSED, approval=APPROVED),
    ]


def rollback_timeline() -> list[State]:
    return [
        State(events={"BeforeInstall": "Succeeded", "Install": "InProgress"}, green=(0.0, 0, 2)),
        State(events={**TESTED}, green=(0.0, 2, 2), smoke=SMOKE_PASSED),
        State(events={**TESTED, "BeforeAllowTraffic": "Succeeded", "AllowTraffic": "InProgress"},
              blue=(100.0, 2, 2), green=(0.0, 2, 2), smoke=SMOKE_PASSED, approval=AUTO_APPROVED),
        State(events=DONE, blue=(0.0, 2, 2), green=(100.0, 2, 2), smoke=SMOKE_PASSED, approval=AUTO_APPROVED,
              draining=True),
        State(status="Succeeded", events=DONE, blue=None, green=(100.0, 2, 2), smoke=SMOKE_PASSED,
              approval=AUTO_APPROVED),
    ]


def promote(platform: Platform, arn: str) -> None:
    """What CodeDeploy leaves behind after a successful deployment: the new task set is the service's only one."""
    cluster, service = f"{PLATFORM}-cluster", f"{PLATFORM}-auth"
    old = platform.ecs.describe_services(cluster=cluster, services=[service])["services"][0]["taskSets"]
    platform.ecs.create_task_set(cluster=cluster, service=service, taskDefinition=arn, launchType="FARGATE")
    for task_set in old:
        platform.ecs.delete_task_set(cluster=cluster, service=service, taskSet=task_set["taskSetArn"])


def production(platform: Platform) -> str:
    from bgctl.taskdef import revision_label

    service = platform.ecs.describe_services(cluster=f"{PLATFORM}-cluster", services=[f"{PLATFORM}-auth"])["services"][0]
    return revision_label(service["taskSets"][0]["taskDefinition"])


@pytest.fixture
def night(aws: Any) -> Any:
    sim = CodeDeploySim()
    api = DeployApiFake(registrar=registrar_for(sim, {"release": release_timeline(), "rollback": rollback_timeline()},
                                                ["d-NIGHT0001", "d-NIGHT0002"]))
    platform = Platform(deploy_api_url=api.url)
    sim.on_success = lambda deployment: promote(platform, deployment.task_definition)
    sim.succeeded("d-SEED00001", platform.task_definitions["auth"], START - timedelta(days=1))
    yield sim, api, platform
    api.close()


def test_the_operators_bad_night(night: Any, cli: Cli) -> None:
    sim, api, platform = night
    cli.overrides["codedeploy"] = sim.client
    transcript: list[str] = []
    records: list[dict[str, Any]] = []

    def step(title: str, *argv: str) -> int:
        """Run one command as a pipeline would (--json: the record on stdout, progress on stderr)."""
        result = cli(*argv, "--progress", "plain", "--json")
        transcript.append(f"$ bgctl {shlex.join(argv)}    # {title}")
        transcript.extend(f"  {line}" for line in result.err.splitlines())
        if argv[0] == "status":  # what a human sees
            transcript.extend(f"  {line}" for line in cli(*argv).out.splitlines())
        transcript.append(f"  -> exit {result.code}")
        records.append(json.loads(result.out))
        return result.code

    # 1. the release starts; three polls in, the network drops and stays down
    def drop_network(count: int) -> None:
        if count == 3:
            sim.network_down = True

    cli.clock.on_sleep = drop_network
    assert step("release v2", "deploy", "auth", "--image", platform.image("auth", "v2")) == 8
    assert production(platform) == f"{PLATFORM}-auth:1"

    # 2. the network is back: resume where the pipeline lost contact
    cli.clock.on_sleep = None
    sim.network_down = False
    assert step("resume", "watch", "d-NIGHT0001") == 0
    assert production(platform) == f"{PLATFORM}-auth:2"

    # 3. errors after the release: look, plan, roll back
    assert step("what runs", "status", "auth") == 0
    assert step("plan", "rollback", "auth", "--dry-run") == 0
    assert step("roll back", "rollback", "auth", "--reason", "5xx on POST /v1/tokens after d-NIGHT0001") == 0
    assert production(platform) == f"{PLATFORM}-auth:1"
    assert step("what runs now", "status", "auth") == 0

    # every exit code and --json record says what happened
    assert [(r["command"], r["exitCode"], r["outcome"]) for r in records] == [
        ("deploy", 8, "lost_contact"), ("watch", 0, "ok"), ("status", 0, "ok"), ("rollback", 0, "ok"),
        ("rollback", 0, "ok"), ("status", 0, "ok")]
    lost, resumed, _before, plan, rolled, after = records
    assert lost["resume"] == "bgctl watch d-NIGHT0001" and lost["deployment"]["id"] == "d-NIGHT0001"
    assert lost["error"].startswith("lost contact while watching: gave up on codedeploy GetDeployment after 6 attempts")
    assert (resumed["deployment"]["status"], resumed["deployment"]["kind"]) == ("Succeeded", "release")
    assert plan["data"]["targetTaskDefinition"].endswith(f"{PLATFORM}-auth:1")
    assert plan["data"]["ranInProduction"]["deploymentId"] == "d-SEED00001" and plan["data"]["dryRun"] is True
    assert (rolled["deployment"]["id"], rolled["deployment"]["kind"], rolled["deployment"]["status"]) == (
        "d-NIGHT0002", "rollback", "Succeeded")
    [deployments] = [d["deployments"] for d in after["data"]["domains"]]
    assert [(d["deploymentId"], d["kind"], d["status"]) for d in deployments] == [
        ("d-NIGHT0002", "rollback", "Succeeded"), ("d-NIGHT0001", "release", "Succeeded"),
        ("d-SEED00001", "release", "Succeeded")]
    assert deployments[0]["approval"]["decidedVia"] == "rollback-rule"
    # the deploy API saw one release and one rollback, both signed
    assert [(c.body["kind"], c.body["taskDefinitionArn"].rsplit(":", 1)[1]) for c in api.calls] == [
        ("release", "2"), ("rollback", "1")]
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", "\n".join(transcript) + "\n")
    golden("night_plain.txt", text)


def test_expired_credentials_mid_watch_is_lost_contact_with_the_fix(night: Any, cli: Cli) -> None:
    from botocore.exceptions import ClientError

    sim, _api, platform = night
    cli.overrides["codedeploy"] = sim.client
    polls = {"n": 0}

    def expire(operation: str) -> Any:
        if operation == "GetDeployment":
            polls["n"] += 1
            if polls["n"] > 2:
                return ClientError({"Error": {"Code": "ExpiredTokenException",
                                              "Message": "The security token included in the request is expired"},
                                    "ResponseMetadata": {"HTTPStatusCode": 400}}, "GetDeployment")
        return None

    sim.fault = expire
    result = cli("deploy", "auth", "--image", platform.image("auth", "v2"), "--progress", "plain")
    assert result.code == 8
    assert result.err_lines[-1] == (
        "bgctl: error: AWS credentials expired or were rejected while watching (ExpiredTokenException): refresh them "
        "(aws sso login / the OIDC step) and resume; deployment d-NIGHT0001 continues in CodeDeploy; resume with: "
        "bgctl watch d-NIGHT0001 (console: https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/"
        "d-NIGHT0001?region=eu-west-1)")


def test_rollback_of_an_in_flight_release_stops_it(night: Any, cli: Cli) -> None:
    sim, _api, platform = night
    cli.overrides["codedeploy"] = sim.client
    started = cli("deploy", "auth", "--image", platform.image("auth", "v2"), "--wait-until", "approval",
                  "--progress", "plain")
    assert started.code == 0, started.err
    result = cli("rollback", "auth", "--progress", "plain", "--json")
    assert result.code == 0, result.err
    assert "deployment d-NIGHT0001 stopped, rolled back by d-NIGHT0001R: production traffic is on the previous " \
           "(blue) task set" in result.err
    assert json.loads(result.out)["data"] == {"action": "stop", "deploymentId": "d-NIGHT0001", "dryRun": False,
                                              "autoRollback": True}
    assert production(platform) == f"{PLATFORM}-auth:1"


def test_stop_refused_by_aws_names_the_fallback(night: Any, cli: Cli) -> None:
    sim, _api, platform = night
    cli.overrides["codedeploy"] = sim.client
    assert cli("deploy", "auth", "--image", platform.image("auth", "v2"), "--wait-until", "started").code == 0
    sim.stop_error = ("InvalidDeploymentStatusException", "The deployment is in a state that cannot be stopped")
    result = cli("rollback", "auth", "--json")
    assert result.code == 7
    record = json.loads(result.out)
    assert record["outcome"] == "refused" and record["deployment"]["id"] == "d-NIGHT0001"
    assert "could not stop deployment d-NIGHT0001 of auth: AWS StopDeployment failed: " \
           "InvalidDeploymentStatusException" in record["error"]
    assert "Fallback: 'Stop and roll back' on https://eu-west-1.console.aws.amazon.com/" in record["error"]
