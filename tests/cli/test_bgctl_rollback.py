"""`bgctl rollback`: stop the in-flight deployment (and say what to do when AWS refuses), or redeploy the last
known-good revision through the deploy API as `kind: rollback`, with a plan first (`--dry-run`)."""
from __future__ import annotations

import json
from typing import Any

import pytest

from bgctl_scenario import INSTALLED, Script, State, deployment_info
from bgctl_testkit import PLATFORM, REGION, AwsJsonEndpoint, Cli, Platform

IN_FLIGHT = ["Created", "Queued", "InProgress", "Baking", "Ready"]
CONSOLE = f"https://{REGION}.console.aws.amazon.com/codesuite/codedeploy/deployments/d-GOLDEN001?region={REGION}"
FALLBACK = (f"it continues, nothing changed. Fallback: 'Stop and roll back' on {CONSOLE} or run `aws deploy "
            f"stop-deployment --deployment-id d-GOLDEN001 --auto-rollback-enabled --region {REGION}`")


def _stub_in_flight(script: Script, deployment_id: str = "d-GOLDEN001", *, stop: bool = True) -> None:
    script.cd.add_response("list_deployments", {"deployments": [deployment_id]}, {
        "applicationName": f"{PLATFORM}-auth", "deploymentGroupName": f"{PLATFORM}-auth",
        "includeOnlyStatuses": IN_FLIGHT})
    script.get_deployment(State(events=INSTALLED), deployment_id)
    if stop:
        script.cd.add_response("stop_deployment", {"status": "Pending", "statusMessage": "Stopping, rolling back"},
                               {"deploymentId": deployment_id, "autoRollbackEnabled": True})


@pytest.mark.usefixtures("platform_params")
def test_in_flight_deployment_is_stopped_with_its_id_shown_first(cli: Cli) -> None:
    with Script() as script:
        _stub_in_flight(script)
        cli.overrides.update(script.overrides)
        result = cli("rollback", "auth", "--wait-until", "started")
        script.assert_done()
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "deployment d-GOLDEN001 of auth is in flight (InProgress, started 2026-03-02T10:00:00Z)",
        f"stopping d-GOLDEN001 with automatic rollback ... (console: {CONSOLE})",
        "CodeDeploy accepted the stop of d-GOLDEN001: Pending (Stopping, rolling back)",
        "follow it with: bgctl watch d-GOLDEN001"]


@pytest.mark.usefixtures("platform_params")
def test_dry_run_in_flight_names_the_deployment_and_stops_nothing(cli: Cli) -> None:
    with Script() as script:
        _stub_in_flight(script, stop=False)
        cli.overrides.update(script.overrides)
        result = cli("rollback", "auth", "--dry-run", "--json")
        script.assert_done()  # no StopDeployment
    assert result.code == 0, result.err
    record = json.loads(result.out)
    assert record["data"] == {"action": "stop", "deploymentId": "d-GOLDEN001", "dryRun": True, "autoRollback": True}
    assert record["deployment"]["id"] == "d-GOLDEN001" and record["deployment"]["consoleUrl"] == CONSOLE
    assert "dry run: would stop d-GOLDEN001 with automatic rollback" in result.err


@pytest.mark.usefixtures("platform_params")
def test_revision_while_in_flight_is_bad_input(cli: Cli) -> None:
    with Script() as script:
        _stub_in_flight(script, stop=False)
        cli.overrides.update(script.overrides)
        result = cli("rollback", "auth", "--revision", "3")
    assert result.code == 2
    assert result.err_lines == ["bgctl: error: deployment d-GOLDEN001 of auth is in flight (InProgress): `bgctl "
                                "rollback auth` stops it first; --revision applies once nothing is in flight"]


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
        _stub_in_flight(script, stop=False)
        script.cd.add_client_error("stop_deployment", service_error_code="DeploymentAlreadyCompletedException",
                                   service_message="done", http_status_code=400)
        cli.overrides.update(script.overrides)
        result = cli("rollback", "auth")
    assert result.code == 7 and "finished before it could be stopped" in result.err


@pytest.mark.usefixtures("platform_params")
def test_stop_denied_names_the_deployment_and_the_fallback(cli: Cli) -> None:
    with Script() as script:
        _stub_in_flight(script, stop=False)
        script.cd.add_client_error("stop_deployment", service_error_code="AccessDeniedException",
                                   service_message="not authorized to perform codedeploy:StopDeployment",
                                   http_status_code=400)
        cli.overrides.update(script.overrides)
        result = cli("rollback", "auth")
    assert result.code == 7
    assert result.err_lines == [
        "bgctl: error: could not stop deployment d-GOLDEN001 of auth: access denied for StopDeployment: not "
        "authorized to perform codedeploy:StopDeployment (see docs/cli.md 'IAM permissions'); " + FALLBACK]


