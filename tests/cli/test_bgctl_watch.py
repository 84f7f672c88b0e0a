"""Progress display: golden output in both terminal modes, driven by scripted deployment states."""
from __future__ import annotations

from typing import Any

import pytest

from bgctl_scenario import (DEPLOYMENT_ID, INSTALLED, PENDING, SMOKE_FAILED, SMOKE_PASSED, TESTED, Script, State,
                            happy_path)
from bgctl_testkit import Cli, golden

pytestmark = pytest.mark.usefixtures("platform_params")
CONSOLE = f"https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/{DEPLOYMENT_ID}?region=eu-west-1"


def watch(cli: Cli, states: list[State], *args: str, env: dict[str, str] | None = None, **queue: Any) -> Any:
    with Script() as script:
        script.queue(states, **queue)
        cli.overrides.update(script.overrides)
        result = cli("watch", DEPLOYMENT_ID, *args, env=env)
        script.assert_done()
    return result


def test_plain_progress_golden(cli: Cli) -> None:
    result = watch(cli, happy_path(), "--progress", "plain")
    assert result.code == 0, result.err
    assert result.err == ""
    golden("watch_plain.txt", result.out)
    # polls every 5 s, every 15 s while a human decides or blue drains
    assert set(cli.clock.sleeps) == {5.0, 15.0}


def test_github_actions_progress_golden(cli: Cli) -> None:
    result = watch(cli, happy_path(approval_polls=3), env={"GITHUB_ACTIONS": "true", "CI": "true"})
    assert result.code == 0, result.err
    golden("watch_github.txt", result.out)
    lines = result.out.splitlines()
    assert lines.count("::endgroup::") == sum(1 for line in lines if line.startswith("::group::"))
    assert any(line.startswith("::notice title=Approval needed (auth)::") for line in lines)


def test_tty_progress_golden(cli: Cli) -> None:
    result = watch(cli, happy_path(approval_polls=2), "--progress", "tty")
    assert result.code == 0, result.err
    golden("watch_tty.txt", result.out.replace("\x1b", "\\e").replace("\r", "\\r"))
    final_frame = result.out.rsplit("\x1b[J", 1)[-1]
    golden("watch_tty_final.txt", final_frame)


def test_tty_lines_never_exceed_the_terminal_width(cli: Cli) -> None:
    cli.width = 50
    result = watch(cli, happy_path(approval_polls=1), "--progress", "tty")
    assert result.code == 0
    console_line, rest = result.out.split("\n", 1)
    assert console_line == f"console: {CONSOLE}"  # printed once above the block (never redrawn, never cut)
    block, result_line = rest.rstrip("\n").rsplit("\n", 1)
    visible = [line.split("\r")[-1] for line in block.replace("\x1b[J", "\n").split("\n")]
    assert max(len(line) for line in visible) < 50
    assert result_line.startswith(f"deployment {DEPLOYMENT_ID} succeeded")  # the result line is not cut


@pytest.mark.parametrize(("until", "polls"), [("started", 1), ("approval", 3), ("traffic-shifted", 5)])
def test_wait_until_returns_at_the_stage(cli: Cli, until: str, polls: int) -> None:
    states = happy_path(approval_polls=1)[:polls]
    states[-1].repeat = 1
    result = watch(cli, states, "--wait-until", until, "--progress", "plain")
    assert result.code == 0, result.err
    assert len(cli.clock.sleeps) == polls - 1


REJECTED = dict(PENDING, status="REJECTED", decidedBy={"slackUserId": "U0BOB", "name": "Bob"}, decidedVia="slack",
                decidedAt="2026-03-02T10:00:04Z", reason="not during the sale")


@pytest.mark.parametrize(("final", "code", "message"), [
    (State(status="Failed", events={**TESTED, "BeforeAllowTraffic": "Failed"}, green=(0.0, 2, 2),
           smoke=SMOKE_PASSED, approval=REJECTED,
           error=("HOOK_EXECUTION_FAILURE", "Lifecycle event BeforeAllowTraffic failed")), 3,
     f"bgctl: error: deployment {DEPLOYMENT_ID} (auth) failed at BeforeAllowTraffic: approval REJECTED by Bob "
     "(not during the sale); HOOK_EXECUTION_FAILURE: Lifecycle event BeforeAllowTraffic failed"),
    (State(status="Failed", events={**INSTALLED, "AfterAllowTestTraffic": "Failed"}, green=(0.0, 2, 2),
           smoke=SMOKE_FAILED, error=("HOOK_EXECUTION_FAILURE", "smoke tests failed")), 3,
     f"bgctl: error: deployment {DEPLOYMENT_ID} (auth) failed at AfterAllowTestTraffic: smoke tests FAILED (login); "
     "HOOK_EXECUTION_FAILURE: smoke tests failed"),
    (State(status="Stopped", events={**TESTED, "BeforeAllowTraffic": "Succeeded", "AllowTraffic": "Failed"},
           blue=(100.0, 2, 2), green=(0.0, 2, 2), alarms={"bluegreen-auth-5xx": "ALARM"}, rollback_id="d-ROLLBACK1",
           error=("ALARM_ACTIVE", "One or more alarms have been activated")), 4,
     f"bgctl: error: deployment {DEPLOYMENT_ID} (auth) was rolled back by deployment d-ROLLBACK1 at AllowTraffic: "
     "ALARM_ACTIVE: One or more alarms have been activated; rollback: Deployment rolled back by d-ROLLBACK1"),
    (State(status="Stopped", events={**INSTALLED, "AfterAllowTestTraffic": "InProgress"}, green=(0.0, 2, 2),
           error=("MANUAL_STOP", "The deployment was stopped by a user")), 5,
     f"bgctl: error: deployment {DEPLOYMENT_ID} (auth) was stopped: MANUAL_STOP: The deployment was stopped by a user"),
])
def test_failed_rolled_back_and_stopped_exit_codes(cli: Cli, final: State, code: int, message: str) -> None:
    result = watch(cli, [happy_path()[0], final], "--progress", "plain")
    assert result.code == code
    assert result.err_lines == [message]


