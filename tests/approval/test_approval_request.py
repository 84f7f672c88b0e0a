"""The BeforeAllowTraffic hook: PENDING item, Slack message, expiry schedule, event; failure policy."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

import pytest

import approval_fakes as fx
from approval_gate import request_logic
from approval_gate.runtime import Runtime, Settings
from bgruntime import approvals

HOOK_EVENT = fx.load_event("codedeploy_before_allow_traffic.json")


@pytest.fixture()
def hook_runtime(settings_env, aws, codedeploy, events, clock):
    task_def = aws.ecs.register_task_definition(family="bluegreen-auth", containerDefinitions=[
        {"name": "app", "image": fx.IMAGE, "memory": 512},
        {"name": "appconfig-agent", "image": "public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x", "memory": 128},
    ])["taskDefinition"]["taskDefinitionArn"]
    appspec = {"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
        "TaskDefinition": task_def, "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080}}}}]}
    codedeploy.add(description="Deploy auth | requester=github:alice source=bgctl", appspec=appspec)
    codedeploy.add("d-ORDER0001", domain="order")
    return Runtime(Settings.from_env(), clients={**aws.clients(), "codedeploy": codedeploy, "events": events},
                   clock=clock, slack_timeout=0.5)


def _item(aws):
    return approvals.get_approval(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)


def test_request_records_posts_schedules_and_returns(hook_runtime, aws, codedeploy, slack, events, clock):
    aws.dynamodb.put_item(TableName=fx.TABLE, Item=approvals.to_attr({
        "pk": f"DEPLOYMENT#{fx.DEPLOYMENT_ID}", "sk": "SMOKE", "domain": "auth", "status": "PASSED",
        "finishedAt": "2030-05-01T11:59:00Z",
        "checks": [{"name": "health", "passed": True, "status": "200", "latencyMs": 42, "detail": ""},
                   {"name": "login flow", "passed": True, "status": "200", "latencyMs": 180, "detail": ""}]})["M"])

    result = request_logic.handle(dict(HOOK_EVENT), hook_runtime)

    assert result == {"result": "pending", "slackPosted": True, "expiryScheduled": True,
                      "expiresAt": "2030-05-01T12:45:00Z"}
    assert codedeploy.put_calls == []  # the decision comes later
    item = _item(aws)
    assert item["status"] == "PENDING" and item["hookExecutionId"] == fx.HOOK_ID
    assert item["requester"] == "github:alice" and item["requesterSlackId"] == "U0ALICE"
    assert item["image"] == fx.IMAGE  # from the task definition named in the AppSpec
    assert item["approverUserIds"] == ["U0BOB", "U0ALICE"] and item["approverGroupIds"] == ["S0RELEASE"]
    assert item["expiresAtEpoch"] == int(datetime(2030, 5, 1, 12, 45, tzinfo=timezone.utc).timestamp())

    [post] = slack.calls_to("chat.postMessage")
    assert post["channel"] == fx.CHANNEL and item["slackChannel"] == fx.CHANNEL and item["slackTs"]
    rendered = json.dumps(post["blocks"])
    for expected in ("auth", "v2", "<@U0ALICE>", fx.DEPLOYMENT_ID, "codesuite/codedeploy/deployments/d-ABCDEFGHI",
                     "http://auth.bluegreen.internal:9081", "Smoke checks PASSED", "(2/2 passed)", "login flow",
                     "d-ORDER0001", "order", "<!date^1903869900^", "<!subteam^S0RELEASE>"):
        assert expected in rendered, expected
    actions = [b for b in post["blocks"] if b["type"] == "actions"][0]["elements"]
    assert [(a["action_id"], a["value"]) for a in actions] == [("approve", fx.DEPLOYMENT_ID), ("reject", fx.DEPLOYMENT_ID)]

    schedule = aws.scheduler.get_schedule(Name=f"bluegreen-approval-expiry-{fx.DEPLOYMENT_ID}",
                                          GroupName="bluegreen-approvals")
    assert schedule["ScheduleExpression"] == "at(2030-05-01T12:45:00)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC" and schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["Arn"].endswith(":function:bluegreen-approval-expiry")
    assert schedule["Target"]["RoleArn"].endswith(":role/bluegreen-approval-scheduler")
    assert json.loads(schedule["Target"]["Input"]) == {"deploymentId": fx.DEPLOYMENT_ID}

    [event] = events.of_type("Approval Requested")
    assert event["platform"] == "bluegreen" and event["domain"] == "auth" and event["deploymentId"] == fx.DEPLOYMENT_ID
    assert event["slackPosted"] is True and events.entries[0]["Source"] == "bluegreen.platform"


def test_retried_invocation_is_idempotent(hook_runtime, aws, codedeploy, slack, events):
    request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    again = request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    assert again == {"result": "already-requested", "status": "PENDING"}
    assert len(slack.calls_to("chat.postMessage")) == 1 and codedeploy.put_calls == []


def test_retry_after_slack_failure_posts_and_tolerates_existing_schedule(hook_runtime, aws, slack):
    slack.errors["chat.postMessage"] = "ratelimited"
    assert request_logic.handle(dict(HOOK_EVENT), hook_runtime)["slackPosted"] is False
    del slack.errors["chat.postMessage"]
    result = request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    assert result["slackPosted"] is True and result["expiryScheduled"] is True  # ConflictException tolerated
    assert _item(aws)["slackTs"]


def test_approval_not_required_reports_succeeded_at_once(hook_runtime, aws, codedeploy, slack):
    metadata = json.loads(json.dumps(fx.METADATA))
    metadata["approval"]["required"] = False
    fx.put_parameters(aws.ssm, metadata=metadata)
    assert request_logic.handle(dict(HOOK_EVENT), hook_runtime) == {"result": "not-required", "codeDeployResult": "OK"}
    assert codedeploy.put_calls == [{"deploymentId": fx.DEPLOYMENT_ID, "hookId": fx.HOOK_ID, "status": "Succeeded"}]
    assert _item(aws) is None and slack.calls == []


@pytest.mark.parametrize("breakage", ["no-parameter", "no-approval", "no-channel", "not-json"])
def test_broken_configuration_reports_failed_at_once(hook_runtime, aws, codedeploy, slack, breakage):
    metadata = json.loads(json.dumps(fx.METADATA))
    if breakage == "no-parameter":
        aws.ssm.delete_parameter(Name="/bluegreen/domains/auth/deployment")
    elif breakage == "no-approval":
        del metadata["approval"]
    elif breakage == "no-channel":
        metadata["approval"]["channel"] = ""
    if breakage == "not-json":
        aws.ssm.put_parameter(Name="/bluegreen/domains/auth/deployment", Value="{not json", Type="String",
                              Overwrite=True)
    elif breakage != "no-parameter":
        fx.put_parameters(aws.ssm, metadata=metadata)
    result = request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    assert result["result"] == "failed" and result["codeDeployResult"] == "OK"
    assert codedeploy.put_calls[0]["status"] == "Failed"
    assert _item(aws) is None and slack.calls == []


def test_unknown_deployment_reports_failed(hook_runtime, codedeploy, slack):
    event = {"DeploymentId": "d-UNKNOWN00", "LifecycleEventHookExecutionId": fx.HOOK_ID}
    result = request_logic.handle(event, hook_runtime)
    assert result["result"] == "failed" and result["codeDeployResult"] == "DeploymentDoesNotExist"
    assert slack.calls == []


def test_dynamodb_down_reports_failed(hook_runtime, codedeploy, slack, monkeypatch):
    class Down:
        def put_item(self, **_):
            raise fx.client_error("InternalServerError", "PutItem")

        def get_item(self, **_):
            raise fx.client_error("InternalServerError", "GetItem")

    monkeypatch.setitem(hook_runtime._clients, "dynamodb", Down())
    assert request_logic.handle(dict(HOOK_EVENT), hook_runtime)["result"] == "failed"
    assert codedeploy.put_calls[0]["status"] == "Failed" and slack.calls == []


def test_slack_down_keeps_pending_and_schedule(hook_runtime, aws, codedeploy, events, caplog):
    hook_runtime.settings = replace(hook_runtime.settings, slack_base_url=fx.dead_base_url())
    result = request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    assert result["result"] == "pending" and result["slackPosted"] is False and result["expiryScheduled"] is True
    item = _item(aws)
    assert item["status"] == "PENDING" and "slackTs" not in item
    assert codedeploy.put_calls == []
    assert events.of_type("Approval Requested")[0]["slackPosted"] is False
    assert "could not post the approval request to Slack" in caplog.text


def test_scheduler_not_configured_still_pending(hook_runtime, aws, codedeploy, slack, caplog):
    hook_runtime.settings = replace(hook_runtime.settings, schedule_group=None)
    result = request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    assert result["result"] == "pending" and result["expiryScheduled"] is False
    assert "expiry schedule not configured" in caplog.text and codedeploy.put_calls == []


def test_unmapped_requester_and_no_approvers_are_warned(hook_runtime, aws, codedeploy, slack):
    codedeploy.deployments[fx.DEPLOYMENT_ID]["description"] = "Deploy | requester=github:mallory"
    metadata = json.loads(json.dumps(fx.METADATA))
    metadata["approval"].update(approverUserIds=[], approverGroupIds=[], expiryMinutes=10)
    fx.put_parameters(aws.ssm, metadata=metadata)
    result = request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    assert result["expiresAt"] == "2030-05-01T12:10:00Z"
    item = _item(aws)
    assert "requesterSlackId" not in item and item["requester"] == "github:mallory"
    rendered = json.dumps(slack.calls_to("chat.postMessage")[0]["blocks"])
    assert "self-approval cannot be detected" in rendered and "only `bgctl approve`" in rendered


@pytest.mark.parametrize("event", [{}, {"DeploymentId": "d-X"}, None, "x", {"DeploymentId": 1,
                                                                              "LifecycleEventHookExecutionId": 2}])
def test_not_a_hook_event(hook_runtime, codedeploy, slack, event):
    assert request_logic.handle(event, hook_runtime) == {"result": "ignored"}
    assert codedeploy.put_calls == [] and slack.calls == []


@pytest.mark.parametrize(("configured", "minutes"), [
    ({}, 45), ({"expiryMinutes": 10}, 10), ({"expiryMinutes": 90}, 55), ({"expiryMinutes": 0}, 1),
    ({"expiryMinutes": "30"}, 45), ({"expiryMinutes": True}, 45), ({"expiryMinutes": float("nan")}, 45)])
def test_expiry_minutes_is_clamped_below_the_hook_deadline(configured, minutes):
    assert request_logic.expiry_minutes(configured) == minutes


def test_schedule_helpers():
    assert request_logic.at_expression(datetime(2030, 5, 1, 12, 0, 0, 1, tzinfo=timezone.utc)) == "at(2030-05-01T12:00:01)"
    name = request_logic.schedule_name("a" * 80, fx.DEPLOYMENT_ID)
    assert len(name) <= 64 and name.endswith(fx.DEPLOYMENT_ID)
    assert request_logic.requester_slack_id("GitHub:Alice", {"github:alice": "U1"}) == "U1"
    assert request_logic.requester_slack_id("github:bob", {"github:alice": "U1"}) is None