@pytest.mark.usefixtures("platform_params")
def test_stop_answered_by_an_html_error_page_retries_visibly_then_gives_the_fallback(
        cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real socket and botocore's real parsing: a proxy's HTML 502 page never reaches the operator raw."""
    page = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>"
    endpoint = AwsJsonEndpoint({
        "ListDeployments": lambda body: (200, {"deployments": ["d-GOLDEN001"]}),
        "GetDeployment": lambda body: (200, {"deploymentInfo": json.loads(json.dumps(
            deployment_info(State(events=INSTALLED)), default=str))}),
        "StopDeployment": lambda body: (502, page),
    })
    monkeypatch.setenv("AWS_ENDPOINT_URL_CODEDEPLOY", endpoint.url)
    try:
        result = cli("rollback", "auth", "--progress", "plain")
    finally:
        endpoint.close()
    assert result.code == 7
    assert endpoint.calls.count("StopDeployment") == 6
    assert "<" not in result.err
    retry = result.err_lines[0].split("] ", 1)[1]
    assert retry == ('bgctl: codedeploy StopDeployment: attempt 1 failed (502: HTTP 502 HTML error page "502 Bad '
                     'Gateway" (answered by a proxy or an AWS front end, not the service)); retrying in 0.5 s, giving '
                     'up 28 s after the first attempt')
    assert result.err_lines[-1] == (
        "bgctl: error: could not stop deployment d-GOLDEN001 of auth: gave up on codedeploy StopDeployment after 6 "
        'attempts in 12 s: 502: HTTP 502 HTML error page "502 Bad Gateway" (answered by a proxy or an AWS front '
        "end, not the service) (retry budget 28 s: --retry-budget to wait longer); " + FALLBACK)


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
        revision=appspec.revision(spec), description="seed | source=bgctl")["deploymentId"]
    platform.set_status(deployment_id, "Succeeded")
    return deployment_id


def _released_twice(platform: Platform) -> tuple[str, str, str, str]:
    """rev1 and rev2 ran in production (rev2 now); rev3 was registered by a release that never went live."""
    first = platform.task_definitions["auth"]
    second = platform.register("auth", image=platform.image("auth", "v2"),
                               env=[{"name": "LOG_LEVEL", "value": "debug"}])
    third = platform.register("auth", image=platform.image("auth", "abc123"))
    seed = _succeeded_deployment(platform, first)
    _succeeded_deployment(platform, second)
    _promote(platform, second)
    return first, second, third, seed


def test_redeploys_the_last_known_good_revision_as_a_rollback(platform: Platform, deploy_api: Any, cli: Cli) -> None:
    first, second, third, seed = _released_twice(platform)
    result = cli("rollback", "auth", "--wait-until", "started", "--reason", "5xx after release")
    assert result.code == 0, result.err
    [call] = deploy_api.calls
    assert call.body == {"domain": "auth", "taskDefinitionArn": first, "kind": "rollback",
                         "reason": "5xx after release", "source": "bgctl"}
    assert first != third
    deployment_id = result.out.split("created rollback deployment ")[1].split()[0]
    assert result.out.splitlines()[:9] == [
        "rollback plan for auth (last known-good):",
        f"  production   {PLATFORM}-auth:2  {platform.image('auth', 'v2')}",
        f"  target       {PLATFORM}-auth:1  {platform.image('auth', 'v1')}",
        f"  ran in prod  yes: deployment {seed} put it in production",
        f"  change       app image {platform.image('auth', 'v2')} -> {platform.image('auth', 'v1')}",
        "  change       env FEATURE_X: (unset) -> off",
        "  change       env LOG_LEVEL: debug -> info",
        "  traffic      all at once (CodeDeployDefault.ECSAllAtOnce, set by the deploy API for rollbacks)",
        "  approval     the approval gate decides: an authorized operator's rollback to a revision that ran in "
        "production is recorded and auto-approved; anything else waits for approval like a release"]
    assert f"created rollback deployment {deployment_id} for auth" in result.out


def _created_at(deployment_id: str, moment: Any) -> None:
    from moto.codedeploy.models import codedeploy_backends

    from bgctl_testkit import ACCOUNT

    codedeploy_backends[ACCOUNT][REGION].deployments[deployment_id].create_time = moment


def test_the_newest_known_good_revision_is_chosen(platform: Platform, deploy_api: Any, cli: Cli) -> None:
    """rev1, rev2 and rev3 each completed a deployment, rev3 runs now: the last known-good revision is rev2."""
    from datetime import datetime, timezone

    first = platform.task_definitions["auth"]
    second = platform.register("auth", image=platform.image("auth", "v2"))
    third = platform.register("auth", image=platform.image("auth", "abc123"))
    for day, arn in ((1, first), (2, second), (3, third)):
        _created_at(_succeeded_deployment(platform, arn), datetime(2026, 3, day, 10, 0, tzinfo=timezone.utc))
    _promote(platform, third)
    result = cli("rollback", "auth", "--dry-run", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)["data"]
    assert (data["currentTaskDefinition"], data["targetTaskDefinition"], data["chosenBy"]) == (
        third, second, "last known-good")
    assert deploy_api.calls == []


def test_dry_run_shows_the_plan_and_changes_nothing(platform: Platform, deploy_api: Any, cli: Cli) -> None:
    first, second, _third, seed = _released_twice(platform)
    result = cli("rollback", "auth", "--dry-run", "--json")
    assert result.code == 0, result.err
    assert deploy_api.calls == []
    record = json.loads(result.out)
    assert record["outcome"] == "ok" and record["deployment"]["kind"] == "rollback"
    assert record["data"] == {
        "action": "redeploy", "domain": "auth", "dryRun": True, "chosenBy": "last known-good",
        "currentTaskDefinition": second, "currentImage": platform.image("auth", "v2"),
        "targetTaskDefinition": first, "targetImage": platform.image("auth", "v1"),
        "ranInProduction": {"deploymentId": seed, "completedAt": None},
        "changes": [f"app image {platform.image('auth', 'v2')} -> {platform.image('auth', 'v1')}",
                    "env FEATURE_X: (unset) -> off", "env LOG_LEVEL: debug -> info"],
        "reregister": False, "traffic": "all_at_once", "reason": f"Rollback auth to {PLATFORM}-auth:1"}
    assert "dry run: nothing changed; start it with: bgctl rollback auth" in result.err


def test_chosen_revision_that_never_ran_in_production_is_said_so(platform: Platform, deploy_api: Any,
                                                                  cli: Cli) -> None:
    _first, _second, third, _seed = _released_twice(platform)
    result = cli("rollback", "auth", "--revision", "3", "--wait-until", "started")
    assert result.code == 0, result.err
    assert deploy_api.calls[0].body["taskDefinitionArn"] == third
    assert "rollback plan for auth (--revision 3):" in result.out
    assert ("  ran in prod  no record in the last 50 successful deployments: the gate treats this as a release"
            in result.out)


@pytest.mark.parametrize(("revision", "message"), [
    ("2", f"production already runs {PLATFORM}-auth:2: nothing to roll back (choose another --revision)"),
    ("9", f"revision {PLATFORM}-auth:9 does not exist"),
])
def test_bad_revision_is_bad_input(platform: Platform, cli: Cli, revision: str, message: str) -> None:
    _released_twice(platform)
    result = cli("rollback", "auth", "--revision", revision)
    assert result.code == 2
    assert result.err_lines == [f"bgctl: error: {message}"]


def test_deregistered_known_good_revision_is_registered_again(platform: Platform, deploy_api: Any, cli: Cli) -> None:
    second = platform.register("auth", image=platform.image("auth", "v2"))
    _succeeded_deployment(platform, platform.task_definitions["auth"])
    _promote(platform, second)
    platform.ecs.deregister_task_definition(taskDefinition=platform.task_definitions["auth"])
    result = cli("rollback", "auth", "--wait-until", "started")
    assert result.code == 0, result.err
    assert f"{PLATFORM}-auth:1 is deregistered; registered a copy as {PLATFORM}-auth:3" in result.out
    assert deploy_api.calls[0].body["taskDefinitionArn"].endswith(f"{PLATFORM}-auth:3")


def test_without_a_known_good_revision_it_asks_for_one(platform: Platform, deploy_api: Any, cli: Cli) -> None:
    second = platform.register("auth", image=platform.image("auth", "v2"))
    _promote(platform, second)
    result = cli("rollback", "auth")
    assert result.code == 2
    assert result.err_lines == [f"bgctl: error: no known-good revision of auth: none of the last 50 successful "
                                f"deployments ran anything but {PLATFORM}-auth:2; choose one with `bgctl rollback "
                                "auth --revision N --dry-run`"]
    assert deploy_api.calls == []


def test_rollback_validates_before_aws(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    assert cli("rollback", "AUTH").code == 2
    assert cli("rollback", "auth", "--revision", "0").code == 2
    assert cli("rollback", "auth", "--reason", "x" * 301).code == 2
