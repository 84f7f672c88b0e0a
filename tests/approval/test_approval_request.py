"""The BeforeAllowTraffic hook: the requester from records nobody can write for themselves, the claim,
one Slack message however many deliveries, expiry schedule, event; failure policy."""
from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

import approval_fakes as fx
from approval_gate import request_logic
from bgruntime import approvals

HOOK_EVENT = fx.load_event("codedeploy_before_allow_traffic.json")
TRIGGER = "arn:aws:sts::123456789012:assumed-role/bluegreen-release-provider/cfn-trigger"
STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/Bluegreen-Domain-auth/0f0e0d0c-0b0a-0908-0706-050403020100"
SSO_ALICE = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com"


def _item(aws):
    return approvals.get_approval(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)


def _register(aws, clock, **kwargs):
    approvals.put_record(table_name=fx.TABLE, record=fx.registration_record(clock, **kwargs), dynamodb=aws.dynamodb)


def _platform(aws, **extra):
    fx.put_parameters(aws.ssm, platform_meta={**fx.PLATFORM_META, **extra})


def test_request_records_posts_schedules_and_returns(hook_runtime, aws, codedeploy, slack, events, clock):
    _register(aws, clock)
    approvals.put_record(table_name=fx.TABLE, dynamodb=aws.dynamodb, record={
        "pk": f"SMOKE#{fx.DEPLOYMENT_ID}", "sk": "RESULT", "domain": "auth", "status": "PASSED",
        "finishedAt": "2030-05-01T11:59:00Z",
        "checks": [{"name": "health", "passed": True, "status": "200", "latencyMs": 42, "detail": ""},
                   {"name": "login flow", "passed": True, "status": "200", "latencyMs": 180, "detail": ""}]})

    result = request_logic.handle(dict(HOOK_EVENT), hook_runtime)

    assert result == {"result": "pending", "slackPosted": True, "expiryScheduled": True,
                      "expiresAt": "2030-05-01T12:45:00Z", "requiredApprovals": 1}
    assert codedeploy.put_calls == []  # the decision comes later
    item = _item(aws)
    assert item["status"] == "PENDING" and item["hookExecutionId"] == fx.HOOK_ID
    assert (item["requester"], item["requesterSlackId"], item["requesterSource"], item["requesterVerifiedBy"]) == \
        ("github:alice", "U0ALICE", "registrar", ["iam", "github-oidc"])
    assert item["image"] == fx.IMAGE  # from the task definition named in the AppSpec
    assert item["approverUserIds"] == ["U0BOB", "U0ALICE"] and item["approverGroupIds"] == ["S0RELEASE"]
    assert item["approverMembers"] == ["U0ALICE", "U0CAROL"]  # recorded: clicks need no Slack call
    assert (item["requiredApprovals"], item["blocked"]) == (1, False)
    assert item["expiresAtEpoch"] == int(datetime(2030, 5, 1, 12, 45, tzinfo=timezone.utc).timestamp())

    [post] = slack.calls_to("chat.postMessage")
    [message] = fx.records_of(aws.dynamodb, "MESSAGE")
    assert (message["channel"], message["team"], message["appId"]) == (fx.CHANNEL, fx.TEAM, fx.APP_ID)
    assert post["channel"] == fx.CHANNEL and item["slackTs"] == message["ts"]
    rendered = json.dumps(post["blocks"])
    for expected in ("auth", "v2", "<@U0ALICE>", fx.DEPLOYMENT_ID, "codesuite/codedeploy/deployments/d-ABCDEFGHI",
                     "http://auth.bluegreen.internal:9081", "Smoke checks PASSED", "(2/2 passed)", "login flow",
                     "d-ORDER0001", "order", "<!date^1903869900^", "<!subteam^S0RELEASE>",
                     "Needs 1 distinct approver (not the requester)"):
        assert expected in rendered, expected
    actions = [b for b in post["blocks"] if b["type"] == "actions"][0]["elements"]
    assert [(a["action_id"], a["value"]) for a in actions] == [("approve", fx.DEPLOYMENT_ID), ("reject", fx.DEPLOYMENT_ID)]

    schedule = aws.scheduler.get_schedule(Name=f"bluegreen-approval-expiry-{fx.DEPLOYMENT_ID}",
                                          GroupName="bluegreen-approvals")
    assert schedule["ScheduleExpression"] == "at(2030-05-01T12:45:00)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC" and schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 300}
    assert schedule["Target"]["Arn"].endswith(":function:bluegreen-approval-expiry")
    assert json.loads(schedule["Target"]["Input"]) == {"deploymentId": fx.DEPLOYMENT_ID}

    [event] = events.of_type("Approval Requested")
    assert event["requester"] == "github:alice" and event["requiredApprovals"] == 1 and event["slackPosted"] is True


