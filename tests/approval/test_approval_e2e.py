"""End to end through the real handler files: hook -> Slack message -> signed click -> CodeDeploy."""
from __future__ import annotations

import json

import pytest

import approval_fakes as fx
from approval_gate.runtime import Runtime, Settings
from bgruntime import approvals


@pytest.fixture()
def wired(handlers, settings_env, aws, codedeploy, events, clock):
    """Install runtimes in the three handler modules as their Lambda environment would build them."""
    task_def = aws.ecs.register_task_definition(family="bluegreen-auth", containerDefinitions=[
        {"name": "app", "image": fx.IMAGE, "memory": 512}])["taskDefinition"]["taskDefinitionArn"]
    codedeploy.add(appspec={"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
        "TaskDefinition": task_def, "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080}}}}]})
    # callback: built lazily from the environment exactly like in Lambda (boto3 clients created on
    # first use, against moto); only CodeDeploy (moto lacks the hook API) and the clock are swapped.
    callback_runtime = handlers["callback"].RUNTIME.get()
    assert callback_runtime.settings == Settings.from_env()
    callback_runtime._clients.update(codedeploy=codedeploy, events=events)
    callback_runtime.clock = clock
    callback_runtime.ack_budget_seconds, callback_runtime.slack_timeout = 10.0, 2.0  # loaded CI machines
    for name in ("request", "expiry"):
        handlers[name].RUNTIME.set(Runtime(Settings.from_env(), clock=clock, clients={
            **aws.clients(), "codedeploy": codedeploy, "events": events}))
    return handlers


def _click_from_message(post, answer_ts, clock, *, user_id, action_id):
    button = next(e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == action_id)
    payload = fx.block_actions_payload(user_id=user_id, user_name=user_id.lower(), action_id=action_id,
                                       deployment_id=button["value"], channel=post["channel"], message_ts=answer_ts)
    payload["message"]["blocks"] = post["blocks"]
    return fx.apigw_event(fx.form_body(payload), timestamp=clock.epoch(), base64_body=True)


def test_request_click_approve_codedeploy_update(wired, aws, codedeploy, slack, events, clock):
    hook_event = fx.load_event("codedeploy_before_allow_traffic.json")
    assert wired["request"].handler(hook_event, None)["result"] == "pending"
    [post] = slack.calls_to("chat.postMessage")
    item = approvals.get_approval(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)
    assert codedeploy.put_calls == []

    clock.advance(minutes=4)
    response = wired["callback"].handler(_click_from_message(post, item["slackTs"], clock, user_id="U0CAROL",
                                                             action_id="approve"), None)
    assert response["statusCode"] == 200
    assert fx.response_json(response)["text"].startswith("Approved auth deployment d-ABCDEFGHI by u0carol via slack")

    assert codedeploy.put_calls == [{"deploymentId": fx.DEPLOYMENT_ID, "hookId": fx.HOOK_ID, "status": "Succeeded"}]
    [update] = slack.calls_to("chat.update")
    assert (update["channel"], update["ts"]) == (fx.CHANNEL, item["slackTs"])
    assert "Approved* by <@U0CAROL>" in json.dumps(update["blocks"])
    assert all(auth == f"Bearer {fx.BOT_TOKEN}" for _, _, auth in slack.calls)
    item = approvals.get_approval(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)
    assert (item["status"], item["decidedVia"], item["codeDeployResult"]) == ("APPROVED", "slack", "OK")
    assert [e["DetailType"] for e in events.entries] == ["Approval Requested", "Approval Decided"]

    # the expiry fires later anyway: a no-op
    schedule = aws.scheduler.get_schedule(Name=f"bluegreen-approval-expiry-{fx.DEPLOYMENT_ID}",
                                          GroupName="bluegreen-approvals")
    clock.advance(minutes=41)
    assert wired["expiry"].handler(json.loads(schedule["Target"]["Input"]), None)["result"] == "noop"
    assert len(codedeploy.put_calls) == 1 and len(slack.calls_to("chat.update")) == 1


def test_request_then_expiry(wired, aws, codedeploy, slack, clock):
    assert wired["request"].handler(fx.load_event("codedeploy_before_allow_traffic.json"), None)["result"] == "pending"
    [post] = slack.calls_to("chat.postMessage")
    ts = approvals.get_approval(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)["slackTs"]
    schedule = aws.scheduler.get_schedule(Name=f"bluegreen-approval-expiry-{fx.DEPLOYMENT_ID}",
                                          GroupName="bluegreen-approvals")
    assert schedule["ScheduleExpression"] == "at(2030-05-01T12:45:00)"

    clock.advance(minutes=45)  # EventBridge Scheduler fires at expiresAt
    result = wired["expiry"].handler(json.loads(schedule["Target"]["Input"]), None)
    assert result["result"] == "expired" and result["slackUpdated"] is True
    assert codedeploy.put_calls == [{"deploymentId": fx.DEPLOYMENT_ID, "hookId": fx.HOOK_ID, "status": "Failed"}]
    assert "Expired" in json.dumps(slack.calls_to("chat.update")[0]["blocks"])

    clock.advance(seconds=30)  # a late click
    response = wired["callback"].handler(_click_from_message(post, ts, clock, user_id="U0BOB", action_id="approve"),
                                         None)
    assert response["statusCode"] == 200 and "expired" in fx.response_json(response)["text"]
    assert len(codedeploy.put_calls) == 1
