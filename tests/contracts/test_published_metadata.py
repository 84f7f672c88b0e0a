"""Producer/consumer contract of the published deployment metadata (`/bluegreen/domains/<d>/deployment`) and the
platform parameter (`/bluegreen/platform`): the documents the REAL templates publish (intrinsics resolved, see
published.py), put unchanged into (moto) SSM, read by the smoke hook, the approval request hook, the deploy API
and bgctl. Each test asserts the values the consumer took from the document (literal values from
config/default.yaml and docs/contracts.md), not merely that it did not crash.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from bgruntime import approvals, event_patterns

from .conftest import DOMAINS, TABLE
from .published import ACCOUNT, Deployed

NOW = datetime(2030, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
SMOKE_HOOK = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:CodeDeployHook_bluegreen_smoke-tests"
APPROVAL_HOOK = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:CodeDeployHook_bluegreen_approval-request"
TEST_LISTENERS = {"auth": ("auth.bluegreen.internal", 9081), "order": ("order.bluegreen.internal", 9082),
                  "payment": ("payment.bluegreen.internal", 9083), "voice": ("voice.bluegreen.internal", 9443)}
#: (method, path) each domain's published smoke checks send (config/default.yaml)
SMOKE_REQUESTS = {"auth": [("issue-token", "POST", "/v1/tokens")], "order": [("create-order", "POST", "/v1/orders")],
                  "payment": [("authorize-payment", "POST", "/v1/payments/authorize")],
                  "voice": [("stream-handshake", "GET", "/v1/stream")]}
#: approval settings of config/default.yaml: channel, expiry minutes
APPROVALS = {"order": ("C0ORDERS", 45), "payment": ("C0PAYMENTS", 30), "voice": ("C0VOICE", 45)}


# ------------------------------------------------------------------------------------------- the producer


def test_the_hooks_named_in_the_metadata_are_the_platforms_hook_functions(deployed: Deployed):
    """CodeDeploy invokes what the AppSpec names: each published hook ARN is a function of the platform stack,
    named CodeDeployHook_* so AWSCodeDeployRoleForECSLimited may invoke it; BeforeAllowTraffic only when the
    domain requires approval."""
    functions = deployed.function_arns()
    assert functions["CodeDeployHook_bluegreen_smoke-tests"] == SMOKE_HOOK
    assert functions["CodeDeployHook_bluegreen_approval-request"] == APPROVAL_HOOK
    hooks = {domain: deployed.domain_metadata(domain)["hooks"] for domain in DOMAINS}
    assert hooks == {"auth": {"AfterAllowTestTraffic": SMOKE_HOOK},
                     **{d: {"AfterAllowTestTraffic": SMOKE_HOOK, "BeforeAllowTraffic": APPROVAL_HOOK}
                        for d in ("order", "payment", "voice")}}


def test_the_roles_named_in_the_metadata_are_the_domains_task_roles(deployed: Deployed):
    for domain in DOMAINS:
        metadata = deployed.domain_metadata(domain)
        assert (metadata["taskRoleArn"], metadata["executionRoleArn"]) == (
            f"arn:aws:iam::{ACCOUNT}:role/bluegreen-{domain}-task",
            f"arn:aws:iam::{ACCOUNT}:role/bluegreen-{domain}-execution")
        assert metadata["ecrRepository"] == f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/{domain}"
        assert metadata["taskDefinitionArn"] == f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/bluegreen-{domain}:1"


# --------------------------------------------------------------------------------------- the smoke hook


def _served(service: Any, count: int) -> list[tuple[str, str]]:
    """(method, path) of the requests the domain service logged (it logs after answering: wait for them)."""
    import time

    for _ in range(100):
        served = [(r["method"], r["path"]) for r in list(service.requests) if "method" in r]
        if len(served) >= count:
            return served
        time.sleep(0.05)
    return served


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_smoke_hook_runs_the_published_checks_against_the_published_test_endpoint(
        domain, deployed, aws, test_listeners, domain_service):
    import approval_fakes as fx
    from progressive_support import FakeContext, load_lambda

    hook = load_lambda("smoke_tests", "handler")
    import boto3

    codedeploy = fx.FakeCodeDeploy()
    codedeploy.add("d-SMOKE0001", domain=domain)
    events = fx.FakeEvents()
    deps = hook.Deps(codedeploy=codedeploy, ssm=aws.ssm, events=events,
                     table=boto3.resource("dynamodb", region_name="eu-west-1").Table(TABLE))
    env = deployed.function_environment("CodeDeployHook_bluegreen_smoke-tests")
    result = hook.handle({"DeploymentId": "d-SMOKE0001", "LifecycleEventHookExecutionId": fx.HOOK_ID},
                         FakeContext(60_000), deps, env=env)

    assert (result["status"], result["reported"], result["domain"]) == ("Succeeded", "OK", domain), result["reason"]
    assert [c["name"] for c in result["checks"]] == [name for name, _, _ in SMOKE_REQUESTS[domain]]
    assert set(test_listeners) == {TEST_LISTENERS[domain]}  # it connected to the published test listener
    assert _served(domain_service, len(SMOKE_REQUESTS[domain])) == [
        (method, path) for _, method, path in SMOKE_REQUESTS[domain]]
    host, port = TEST_LISTENERS[domain]
    record = approvals.from_item(aws.dynamodb.get_item(TableName=TABLE, Key={
        "pk": {"S": "SMOKE#d-SMOKE0001"}, "sk": {"S": "RESULT"}})["Item"])
    assert (record["status"], record["domain"], record["testEndpoint"]) == ("PASSED", domain, f"http://{host}:{port}")
    assert codedeploy.put_calls == [{"deploymentId": "d-SMOKE0001", "hookId": fx.HOOK_ID, "status": "Succeeded"}]


# ---------------------------------------------------------------------------- the approval request hook


@pytest.fixture(scope="module")
def request_logic():
    import approval_fakes as fx

    fx.load_approval_modules()
    from approval_gate import request_logic

    return request_logic


def _request_runtime(deployed: Deployed, aws: Any, slack: Any, codedeploy: Any, events: Any) -> Any:
    import approval_fakes as fx
    from approval_gate.runtime import Runtime, Settings

    env = {**deployed.function_environment("CodeDeployHook_bluegreen_approval-request"),
           # the secret's real ARN (AWS adds a random suffix) and the local Slack stand in for the deployed ones
           "SLACK_BOT_TOKEN_SECRET_ARN": aws.bot_token_secret_arn, "SLACK_API_BASE_URL": slack.base_url}
    clients = {name: aws.clients[name] for name in ("dynamodb", "ssm", "scheduler", "ecs", "secretsmanager")}
    return Runtime(Settings.from_env(env), clients={**clients, "codedeploy": codedeploy, "events": events,
                                                    "cloudtrail": fx.FakeCloudTrail()},
                   clock=lambda: NOW, slack_timeout=5.0)


def _start_deployment(deployed: Deployed, aws: Any, codedeploy: Any, domain: str) -> str:
    """What the deploy API does: a deployment whose AppSpec is built from the published metadata, and its
    REGISTERED record (a verified GitHub Actions run by alice)."""
    import approval_fakes as fx

    registrar = fx.load_registrar()
    metadata = deployed.domain_metadata(domain)
    arn = aws.ecs.register_task_definition(
        family=metadata["taskDefinitionFamily"], containerDefinitions=[
            {"name": metadata["containerName"], "image": f"{metadata['ecrRepository']}:v2", "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]
    codedeploy.add("d-APPROVAL1", domain=domain, appspec=registrar.appspec(metadata, arn))
    approvals.put_record(table_name=TABLE, dynamodb=aws.dynamodb, record=fx.registration_record(
        fx.Clock(NOW), "d-APPROVAL1", domain=domain, taskDefinitionArn=arn))
    return arn


@pytest.mark.parametrize("domain", sorted(APPROVALS))
def test_the_approval_request_hook_asks_the_published_channel_and_approvers(domain, deployed, aws, slack,
                                                                           request_logic):
    import approval_fakes as fx

    codedeploy, events = fx.FakeCodeDeploy(), fx.FakeEvents()
    rt = _request_runtime(deployed, aws, slack, codedeploy, events)
    _start_deployment(deployed, aws, codedeploy, domain)
    channel, expiry_minutes = APPROVALS[domain]
    expires = f"2030-05-01T12:{expiry_minutes:02d}:00Z"

    result = request_logic.handle({"DeploymentId": "d-APPROVAL1", "LifecycleEventHookExecutionId": fx.HOOK_ID}, rt)

    assert result == {"result": "pending", "slackPosted": True, "expiryScheduled": True, "expiresAt": expires,
                      "requiredApprovals": 1}
    [message] = slack.calls_to("chat.postMessage")
    assert message["channel"] == channel
    rendered = json.dumps(message)
    host, port = TEST_LISTENERS[domain]
    assert f"http://{host}:{port}" in rendered  # the published test endpoint, for the approver to try
    assert f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/{domain}:v2" in rendered  # the image of the AppSpec
    [request] = [r for r in fx.all_records(aws.dynamodb, "d-APPROVAL1") if r["sk"] == "APPROVAL"]
    assert {k: request[k] for k in ("channel", "approverUserIds", "approverGroupIds", "approverMembers",
                                    "applicationName", "requester", "requesterSlackId", "expiresAt")} == {
        "channel": channel, "approverUserIds": ["U0PLATFORM1", "U0PLATFORM2"], "approverGroupIds": ["S0RELEASERS"],
        "approverMembers": ["U0CAROL"], "applicationName": f"bluegreen-{domain}", "requester": "github:alice",
        "requesterSlackId": "U0ALICE",  # the platform parameter's identity map
        "expiresAt": expires}
    schedule = aws.scheduler.get_schedule(Name=request_logic.schedule_name("bluegreen", "d-APPROVAL1"),
                                          GroupName="bluegreen-approvals")
    assert schedule["ScheduleExpression"] == f"at(2030-05-01T12:{expiry_minutes:02d}:00)"
    assert schedule["Target"]["Arn"] == f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:bluegreen-approval-expiry"
    assert schedule["Target"]["RoleArn"] == rt.settings.scheduler_role_arn
    [entry] = events.entries
    delivered = {"source": entry["Source"], "detail-type": entry["DetailType"], "detail": json.loads(entry["Detail"])}
    assert event_patterns.matches(event_patterns.platform_events("bluegreen"), delivered)


def test_the_approval_request_hook_releases_a_domain_that_requires_no_approval(deployed, aws, slack, request_logic):
    import approval_fakes as fx

    codedeploy, events = fx.FakeCodeDeploy(), fx.FakeEvents()
    rt = _request_runtime(deployed, aws, slack, codedeploy, events)
    _start_deployment(deployed, aws, codedeploy, "auth")

    result = request_logic.handle({"DeploymentId": "d-APPROVAL1", "LifecycleEventHookExecutionId": fx.HOOK_ID}, rt)

    assert result == {"result": "not-required", "codeDeployResult": "OK"}
    assert codedeploy.put_calls == [{"deploymentId": "d-APPROVAL1", "hookId": fx.HOOK_ID, "status": "Succeeded"}]
    assert slack.calls == [] and events.entries == []
    assert [r["sk"] for r in fx.all_records(aws.dynamodb, "d-APPROVAL1")] == ["REGISTERED"]