def test_description_tokens_are_never_trusted(hook_runtime, aws, slack):
    """No registration record (console / raw API call): unknown requester, two approvers, whatever the
    description says."""
    request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    item = _item(aws)
    assert (item["requester"], item.get("requesterSlackId"), item["requesterSource"]) == ("unknown", None, "none")
    assert (item["requiredApprovals"], item["blocked"]) == (2, False)
    rendered = json.dumps(slack.calls_to("chat.postMessage")[0]["blocks"])
    assert "two distinct approvers (fail closed)" in rendered and "github:bob" not in rendered


@pytest.mark.parametrize(("registration", "identity_map", "expected"), [
    ({"github_actor": None, "principal": SSO_ALICE, "source": "bgctl"}, {f"iam:{SSO_ALICE}": "U0ALICE"},
     (f"iam:{SSO_ALICE}", "U0ALICE", 1)),
    ({"github_actor": None, "principal": SSO_ALICE, "source": "bgctl"}, {}, (f"iam:{SSO_ALICE}", None, 2)),
    ({"github_actor": "mallory"}, {"github:alice": "U0ALICE"}, ("github:mallory", None, 2)),
    ({"github_actor": "Alice"}, {"github:alice": "U0ALICE"}, ("github:Alice", "U0ALICE", 1)),
])
def test_requester_sources(hook_runtime, aws, clock, registration, identity_map, expected):
    _register(aws, clock, **registration)
    _platform(aws, slackIdentityMap=identity_map)
    request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    item = _item(aws)
    assert (item["requester"], item.get("requesterSlackId"), item["requiredApprovals"]) == expected


def test_cdk_deploy_requester_is_the_principal_cloudtrail_saw_update_the_stack(hook_runtime, aws, clock, cloudtrail):
    cloudtrail.add_stack_update(STACK_ID, arn=SSO_ALICE, at=clock() - timedelta(minutes=20))
    cloudtrail.add_stack_update(STACK_ID, arn="arn:aws:sts::123456789012:assumed-role/old/x",
                                at=clock() - timedelta(hours=5))  # an older update outside the window
    _register(aws, clock, github_actor=None, principal=TRIGGER, source="cloudformation", stackId=STACK_ID)
    _platform(aws, slackIdentityMap={f"iam:{SSO_ALICE}": "U0ALICE"})
    request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    item = _item(aws)
    assert (item["requester"], item["requesterSlackId"], item["requesterSource"]) == \
        (f"iam:{SSO_ALICE}", "U0ALICE", "cloudtrail")
    assert item["requesterVerifiedBy"] == ["iam", "cloudtrail"] and item["requiredApprovals"] == 1
    assert cloudtrail.calls[0]["LookupAttributes"] == [{"AttributeKey": "ResourceName", "AttributeValue": STACK_ID}]


def test_cdk_deploy_without_a_cloudtrail_event_fails_closed(hook_runtime, aws, clock, cloudtrail):
    _register(aws, clock, github_actor=None, principal=TRIGGER, source="cloudformation", stackId=STACK_ID)
    request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    item = _item(aws)
    assert (item["requester"], item["requesterSource"], item["requiredApprovals"]) == ("unknown", "cloudtrail", 2)
    assert len(cloudtrail.calls) == 2  # by stack ARN, then by stack name


def test_domain_rules_min_approvers_and_block(hook_runtime, aws, clock):
    _platform(aws, approvalRules={"auth": {"minApprovers": 2, "unknownRequester": "block"}})
    request_logic.handle(dict(HOOK_EVENT), hook_runtime)  # unknown requester
    item = _item(aws)
    assert (item["requiredApprovals"], item["blocked"]) == (2, True)


@pytest.mark.parametrize(("rules", "required"), [({}, 1), ({"minApprovers": 2}, 2), ({"minApprovers": 3}, 3)])
def test_min_approvers_applies_to_a_known_requester(hook_runtime, aws, clock, rules, required):
    """A verified, mapped requester (github:alice): the domain's min_approvers, not the unknown-requester two."""
    _register(aws, clock)
    _platform(aws, approvalRules={"auth": {**rules, "unknownRequester": "block"}})
    request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    item = _item(aws)
    assert (item["requester"], item["requesterSlackId"]) == ("github:alice", "U0ALICE")
    assert (item["requiredApprovals"], item["blocked"]) == (required, False)


