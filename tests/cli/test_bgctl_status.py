"""`bgctl status` and `bgctl approvals`: tables and JSON (golden), GSI queries, all domains or one."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.stub import Stubber

from bgctl_testkit import AUDIT_TABLE, Cli, client, create_audit_table, golden, put_audit_item

REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/bluegreen"
pytestmark = pytest.mark.usefixtures("platform_params")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


DEPLOYMENTS = {
    "d-AUTH00003": {"status": "InProgress", "requester": "github:alice", "tag": "4f2c1ab",
                    "created": "2026-03-02T10:00:00", "completed": None},
    "d-AUTH00002": {"status": "Succeeded", "requester": "github:bob", "tag": "9e8d7c6",
                    "created": "2026-03-01T15:10:00", "completed": "2026-03-01T15:52:00"},
    "d-AUTH00001": {"status": "Stopped", "requester": "github:bob", "tag": "1a2b3c4",
                    "created": "2026-02-27T09:00:00", "completed": "2026-02-27T09:09:00",
                    "error": ("HOOK_EXECUTION_FAILURE", "Lifecycle event BeforeAllowTraffic failed")},
}
APPROVALS = [
    {"deploymentId": "d-AUTH00003", "domain": "auth", "status": "PENDING", "requester": "github:alice",
     "requestedAt": "2026-03-02T10:00:09Z", "expiresAt": "2026-03-02T10:45:09Z", "image": f"{REPO}/auth:4f2c1ab"},
    {"deploymentId": "d-AUTH00002", "domain": "auth", "status": "APPROVED", "requester": "github:bob",
     "requestedAt": "2026-03-01T15:11:02Z", "expiresAt": "2026-03-01T15:56:02Z", "image": f"{REPO}/auth:9e8d7c6",
     "decidedBy": {"slackUserId": "U0CAROL", "name": "Carol"}, "decidedVia": "slack",
     "decidedAt": "2026-03-01T15:20:41Z", "reason": "release notes checked", "codeDeployStatus": "Succeeded",
     "codeDeployResult": "OK"},
    {"deploymentId": "d-AUTH00001", "domain": "auth", "status": "REJECTED", "requester": "github:bob",
     "requestedAt": "2026-02-27T09:01:30Z", "expiresAt": "2026-02-27T09:46:30Z", "image": f"{REPO}/auth:1a2b3c4",
     "decidedBy": {"iamArn": "arn:aws:sts::123456789012:assumed-role/PlatformAdmin/dave"}, "decidedVia": "cli",
     "decidedAt": "2026-02-27T09:08:55Z", "reason": "breaks the mobile login; see INC-42",
     "codeDeployStatus": "Failed", "codeDeployResult": "OK"},
    {"deploymentId": "d-ORDER0001", "domain": "order", "status": "EXPIRED", "requester": "github:erin",
     "requestedAt": "2026-03-01T08:00:00Z", "expiresAt": "2026-03-01T08:45:00Z", "image": f"{REPO}/order:77aa00b",
     "decidedBy": {"name": "expiry"}, "decidedVia": "expiry", "decidedAt": "2026-03-01T08:45:02Z",
     "codeDeployStatus": "Failed", "codeDeployResult": "OK"},
]


@pytest.fixture
def audit() -> Any:
    dynamodb = client("dynamodb")
    create_audit_table(dynamodb)
    for approval in APPROVALS:
        put_audit_item(dynamodb, {"pk": f"DEPLOYMENT#{approval['deploymentId']}", "sk": "APPROVAL", **approval})
    put_audit_item(dynamodb, {"pk": "DEPLOYMENT#d-AUTH00002", "sk": "SMOKE", "domain": "auth", "status": "PASSED",
                              "checks": [], "finishedAt": "2026-03-01T15:11:00Z"})
    return dynamodb


def _info(deployment_id: str) -> dict[str, Any]:
    data = DEPLOYMENTS[deployment_id]
    image = f"{REPO}/auth:{data['tag']}"
    info: dict[str, Any] = {
        "deploymentId": deployment_id, "applicationName": "bluegreen-auth", "deploymentGroupName": "bluegreen-auth",
        "status": data["status"], "creator": "user", "createTime": _time(data["created"]),
        "description": f"Deploy auth auth:{data['tag']} | requester={data['requester']} image={image} source=bgctl"}
    if data["completed"]:
        info["completeTime"] = _time(data["completed"])
    if data.get("error"):
        info["errorInformation"] = {"code": data["error"][0], "message": data["error"][1]}
    return info


def _stub_status(domain_ids: dict[str, list[str]]) -> tuple[Any, Stubber]:
    codedeploy = client("codedeploy")
    stubber = Stubber(codedeploy)
    for domain, ids in domain_ids.items():
        in_flight = [i for i in ids if DEPLOYMENTS[i]["status"] == "InProgress"]
        stubber.add_response("list_deployments", {"deployments": in_flight}, {
            "applicationName": f"bluegreen-{domain}", "deploymentGroupName": f"bluegreen-{domain}",
            "includeOnlyStatuses": ["Created", "Queued", "InProgress", "Baking", "Ready"]})
        stubber.add_response("list_deployments", {"deployments": ids}, {
            "applicationName": f"bluegreen-{domain}", "deploymentGroupName": f"bluegreen-{domain}"})
        if ids:
            stubber.add_response("batch_get_deployments", {"deploymentsInfo": [_info(i) for i in ids]},
                                 {"deploymentIds": ids})
    stubber.activate()
    return codedeploy, stubber


def test_status_table_golden(cli: Cli, audit: Any) -> None:
    codedeploy, stubber = _stub_status({"auth": ["d-AUTH00003", "d-AUTH00001", "d-AUTH00002"], "order": []})
    cli.overrides["codedeploy"] = codedeploy
    result = cli("status")
    assert result.code == 0, result.err
    golden("status.txt", result.out)
    stubber.assert_no_pending_responses()


def test_status_json_golden_for_one_domain(cli: Cli, audit: Any) -> None:
    codedeploy, stubber = _stub_status({"auth": ["d-AUTH00003", "d-AUTH00002", "d-AUTH00001"]})
    cli.overrides["codedeploy"] = codedeploy
    result = cli("status", "auth", "--json", "--limit", "2")
    assert result.code == 0, result.err
    record = json.loads(result.out)
    assert (record["command"], record["exitCode"], record["outcome"]) == ("status", 0, "ok")
    [auth] = record["data"]["domains"]
    rows = auth["deployments"]
    # in-flight first, then the newest finished ones up to --limit
    assert [r["deploymentId"] for r in rows] == ["d-AUTH00003", "d-AUTH00002"]
    assert [r["kind"] for r in rows] == ["release", "release"]
    assert rows[1]["approval"]["decidedBy"] == "Carol"
    golden("status.json", result.out)


def test_status_json_lists_every_domain_and_marks_rollbacks(cli: Cli, audit: Any) -> None:
    DEPLOYMENTS["d-AUTH00004"] = {"status": "Succeeded", "requester": "github:carol", "tag": "1a2b3c4",
                                  "created": "2026-03-02T11:00:00", "completed": "2026-03-02T11:05:00"}
    put_audit_item(audit, {"pk": "DEPLOYMENT#d-AUTH00004", "sk": "REGISTERED", "domain": "auth", "kind": "rollback",
                           "requester": {"principalArn": "arn:aws:sts::123456789012:assumed-role/ops/carol",
                                         "githubActor": None, "verifiedBy": ["iam"]}})
    try:
        codedeploy, stubber = _stub_status({"auth": ["d-AUTH00004", "d-AUTH00002"], "order": []})
        cli.overrides["codedeploy"] = codedeploy
        result = cli("status", "--json")
    finally:
        del DEPLOYMENTS["d-AUTH00004"]
    assert result.code == 0, result.err
    domains = json.loads(result.out)["data"]["domains"]
    assert [(d["domain"], d["readable"], len(d["deployments"])) for d in domains] == [("auth", True, 2),
                                                                                      ("order", True, 0)]
    rollback = domains[0]["deployments"][0]
    assert (rollback["deploymentId"], rollback["kind"], rollback["requester"]) == (
        "d-AUTH00004", "rollback", "arn:aws:sts::123456789012:assumed-role/ops/carol")
    cli.overrides["codedeploy"] = _stub_status({"auth": ["d-AUTH00002"], "order": []})[0]
    assert "order   (no deployments)" in cli("status").out


def test_status_unknown_domain(cli: Cli) -> None:
    result = cli("status", "payment")
    assert result.code == 2 and "unknown domain 'payment'" in result.err


def test_approvals_table_golden_all_domains_newest_first(cli: Cli, audit: Any) -> None:
    result = cli("approvals")
    assert result.code == 0, result.err
    golden("approvals.txt", result.out)
    lines = result.out.splitlines()
    assert [line.split()[3] for line in lines[1:]] == ["d-AUTH00003", "d-AUTH00002", "d-ORDER0001", "d-AUTH00001"]


def test_approvals_json_golden_for_one_domain_with_limit(cli: Cli, audit: Any) -> None:
    result = cli("approvals", "auth", "--json", "--limit", "2")
    assert result.code == 0, result.err
    record = json.loads(result.out)
    assert (record["command"], record["outcome"]) == ("approvals", "ok")
    items = record["data"]
    assert [i["deploymentId"] for i in items] == ["d-AUTH00003", "d-AUTH00002"]
    assert all("pk" not in i for i in items)
    golden("approvals.json", result.out)


def test_approvals_empty_and_bad_limit(cli: Cli, audit: Any) -> None:
    dynamodb = client("dynamodb")
    dynamodb.delete_table(TableName=AUDIT_TABLE)
    create_audit_table(dynamodb)
    assert cli("approvals").out == "no approval requests recorded\n"
    result = cli("approvals", "--limit", "0")
    assert result.code == 2 and "--limit: must be at least 1" in result.err


def test_status_of_all_domains_skips_an_undeployed_one(cli: Cli, audit: Any) -> None:
    client("ssm").delete_parameter(Name="/bluegreen/domains/order/deployment")
    codedeploy, stubber = _stub_status({"auth": ["d-AUTH00002"]})
    cli.overrides["codedeploy"] = codedeploy
    result = cli("status")
    assert result.code == 0, result.err
    assert result.err_lines == ["bgctl: warning: order skipped: metadata parameter /bluegreen/domains/order/deployment "
                                "not found: is the 'order' domain stack of 'bluegreen' deployed in eu-west-1?"]
    assert "d-AUTH00002" in result.out
    assert result.out.splitlines()[-1].split() == ["order", "(stack", "not", "deployed)", "-", "-", "-", "-", "-", "-"]
    assert cli("status", "order").code == 7
    cli.overrides["codedeploy"] = _stub_status({"auth": ["d-AUTH00002"]})[0]
    domains = json.loads(cli("status", "--json").out)["data"]["domains"]
    assert domains[1] == {"domain": "order", "readable": False, "deployments": [], "note": (
        "metadata parameter /bluegreen/domains/order/deployment not found: is the 'order' domain stack of 'bluegreen' "
        "deployed in eu-west-1?")}