def test_alarm_rollback_plain_golden(cli: Cli) -> None:
    states = happy_path(approval_polls=1)[:4] + [
        State(events={**TESTED, "BeforeAllowTraffic": "Succeeded", "AllowTraffic": "InProgress"},
              blue=(90.0, 2, 2), green=(10.0, 2, 2), smoke=SMOKE_PASSED, alarms={"bluegreen-auth-5xx": "ALARM"}),
        State(status="Stopped", events={**TESTED, "BeforeAllowTraffic": "Succeeded", "AllowTraffic": "Failed"},
              blue=(100.0, 2, 2), green=(0.0, 2, 2), smoke=SMOKE_PASSED, alarms={"bluegreen-auth-5xx": "ALARM"},
              rollback_id="d-ROLLBACK1", error=("ALARM_ACTIVE", "One or more alarms have been activated"))]
    result = watch(cli, states, "--progress", "plain")
    assert result.code == 4
    golden("watch_rollback_plain.txt", result.out + "--- stderr ---\n" + result.err)


def test_throttled_polls_back_off_and_continue(cli: Cli) -> None:
    states = happy_path(approval_polls=1)[:1]
    with Script() as script:
        script.get_deployment(states[0])  # the domain lookup
        for _ in range(2):
            script.cd.add_client_error("get_deployment", service_error_code="ThrottlingException",
                                       service_message="Rate exceeded", http_status_code=400)
        script.queue(states, watch_lookup=False)
        cli.overrides.update(script.overrides)
        result = cli("watch", DEPLOYMENT_ID, "--wait-until", "started", "--progress", "plain")
        script.assert_done()
    assert result.code == 0, result.err
    assert len(cli.clock.sleeps) == 2 and all(0 <= s <= 2 for s in cli.clock.sleeps)


def test_unreadable_audit_table_is_noted_not_fatal(cli: Cli) -> None:
    states = happy_path(approval_polls=1)[:2]
    with Script() as script:
        script.get_deployment(states[0])
        script.get_deployment(states[0])
        script.cd.add_response("list_deployment_targets", {"targetIds": ["t"]})
        from bgctl_scenario import ecs_target
        script.cd.add_response("get_deployment_target", {"deploymentTarget": {"ecsTarget": ecs_target(states[0])}})
        script.ddb.add_client_error("query", service_error_code="AccessDeniedException", service_message="no",
                                    http_status_code=400)
        script.cd.add_response("get_deployment_group", {"deploymentGroupInfo": {"alarmConfiguration": {}}})
        script.get_deployment(states[1])
        script.cd.add_response("get_deployment_target", {"deploymentTarget": {"ecsTarget": ecs_target(states[1])}})
        cli.overrides.update(script.overrides)
        result = cli("watch", DEPLOYMENT_ID, "--wait-until", "approval", "--progress", "plain", "--timeout", "0.08")
        script.assert_done()
    assert result.code == 6
    assert "note: audit table bluegreen-deployments not readable (AccessDeniedException)" in result.out


def test_ctrl_c_prints_how_to_resume(cli: Cli) -> None:
    def interrupt(count: int) -> None:
        raise KeyboardInterrupt

    cli.clock.on_sleep = interrupt
    result = watch(cli, happy_path()[:1], "--progress", "tty")
    assert result.code == 130
    assert result.err_lines == [f"bgctl: interrupted: deployment {DEPLOYMENT_ID} continues in "
                                f"CodeDeploy; resume with: bgctl watch {DEPLOYMENT_ID} (console: {CONSOLE})"]


def test_unknown_deployment_is_bad_input(cli: Cli) -> None:
    with Script() as script:
        script.cd.add_client_error("get_deployment", service_error_code="DeploymentDoesNotExistException",
                                   service_message="does not exist", http_status_code=400)
        cli.overrides.update(script.overrides)
        result = cli("watch", "d-NOPE00000")
    assert result.code == 2
    assert result.err_lines == ["bgctl: error: deployment d-NOPE00000 does not exist in eu-west-1 (check the id and "
                                "the region)"]


def test_aws_error_while_watching_is_lost_contact(cli: Cli) -> None:
    with Script() as script:
        script.get_deployment(happy_path()[0])
        script.cd.add_client_error("get_deployment", service_error_code="AccessDeniedException",
                                   service_message="not authorized to perform codedeploy:GetDeployment",
                                   http_status_code=400)
        cli.overrides.update(script.overrides)
        result = cli("watch", DEPLOYMENT_ID)
    assert result.code == 8
    assert result.err_lines == [
        "bgctl: error: lost contact while watching: access denied for GetDeployment: not authorized to perform "
        f"codedeploy:GetDeployment (see docs/cli.md 'IAM permissions'); deployment {DEPLOYMENT_ID} continues in "
        f"CodeDeploy; resume with: bgctl watch {DEPLOYMENT_ID} (console: {CONSOLE})"]
