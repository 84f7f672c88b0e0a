"""End to end through the real handler files: deploy API -> hook -> Slack message -> signed clicks ->
records -> worker (stream) -> CodeDeploy; the rollback rule; the expiry."""
from __future__ import annotations

import json

import pytest

import approval_fakes as fx
import oidc_fakes as oidc
from approval_gate.runtime import Runtime, Settings
from bgruntime import approvals
from bgruntime.github_oidc import JwksCache

registrar = fx.load_registrar()
KEY = oidc.SigningKey()
DEPLOY_ROLE = "arn:aws:sts::123456789012:assumed-role/bluegreen-deploy-org-app/run-7"
BOB_SSO = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_0123/bob"


@pytest.fixture()
def wired(handlers, settings_env, aws, codedeploy, events, clock):
    """Runtimes in the handler modules as their Lambda environment builds them; the deploy API context."""
    codedeploy.deployments.clear()
    callback_runtime = handlers["callback"].RUNTIME.get()
    assert callback_runtime.settings == Settings.from_env()
    callback_runtime._clients.update(codedeploy=codedeploy, events=events)
    callback_runtime.clock = clock
    callback_runtime.ack_budget_seconds, callback_runtime.slack_timeout = 10.0, 2.0  # loaded CI machines
    for name in ("request", "expiry", "worker"):
        handlers[name].RUNTIME.set(Runtime(Settings.from_env(), clock=clock, clients={
            **aws.clients(), "codedeploy": codedeploy, "events": events, "cloudtrail": fx.FakeCloudTrail()}))
    fx.put_parameters(aws.ssm, metadata={**fx.METADATA, "hooks": {"BeforeAllowTraffic": "arn:hook"}}, platform_meta={
        **fx.PLATFORM_META, "githubDeployers": ["org/app"],
        "slackIdentityMap": {"github:alice": "U0ALICE", f"iam:{BOB_SSO}": "U0BOB"}})
    api = registrar.Context(platform="bluegreen", table=fx.TABLE, region="eu-west-1", ssm=aws.ssm,
                            dynamodb=aws.dynamodb, codedeploy=codedeploy, clock=clock,
                            jwks=JwksCache(fetch=lambda url, timeout: json.dumps({"keys": [KEY.jwk()]}).encode()))
    stream = fx.Stream(aws.dynamodb)
    return handlers, api, stream


def _register(aws, api, clock, *, arn, body):
    shaped = fx.load_event("apigw_deploy_api_start.json")
    shaped["requestContext"]["identity"]["userArn"] = arn
    shaped["body"] = json.dumps(body)
    response = registrar.handle(shaped, api)
    assert response["statusCode"] == 201, response["body"]
    return json.loads(response["body"])["deploymentId"]


def _task_definition(aws, tag):
    return aws.ecs.register_task_definition(family="bluegreen-auth", containerDefinitions=[
        {"name": "app", "image": f"{fx.IMAGE.rsplit(':', 1)[0]}:{tag}", "memory": 512}])["taskDefinition"][
        "taskDefinitionArn"]


