"""`bgctl approve|reject`: break-glass decisions through bgruntime.approvals.decide (moto DynamoDB,
Stubber CodeDeploy for PutLifecycleEventHookExecutionStatus)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from bgctl_testkit import ACCOUNT, AUDIT_TABLE, START, Cli, client, create_audit_table

DEPLOYMENT = "d-APPROVE01"
CALLER = f"arn:aws:sts::{ACCOUNT}:user/moto"
pytestmark = pytest.mark.usefixtures("platform_params")


@pytest.fixture
def pending() -> Any:
    from bgruntime.approvals import create_pending

    dynamodb = client("dynamodb")
    create_audit_table(dynamodb)
    create_pending(table_name=AUDIT_TABLE, deployment_id=DEPLOYMENT, hook_execution_id="hook-exec-1", domain="auth",
                   application_name="bluegreen-auth", deployment_group_name="bluegreen-auth",
                   requester="github:alice", requester_slack_id="U0ALICE", image="repo/auth:4f2c1ab",
                   requested_at=START - timedelta(minutes=5), expires_at=START + timedelta(minutes=40),
                   approver_user_ids=["U1"], dynamodb=dynamodb)
    return dynamodb


def _item(dynamodb: Any) -> dict[str, Any]:
    from bgruntime.approvals import get_approval

    return get_approval(table_name=AUDIT_TABLE, deployment_id=DEPLOYMENT, dynamodb=dynamodb) or {}


def _codedeploy(cli: Cli, status: str | None, error: str | None = None) -> Stubber:
    codedeploy = client("codedeploy")
    stubber = Stubber(codedeploy)
    if error:
        stubber.add_client_error("put_lifecycle_event_hook_execution_status", service_error_code=error,
                                 service_message="boom", http_status_code=400)
    elif status:
        stubber.add_response("put_lifecycle_event_hook_execution_status",
                             {"lifecycleEventHookExecutionId": "hook-exec-1"},
                             {"deploymentId": DEPLOYMENT, "lifecycleEventHookExecutionId": "hook-exec-1",
                              "status": status})
    stubber.activate()
    cli.overrides["codedeploy"] = codedeploy
    return stubber


@pytest.mark.parametrize(("command", "decision", "cd_status"), [("approve", "APPROVED", "Succeeded"),
                                                                ("reject", "REJECTED", "Failed")])
def test_decision_is_recorded_and_reported(cli: Cli, pending: Any, command: str, decision: str,
                                           cd_status: str) -> None:
    stubber = _codedeploy(cli, cd_status)
    result = cli(command, DEPLOYMENT, "--reason", "  Slack is down;  INC-7  ")
    assert result.code == 0, result.err
    stubber.assert_no_pending_responses()
    item = _item(pending)
    assert item["status"] == decision
    assert item["decidedBy"] == {"iamArn": CALLER}
    assert item["decidedVia"] == "cli"
    assert item["reason"] == "Slack is down; INC-7"
    assert item["decidedAt"] == "2026-03-02T10:00:00Z"
    assert (item["codeDeployStatus"], item["codeDeployResult"]) == (cd_status, "OK")
    assert f"follow the deployment with: bgctl watch {DEPLOYMENT}" in result.out
    assert result.err == ""


def test_second_decision_changes_nothing(cli: Cli, pending: Any) -> None:
    _codedeploy(cli, "Succeeded")
    assert cli("approve", DEPLOYMENT, "--reason", "first").code == 0
    stubber = _codedeploy(cli, None)  # any CodeDeploy call would now fail the stub
    result = cli("reject", DEPLOYMENT, "--reason", "second")
    assert result.code == 3
    assert len(result.err_lines) == 1 and "was already approved" in result.err
    assert _item(pending)["status"] == "APPROVED"
    stubber.assert_no_pending_responses()


def test_expired_request_cannot_be_approved(cli: Cli, pending: Any) -> None:
    _codedeploy(cli, None)
    cli.clock.now = START + timedelta(minutes=41)
    result = cli("approve", DEPLOYMENT, "--reason", "late")
    assert result.code == 3 and "expired" in result.err
    assert _item(pending)["status"] == "PENDING"


def test_unknown_deployment_is_bad_input(cli: Cli, pending: Any) -> None:
    _codedeploy(cli, None)
    result = cli("approve", "d-UNKNOWN00", "--reason", "x")
    assert result.code == 2
    assert result.err_lines == ["bgctl: error: No approval request exists for deployment d-UNKNOWN00; nothing changed. "
                                "(is d-UNKNOWN00 waiting at the approval gate? see `bgctl approvals`)"]


def test_codedeploy_failure_is_partial_exit_9(cli: Cli, pending: Any) -> None:
    _codedeploy(cli, None, error="InvalidDeploymentStatusException")
    result = cli("approve", DEPLOYMENT, "--reason", "x")
    assert result.code == 9  # recorded, CodeDeploy not told
    assert len(result.err_lines) == 1 and "could not be told (ERROR:InvalidDeploymentStatusException)" in result.err
    assert _item(pending)["codeDeployResult"] == "ERROR:InvalidDeploymentStatusException"


@pytest.mark.parametrize("argv", [["approve", DEPLOYMENT], ["approve", DEPLOYMENT, "--reason", "   "],
                                  ["reject", "bad id!", "--reason", "x"]])
def test_reason_and_id_are_validated(cli: Cli, argv: list[str]) -> None:
    result = cli(*argv)
    assert result.code == 2 and len(result.err_lines) == 1