def test_overlapping_deliveries_post_one_message(hook_runtime, aws, codedeploy, slack, events, atomic_moto_writes):
    slack.delays["usergroups.users.list"] = 0.2  # both deliveries are inside the hook at the same time
    barrier = threading.Barrier(2)
    results = []

    def deliver():
        barrier.wait()
        results.append(request_logic.handle(dict(HOOK_EVENT), hook_runtime))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r["result"] for r in results) == ["already-requested", "pending"]
    assert len(slack.calls_to("chat.postMessage")) == 1 and len(events.of_type("Approval Requested")) == 1
    assert len(fx.records_of(aws.dynamodb, "MESSAGE")) == 1 and codedeploy.put_calls == []


def test_later_deliveries_never_post_again(hook_runtime, aws, codedeploy, slack):
    slack.errors["chat.postMessage"] = "ratelimited"
    assert request_logic.handle(dict(HOOK_EVENT), hook_runtime)["slackPosted"] is False
    del slack.errors["chat.postMessage"]
    assert request_logic.handle(dict(HOOK_EVENT), hook_runtime) == {"result": "already-requested", "status": "PENDING"}
    assert len(slack.calls_to("chat.postMessage")) == 2  # the first delivery's two attempts, nothing after
    assert codedeploy.put_calls == []


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
        def query(self, **_):
            raise fx.client_error("InternalServerError", "Query")

    monkeypatch.setitem(hook_runtime._clients, "dynamodb", Down())
    assert request_logic.handle(dict(HOOK_EVENT), hook_runtime)["result"] == "failed"
    assert codedeploy.put_calls[0]["status"] == "Failed" and slack.calls == []


def test_slack_down_keeps_pending_and_schedule(hook_runtime, aws, codedeploy, events, caplog):
    hook_runtime.settings = replace(hook_runtime.settings, slack_base_url=fx.dead_base_url())
    result = request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    assert result["result"] == "pending" and result["slackPosted"] is False and result["expiryScheduled"] is True
    item = _item(aws)
    assert item["status"] == "PENDING" and "slackTs" not in item and "approverMembers" not in item
    assert codedeploy.put_calls == []
    assert events.of_type("Approval Requested")[0]["slackPosted"] is False
    assert "could not post the approval request to Slack" in caplog.text


def test_scheduler_not_configured_still_pending(hook_runtime, aws, codedeploy, slack, caplog):
    hook_runtime.settings = replace(hook_runtime.settings, schedule_group=None)
    result = request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    assert result["result"] == "pending" and result["expiryScheduled"] is False
    assert "expiry schedule not configured" in caplog.text and codedeploy.put_calls == []


def test_no_approvers_is_warned(hook_runtime, aws, codedeploy, slack):
    metadata = json.loads(json.dumps(fx.METADATA))
    metadata["approval"].update(approverUserIds=[], approverGroupIds=[], expiryMinutes=10)
    fx.put_parameters(aws.ssm, metadata=metadata)
    result = request_logic.handle(dict(HOOK_EVENT), hook_runtime)
    assert result["expiresAt"] == "2030-05-01T12:10:00Z"
    rendered = json.dumps(slack.calls_to("chat.postMessage")[0]["blocks"])
    assert "only `bgctl approve`" in rendered


@pytest.mark.parametrize("event", [{}, {"DeploymentId": "d-X"}, None, "x", {"DeploymentId": 1,
                                                                              "LifecycleEventHookExecutionId": 2}])
def test_not_a_hook_event(hook_runtime, codedeploy, slack, event):
    assert request_logic.handle(event, hook_runtime) == {"result": "ignored"}
    assert codedeploy.put_calls == [] and slack.calls == []


@pytest.mark.parametrize(("configured", "minutes"), [
    ({}, 45), ({"expiryMinutes": 10}, 10), ({"expiryMinutes": 90}, 50), ({"expiryMinutes": 0}, 1),
    ({"expiryMinutes": "30"}, 45), ({"expiryMinutes": True}, 45), ({"expiryMinutes": float("nan")}, 45)])
def test_expiry_minutes_is_clamped_to_the_shared_limit(configured, minutes):
    assert request_logic.expiry_minutes(configured) == minutes


def test_schedule_helpers():
    assert request_logic.at_expression(datetime(2030, 5, 1, 12, 0, 0, 1, tzinfo=timezone.utc)) == "at(2030-05-01T12:00:01)"
    name = request_logic.schedule_name("a" * 80, fx.DEPLOYMENT_ID)
    assert len(name) <= 64 and name.endswith(fx.DEPLOYMENT_ID)