def _hook(handlers, deployment_id):
    return handlers["request"].handler({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": fx.HOOK_ID},
                                       None)


def _click(post, message, clock, *, user_id, action_id, deployment_id):
    payload = fx.block_actions_payload(user_id=user_id, user_name=user_id.lower(), action_id=action_id,
                                       deployment_id=deployment_id, channel=post["channel"], message_ts=message["ts"])
    payload["message"]["blocks"] = post["blocks"]
    return fx.apigw_event(fx.form_body(payload), timestamp=clock.epoch(), base64_body=True)


def test_release_needs_a_non_requester_then_codedeploy_is_told(wired, aws, codedeploy, slack, events, clock):
    handlers, api, stream = wired
    deployment_id = _register(aws, api, clock, arn=DEPLOY_ROLE, body={
        "domain": "auth", "taskDefinitionArn": _task_definition(aws, "v2"), "kind": "release", "reason": "v2",
        "source": "github-actions", "githubOidcToken": KEY.sign(oidc.claims(clock().timestamp(), actor="alice"))})
    assert _hook(handlers, deployment_id)["result"] == "pending"
    [post] = slack.calls_to("chat.postMessage")
    [message] = fx.records_of(aws.dynamodb, "MESSAGE", deployment_id)

    clock.advance(minutes=4)
    own = handlers["callback"].handler(_click(post, message, clock, user_id="U0ALICE", action_id="approve",
                                              deployment_id=deployment_id), None)
    assert own == {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "", "isBase64Encoded": False}
    ok = handlers["callback"].handler(_click(post, message, clock, user_id="U0CAROL", action_id="approve",
                                             deployment_id=deployment_id), None)
    assert ok["statusCode"] == 200 and codedeploy.put_calls == []  # nothing but records before the ack
    assert handlers["worker"].handler(fx.stream_event(stream.pending()), None) == {"batchItemFailures": []}

    assert codedeploy.put_calls == [{"deploymentId": deployment_id, "hookId": fx.HOOK_ID, "status": "Succeeded"}]
    ephemerals = {c["user"]: c["text"] for c in slack.calls_to("chat.postEphemeral")}
    assert "You requested this deployment" in ephemerals["U0ALICE"] and "Approval recorded" in ephemerals["U0CAROL"]
    [update] = slack.calls_to("chat.update")
    assert (update["channel"], update["ts"]) == (fx.CHANNEL, message["ts"])
    assert "Approved* by <@U0CAROL>" in json.dumps(update["blocks"])
    history = [r["sk"].split("#")[0] for r in fx.all_records(aws.dynamodb, deployment_id)]
    assert sorted(history) == sorted(["REGISTERED", "APPROVAL", "MESSAGE", "EVENT", "VOTE", "VOTER", "DECISION",
                                      "CODEDEPLOY"])
    assert [e["DetailType"] for e in events.entries] == ["Approval Requested", "Approval Decided"]


def test_unknown_requester_needs_two_distinct_approvers(wired, aws, codedeploy, slack, clock):
    handlers, api, stream = wired
    codedeploy.add("d-CONSOLE01", appspec={"version": 0.0, "Resources": []})  # started in the console: no record
    assert _hook(handlers, "d-CONSOLE01")["requiredApprovals"] == 2
    [post] = slack.calls_to("chat.postMessage")
    [message] = fx.records_of(aws.dynamodb, "MESSAGE", "d-CONSOLE01")
    for user in ("U0BOB", "U0BOB"):  # a double click counts once
        handlers["callback"].handler(_click(post, message, clock, user_id=user, action_id="approve",
                                            deployment_id="d-CONSOLE01"), None)
    handlers["worker"].handler(fx.stream_event(stream.pending()), None)
    assert codedeploy.put_calls == []
    progress = json.dumps(slack.calls_to("chat.update")[-1]["blocks"])
    assert "Approved so far by <@U0BOB>" in progress and "1 more to go" in progress and '"type": "actions"' in progress
    handlers["callback"].handler(_click(post, message, clock, user_id="U0ALICE", action_id="approve",
                                        deployment_id="d-CONSOLE01"), None)
    handlers["worker"].handler(fx.stream_event(stream.pending()), None)
    assert codedeploy.put_calls == [{"deploymentId": "d-CONSOLE01", "hookId": fx.HOOK_ID, "status": "Succeeded"}]
    decision = approvals.load_state(table_name=fx.TABLE, deployment_id="d-CONSOLE01", dynamodb=aws.dynamodb).decision
    assert [a["slackUserId"] for a in decision["approvers"]] == ["U0BOB", "U0ALICE"]


def _succeeded_before(codedeploy, task_definition):
    codedeploy.add("d-EARLIER01", status="Succeeded", appspec={"version": 0.0, "Resources": [{"TargetService": {
        "Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": task_definition}}}]})


