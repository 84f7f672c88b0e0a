"""`bgctl rollback`: stop the in-flight deployment with rollback, or redeploy the previous revision."""
from __future__ import annotations

import json
from typing import Any

import pytest

from bgctl_scenario import INSTALLED, Script, State
from bgctl_testkit import PLATFORM, Cli, Platform

IN_FLIGHT = ["Created", "Queued", "InProgress", "Baking", "Ready"]


def _stub_in_flight(script: Script, deployment_id: str = "d-GOLDEN001") -> None:
    script.cd.add_response("list_deployments", {"deployments": [deployment_id]}, {
        "applicationName": f"{PLATFORM}-auth", "deploymentGroupName": f"{PLATFORM}-auth",
        "includeOnlyStatuses": IN_FLIGHT})
    script.cd.add_response("stop_deployment", {"status": "Pending", "statusMessage": "Stopping, rolling back"},
                           {"deploymentId": deployment_id, "autoRollbackEnabled": True})


@pytest.mark.usefixtures("platform_params")
def test_in_flight_deployment_is_stopped_with_rollback(cli: Cli) -> None:
    with Script() as script:
        _stub_in_flight(script)
        cli.overrides.update(script.overrides)
        result = cli("rollback", "auth", "--wait-until", "started")
        script.assert_done()
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "stopping deployment d-GOLDEN001 of auth with automatic rollback: Pending (Stopping, rolling back)",
        "follow it with: bgctl watch d-GOLDEN001"]


@pytest.mark.usefixtures("platform_params")
@pytest.mark.parametrize(("final", "code", "text"), [
    (State(status="Stopped", events=INSTALLED, rollback_id="d-ROLLBACK1", error=("MANUAL_STOP", "stopped")), 0,
     "deployment d-GOLDEN001 stopped, rolled back by d-ROLLBACK1: production traffic is on the previous (blue) "
     "task set"),
    (State(status="Succeeded", events=INSTALLED), 3,
     "bgctl: error: deployment d-GOLDEN001 completed before the stop took effect; run `bgctl rollback auth` again "
     "to redeploy the previous revision"),
])
def test_waiting_for_the_stop(cli: Cli, final: State, code: int, text: str) -> None:
    with Script() as script:
        _stub_in_flight(script)
        script.queue([State(events=INSTALLED), final], watch_lookup=False)
        cli.overrides.update(script.overrides)
        result = cli("rollback", "auth", "--progress", "plain")
        script.assert_done()
    assert result.code == code
    assert text in (result.out if code == 0 else result.err)


@pytest.mark.usefixtures("platform_params")
def test_stop_racing_completion_exits_7(cli: Cli) -> None:
    with Script() as script:
        script.cd.add_response("list_deployments", {"deployments": ["d-GOLDEN001"]})
        script.cd.add_client_error("stop_deployment", service_error_code="DeploymentAlreadyCompletedException",
                                   service_message="done", http_status_code=400)
        cli.overrides.update(script.overrides)
        result = cli("rollback", "auth")
    assert result.code == 7 and "finished before it could be stopped" in result.err


def _promote(platform: Platform, arn: str, domain: str = "auth") -> None:
    """Make `arn` the task definition in production (what CodeDeploy does at the end of a deployment)."""
    cluster, service = f"{PLATFORM}-cluster", f"{PLATFORM}-{domain}"
    old = platform.ecs.describe_services(cluster=cluster, services=[service])["services"][0]["taskSets"]
    platform.ecs.create_task_set(cluster=cluster, service=service, taskDefinition=arn, launchType="FARGATE")
    for task_set in old:
        platform.ecs.delete_task_set(cluster=cluster, service=service, taskSet=task_set["taskSetArn"])


def _succeeded_deployment(platform: Platform, task_definition: str) -> str:
    from bgctl import appspec

    spec = appspec.build(task_definition_arn=task_definition, container_name="app", container_port=8080, hooks={})
    deployment_id = platform.codedeploy.create_deployment(
        applicationName=f"{PLATFORM}-auth", deploymentGroupName=f"{PLATFORM}-auth",
        revision=appspec.revision(spec), description="seed | requester=github:bob source=bgctl")["deploymentId"]
    platform.set_status(deployment_id, "Succeeded")
    return deployment_id


def _created(platform: Platform, out: str) -> dict[str, Any]:
    line = next(line for line in out.splitlines() if "created rollback deployment" in line)
    deployment_id = line.split("created rollback deployment ")[1].split(":")[0]
    info = platform.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    info["taskDefinition"] = json.loads(info["revision"]["appSpecContent"]["content"])["Resources"][0][
        "TargetService"]["Properties"]["TaskDefinition"]
    return info


def test_redeploys_the_previous_successful_revision(platform: Platform, cli: Cli) -> None:
    first = platform.task_definitions["auth"]
    second = platform.register("auth", image=platform.image("auth", "v2"))
    third = platform.register("auth", image=platform.image("auth", "abc123"))  # a failed release, never live
    _succeeded_deployment(platform, first)
    _succeeded_deployment(platform, second)
    _promote(platform, second)
    result = cli("rollback", "auth", "--wait-until", "started", "--reason", "p99 | regression",
                 env={"GITHUB_ACTOR": "carol"})
    assert result.code == 0, result.err
    info = _created(platform, result.out)
    assert info["taskDefinition"] == first != third
    assert info["description"] == (f"Rollback auth to {PLATFORM}-auth:1: p99 / regression | requester=github:carol "
                                   f"image={platform.image('auth', 'v1')} source=bgctl action=rollback")
    assert f"{PLATFORM}-auth:2 -> {PLATFORM}-auth:1" in result.out
    spec = json.loads(info["revision"]["appSpecContent"]["content"])
    assert [next(iter(h)) for h in spec["Hooks"]] == ["AfterAllowTestTraffic", "BeforeAllowTraffic"]


def test_without_history_the_previous_family_revision_is_used(platform: Platform, cli: Cli) -> None:
    second = platform.register("auth", image=platform.image("auth", "v2"))
    _promote(platform, second)
    result = cli("rollback", "auth", "--wait-until", "started")
    assert result.code == 0, result.err
    assert _created(platform, result.out)["taskDefinition"] == platform.task_definitions["auth"]


def test_deregistered_previous_revision_is_registered_again(platform: Platform, cli: Cli) -> None:
    second = platform.register("auth", image=platform.image("auth", "v2"))
    _succeeded_deployment(platform, platform.task_definitions["auth"])
    _promote(platform, second)
    platform.ecs.deregister_task_definition(taskDefinition=platform.task_definitions["auth"])
    result = cli("rollback", "auth", "--wait-until", "started")
    assert result.code == 0, result.err
    assert f"{PLATFORM}-auth:1 is deregistered; registered a copy as {PLATFORM}-auth:3" in result.out
    assert _created(platform, result.out)["taskDefinition"].endswith(f"{PLATFORM}-auth:3")


def test_nothing_to_roll_back_to_exits_3(platform: Platform, cli: Cli) -> None:
    result = cli("rollback", "auth")
    assert result.code == 3
    assert result.err_lines == [f"bgctl: error: no previous revision of {PLATFORM}-auth to roll back to "
                                f"(production runs {PLATFORM}-auth:1)"]


def test_rollback_validates_before_aws(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    assert cli("rollback", "AUTH").code == 2
    assert cli("rollback", "auth", "--requester", "a b").code == 2