def test_rollback_by_an_approver_to_a_revision_that_ran_is_auto_approved(wired, aws, codedeploy, slack, events,
                                                                        clock):
    handlers, api, stream = wired
    good = _task_definition(aws, "v1")
    _succeeded_before(codedeploy, good)
    deployment_id = _register(aws, api, clock, arn=BOB_SSO, body={
        "domain": "auth", "taskDefinitionArn": good, "kind": "rollback", "reason": "v2 broke checkout",
        "source": "bgctl"})
    assert codedeploy.create_calls[0]["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    assert _hook(handlers, deployment_id) == {"result": "auto-approved", "rule": "rollback-to-known-good"}
    assert slack.calls_to("chat.postMessage") == []
    handlers["worker"].handler(fx.stream_event(stream.pending()), None)
    assert codedeploy.put_calls == [{"deploymentId": deployment_id, "hookId": fx.HOOK_ID, "status": "Succeeded"}]
    state = approvals.load_state(table_name=fx.TABLE, deployment_id=deployment_id, dynamodb=aws.dynamodb)
    assert (state.decision["status"], state.decision["decidedVia"], state.decision["rule"]) == \
        ("APPROVED", "rule", "rollback-to-known-good")
    assert "d-EARLIER01" in state.decision["reason"] and state.delivered
    assert events.of_type("Approval Decided")[0]["rule"] == "rollback-to-known-good"


@pytest.mark.parametrize("case", ["never-ran", "unmapped-requester", "release"])
def test_anything_else_goes_through_the_normal_gate(wired, aws, codedeploy, slack, clock, case):
    handlers, api, stream = wired
    target = _task_definition(aws, "v1")
    if case != "never-ran":
        _succeeded_before(codedeploy, target)
    arn = DEPLOY_ROLE if case == "unmapped-requester" else BOB_SSO
    body = {"domain": "auth", "taskDefinitionArn": target, "kind": "release" if case == "release" else "rollback",
            "reason": "back", "source": "github-actions" if case == "unmapped-requester" else "bgctl"}
    if case == "unmapped-requester":  # a verified GitHub actor nobody mapped to Slack
        body["githubOidcToken"] = KEY.sign(oidc.claims(clock().timestamp(), actor="dave"))
    deployment_id = _register(aws, api, clock, arn=arn, body=body)
    assert _hook(handlers, deployment_id)["result"] == "pending"
    assert len(slack.calls_to("chat.postMessage")) == 1 and codedeploy.put_calls == []


def test_request_then_expiry_then_late_click(wired, aws, codedeploy, slack, clock):
    handlers, api, stream = wired
    codedeploy.add(appspec={"version": 0.0, "Resources": []})
    assert _hook(handlers, fx.DEPLOYMENT_ID)["result"] == "pending"
    [post] = slack.calls_to("chat.postMessage")
    [message] = fx.records_of(aws.dynamodb, "MESSAGE")
    schedule = aws.scheduler.get_schedule(Name=f"bluegreen-approval-expiry-{fx.DEPLOYMENT_ID}",
                                          GroupName="bluegreen-approvals")
    assert schedule["ScheduleExpression"] == "at(2030-05-01T12:45:00)"
    clock.advance(minutes=45)
    result = handlers["expiry"].handler(json.loads(schedule["Target"]["Input"]), None)
    assert result == {"result": "expired", "code": "decided", "codeDeployResult": "OK"}
    handlers["worker"].handler(fx.stream_event(stream.pending()), None)
    assert codedeploy.put_calls == [{"deploymentId": fx.DEPLOYMENT_ID, "hookId": fx.HOOK_ID, "status": "Failed"}]
    assert "Expired" in json.dumps(slack.calls_to("chat.update")[0]["blocks"])
    clock.advance(seconds=30)
    handlers["callback"].handler(_click(post, message, clock, user_id="U0BOB", action_id="approve",
                                        deployment_id=fx.DEPLOYMENT_ID), None)
    [late] = fx.records_of(aws.dynamodb, "EVENT#")
    assert late["code"] == "already_decided" and len(codedeploy.put_calls) == 1
