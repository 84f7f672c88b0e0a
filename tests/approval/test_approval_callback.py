"""The Slack callback: every refusal answers clearly, changes nothing and never calls CodeDeploy.

Each case asserts (1) the HTTP answer (empty 200 for verified clicks; the text travels through
chat.postEphemeral from the worker), (2) no vote or decision was recorded, (3) whether CodeDeploy's
PutLifecycleEventHookExecutionStatus was called (only the worker calls it, after the ack).
"""
from __future__ import annotations

import base64
import json
import time

import pytest

import approval_fakes as fx
from approval_gate import callback_logic, messages
from bgruntime import approvals


def call(runtime, event):
    answer = callback_logic.respond(event, runtime)
    response = answer.to_apigw()
    assert 200 <= response["statusCode"] < 500 and response["statusCode"] == answer.status
    if answer.status == 200:  # Slack ignores the body of a block_actions ack: the worker answers the clicker
        assert response["body"] == ""
        return 200, messages.ephemeral(answer.text)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], fx.response_json(response)


def assert_unchanged(pending, codedeploy, slack=None):
    item = pending()
    assert item["status"] == "PENDING" and "decidedBy" not in item and "codeDeployResult" not in item
    assert item["approvals"] == []
    assert codedeploy.put_calls == []
    if slack is not None:
        assert slack.calls_to("chat.update") == []


def ephemeral_text(status, body):
    assert status == 200
    assert body["response_type"] == "ephemeral" and body["replace_original"] is False
    return body["text"]


# ---------------------------------------------------------------------------------------------
# accepted


def test_authorized_user_approves(runtime, pending, codedeploy, slack, clock, events, stream, aws):
    clock.advance(minutes=5)
    status, body = call(runtime, fx.click_event(clock, user_id="U0BOB", user_name="bob"))
    assert "Approved auth deployment d-ABCDEFGHI by bob via slack" in ephemeral_text(status, body)
    assert codedeploy.put_calls == [] and slack.calls_to("chat.update") == []  # nothing but the records before the ack
    [decision] = fx.records_of(aws.dynamodb, "DECISION")
    assert (decision["status"], decision["decidedVia"], decision["deliveredBy"]) == ("APPROVED", "slack", "worker")
    assert stream() == {"batchItemFailures": []}
    item = pending()
    assert item["status"] == "APPROVED" and item["decidedBy"] == {"slackUserId": "U0BOB", "name": "bob"}
    assert item["codeDeployResult"] == "OK"
    assert codedeploy.put_calls == [{"deploymentId": fx.DEPLOYMENT_ID, "hookId": fx.HOOK_ID, "status": "Succeeded"}]
    [update] = slack.calls_to("chat.update")
    assert update["channel"] == fx.CHANNEL and update["ts"] == "1900000001.000100"
    rendered = json.dumps(update["blocks"])
    assert "Approved* by <@U0BOB>" in rendered and '"type": "actions"' not in rendered
    assert events.of_type("Approval Decided")[0]["decidedBy"] == {"slackUserId": "U0BOB", "name": "bob"}
    [ephemeral] = slack.calls_to("chat.postEphemeral")
    assert (ephemeral["channel"], ephemeral["user"]) == (fx.CHANNEL, "U0BOB") and "Approval recorded" in ephemeral["text"]


def test_usergroup_member_may_reject(runtime, pending, codedeploy, slack, clock, stream):
    status, body = call(runtime, fx.click_event(clock, user_id="U0CAROL", user_name="carol", action_id="reject"))
    assert "Rejected" in ephemeral_text(status, body)
    stream()
    assert pending()["status"] == "REJECTED" and codedeploy.put_calls[0]["status"] == "Failed"
    assert slack.calls_to("usergroups.users.list") == [{"usergroup": "S0RELEASE"}]


def test_requester_may_reject_own_deployment(runtime, pending, codedeploy, slack, clock):
    status, body = call(runtime, fx.click_event(clock, user_id="U0ALICE", action_id="reject"))
    assert "Rejected" in ephemeral_text(status, body)
    assert pending()["status"] == "REJECTED"


def test_base64_body_from_api_gateway(runtime, pending, codedeploy, slack, clock):
    body = fx.form_body(fx.block_actions_payload(user_id="U0BOB"))
    event = fx.apigw_event(body, timestamp=clock.epoch(), base64_body=True)
    status, answer = call(runtime, event)
    assert "Approved" in ephemeral_text(status, answer) and pending()["status"] == "APPROVED"


# ---------------------------------------------------------------------------------------------
# refused before authentication: 401 / 400 / 413


def test_forged_signature(runtime, pending, codedeploy, slack, clock):
    body = fx.form_body(fx.block_actions_payload())
    event = fx.apigw_event(body, timestamp=clock.epoch(), secret="not-the-signing-secret")
    assert call(runtime, event) == (401, {"error": "request signature could not be verified"})
    assert_unchanged(pending, codedeploy, slack)


def test_body_tampered_after_signing(runtime, pending, codedeploy, slack, clock):
    event = fx.click_event(clock, user_id="U0NOBODY")
    event["body"] = event["body"].replace("U0NOBODY", "U0BOB")
    assert call(runtime, event)[0] == 401
    assert_unchanged(pending, codedeploy, slack)


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_stale_or_future_timestamp(runtime, pending, codedeploy, slack, clock, age):
    body = fx.form_body(fx.block_actions_payload())
    event = fx.apigw_event(body, timestamp=clock.epoch() - age)  # correctly signed, wrong time
    assert call(runtime, event)[0] == 401
    assert_unchanged(pending, codedeploy, slack)


@pytest.mark.parametrize("missing", [("X-Slack-Signature",), ("X-Slack-Request-Timestamp",),
                                     ("X-Slack-Signature", "X-Slack-Request-Timestamp")])
def test_missing_headers(runtime, pending, codedeploy, slack, clock, missing):
    event = fx.click_event(clock)
    for name in missing:
        event["headers"].pop(name)
        event["multiValueHeaders"].pop(name)
    assert call(runtime, event) == (401, {"error": "missing Slack signature headers"})
    assert_unchanged(pending, codedeploy, slack)


def test_headers_null_and_lower_case(runtime, pending, codedeploy, slack, clock):
    event = fx.click_event(clock)
    event["headers"], event["multiValueHeaders"] = None, None
    assert call(runtime, event)[0] == 401
    event = fx.click_event(clock)
    event["headers"] = {k.lower(): v for k, v in event["headers"].items()}
    event["multiValueHeaders"] = {}
    assert call(runtime, event)[0] == 200  # header names are case-insensitive
    assert pending()["status"] == "APPROVED"


@pytest.mark.parametrize(("body", "reason"), [
    ("payload=not-json", "payload is not JSON"),
    ("payload=%5B1%2C2%5D", "payload is not a JSON object"),
    ("garbage", "expected exactly one payload field"),
    ("payload=%7B%7D&payload=%7B%7D", "expected exactly one payload field"),
    ("", "expected exactly one payload field"),
    ("payload=%FF%FE", "request body is not a valid form"),
    ("payload=" + "%5B" * 20000, "payload is not JSON"),  # nesting bomb -> RecursionError handled
    ("payload=" + "%7B%22type%22%3A%22block_actions%22%7D", "block_actions payload without actions or user"),
])
def test_malformed_but_signed_bodies_get_400(runtime, pending, codedeploy, slack, clock, body, reason):
    event = fx.apigw_event(body, timestamp=clock.epoch())
    assert call(runtime, event) == (400, {"error": reason})
    assert_unchanged(pending, codedeploy, slack)


def test_wrong_content_type(runtime, pending, codedeploy, slack, clock):
    event = fx.click_event(clock)
    event["headers"]["Content-Type"] = "application/json"
    assert call(runtime, event)[0] == 400
    assert_unchanged(pending, codedeploy, slack)


def test_invalid_base64(runtime, pending, codedeploy, slack, clock):
    event = fx.click_event(clock)
    event["isBase64Encoded"] = True
    event["body"] = "%%% not base64 %%%"
    assert call(runtime, event) == (400, {"error": "request body is not valid base64"})
    assert_unchanged(pending, codedeploy, slack)


@pytest.mark.parametrize("base64_body", [False, True])
def test_huge_body_is_refused_before_anything(runtime, pending, codedeploy, slack, clock, monkeypatch, base64_body):
    calls = []
    monkeypatch.setattr(runtime, "signing_secret", lambda: calls.append(1) or fx.SIGNING_SECRET)
    body = "payload=" + "a" * (64 * 1024)
    event = fx.apigw_event(body, timestamp=clock.epoch(), base64_body=base64_body)
    assert call(runtime, event)[0] == 413
    assert calls == []  # not even the secret was read
    assert_unchanged(pending, codedeploy, slack)


@pytest.mark.parametrize("event", [None, [], "payload=x", {"body": 12}, {"body": None}, {}])
def test_non_events(runtime, pending, codedeploy, event):
    assert call(runtime, event)[0] in (400, 401)
    assert_unchanged(pending, codedeploy)


def test_signing_secret_unavailable_is_401_and_logged(runtime, pending, codedeploy, slack, clock, monkeypatch, caplog):
    def broken():
        raise RuntimeError("AccessDenied")

    monkeypatch.setattr(runtime, "signing_secret", broken)
    assert call(runtime, fx.click_event(clock))[0] == 401
    assert "signing secret unavailable" in caplog.text
    assert_unchanged(pending, codedeploy, slack)


# ---------------------------------------------------------------------------------------------
# authenticated but refused: 200 ephemeral, nothing changed, no CodeDeploy call


def test_unknown_action_id(runtime, pending, codedeploy, slack, clock):
    text = ephemeral_text(*call(runtime, fx.click_event(clock, action_id="approve_all")))
    assert "Unknown action `approve_all`" in text
    assert_unchanged(pending, codedeploy, slack)


def test_other_interaction_types(runtime, pending, codedeploy, slack, clock):
    payload = fx.block_actions_payload()
    payload["type"] = "view_submission"
    event = fx.apigw_event(fx.form_body(payload), timestamp=clock.epoch())
    assert "only handles" in ephemeral_text(*call(runtime, event))
    assert_unchanged(pending, codedeploy, slack)


def test_not_a_deployment_id(runtime, pending, codedeploy, slack, clock):
    text = ephemeral_text(*call(runtime, fx.click_event(clock, deployment_id="DEPLOYMENT#x")))
    assert "deployment id" in text
    assert_unchanged(pending, codedeploy, slack)


def test_unknown_deployment(runtime, pending, codedeploy, slack, clock):
    text = ephemeral_text(*call(runtime, fx.click_event(clock, deployment_id="d-ZZZZZZZZZ")))
    assert "No approval request exists for deployment d-ZZZZZZZZZ" in text
    assert_unchanged(pending, codedeploy, slack)


def test_unknown_user(runtime, pending, codedeploy, slack, clock):
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0STRANGER")))
    assert text == "You are not an approver for auth. Nothing changed."
    assert_unchanged(pending, codedeploy, slack)


def test_unauthorized_user_with_no_groups_configured(runtime, aws, clock, codedeploy, slack):
    fx.seed_request(aws.dynamodb, clock, approverGroupIds=[])
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0CAROL")))
    assert "not an approver" in text
    assert slack.calls_to("usergroups.users.list") == [] and codedeploy.put_calls == []


def test_usergroup_lookup_failure_fails_closed(runtime, pending, codedeploy, slack, clock):
    slack.errors["usergroups.users.list"] = "missing_scope"
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0CAROL")))
    assert "Could not check that you are an approver" in text
    assert_unchanged(pending, codedeploy, slack)


def test_self_approval(runtime, pending, codedeploy, slack, clock):
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0ALICE")))
    assert "You requested this deployment, so you cannot approve it" in text
    assert_unchanged(pending, codedeploy, slack)


def test_refusals_are_recorded_with_their_reason(runtime, pending, codedeploy, slack, clock, aws, stream):
    call(runtime, fx.click_event(clock, user_id="U0STRANGER", user_name="stranger"))
    clock.advance(seconds=1)
    call(runtime, fx.click_event(clock, user_id="U0ALICE", user_name="alice"))
    events = fx.records_of(aws.dynamodb, "EVENT#")
    assert [(e["code"], e["actor"], e["via"], e["action"], e["outcome"]) for e in events] == [
        ("unauthorized", {"slackUserId": "U0STRANGER", "name": "stranger"}, "slack", "APPROVED", "refused"),
        ("self_approval", {"slackUserId": "U0ALICE", "name": "alice"}, "slack", "APPROVED", "refused")]
    stream()  # the worker answers each clicker ephemerally, and tells CodeDeploy nothing
    assert [(c["user"], c["text"]) for c in slack.calls_to("chat.postEphemeral")] == [
        ("U0STRANGER", events[0]["message"]), ("U0ALICE", events[1]["message"])]
    assert_unchanged(pending, codedeploy, slack)


def test_double_click(runtime, pending, codedeploy, slack, clock, stream):
    call(runtime, fx.click_event(clock, user_id="U0BOB"))
    stream()
    before = pending()
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0CAROL")))
    assert "already approved by bob" in text
    stream()
    assert {k: v for k, v in pending().items()} == before
    assert len(codedeploy.put_calls) == 1 and len(slack.calls_to("chat.update")) == 1


def test_click_after_expiry(runtime, pending, codedeploy, slack, clock):
    clock.advance(minutes=45)
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "expired" in text
    assert_unchanged(pending, codedeploy, slack)


def test_click_after_expiry_was_recorded(runtime, pending, codedeploy, slack, clock, handlers):
    clock.advance(minutes=46)
    from approval_gate import expiry_logic

    expiry_logic.handle({"deploymentId": fx.DEPLOYMENT_ID}, runtime)
    before, calls = pending(), len(codedeploy.put_calls)
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "already expired" in text and pending() == before and len(codedeploy.put_calls) == calls


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"channel": "C0OTHER"}, "channel"), ({"message_ts": "1900000009.000100"}, "message"),
])
def test_button_from_another_message(runtime, pending, codedeploy, slack, clock, overrides, problem):
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB", **overrides)))
    assert f"the button's {problem} does not match the recorded approval message" in text
    assert_unchanged(pending, codedeploy, slack)


@pytest.mark.parametrize(("field", "value"), [("team", {"id": "T0OTHER"}), ("team", None), ("api_app_id", "A0OTHER"),
                                              ("api_app_id", None), ("channel", None)])
def test_team_app_and_channel_must_match_and_be_present(runtime, pending, codedeploy, slack, clock, field, value):
    payload = fx.block_actions_payload(user_id="U0BOB")
    payload[field] = value
    if field == "channel":
        payload["container"].pop("channel_id")
    event = fx.apigw_event(fx.form_body(payload), timestamp=clock.epoch())
    assert "does not match the recorded approval message" in ephemeral_text(*call(runtime, event))
    assert_unchanged(pending, codedeploy, slack)


@pytest.mark.parametrize("missing", ["team", "appId", "channel", "ts"])
def test_recorded_message_without_an_id_fails_closed(runtime, aws, clock, codedeploy, slack, missing):
    approvals.put_record(table_name=fx.TABLE, record=fx.request_record(clock), dynamodb=aws.dynamodb)
    approvals.put_record(table_name=fx.TABLE, record=fx.message_record(clock, **{missing: None}),
                         dynamodb=aws.dynamodb)
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "does not match the recorded approval message" in text and codedeploy.put_calls == []


def test_no_recorded_message_fails_closed(runtime, aws, clock, codedeploy):
    fx.seed_request(aws.dynamodb, clock, message=False)
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "no approval message is recorded" in text


def test_codedeploy_error_is_retried_by_the_worker_until_answered(runtime, pending, codedeploy, slack, clock, aws,
                                                                   stream):
    codedeploy.put_error, codedeploy.put_errors_remaining = "ThrottlingException", 2
    call(runtime, fx.click_event(clock, user_id="U0BOB"))
    items = stream.feed.pending()
    from approval_gate import worker_logic

    batch = fx.stream_event(items)
    first = worker_logic.handle(batch, runtime)
    assert first["batchItemFailures"]  # the DECISION record is retried
    worker_logic.handle(batch, runtime)
    worker_logic.handle(batch, runtime)
    results = [r["result"] for r in fx.records_of(aws.dynamodb, "CODEDEPLOY#")]
    assert sorted(results) == ["ERROR:ThrottlingException", "ERROR:ThrottlingException", "OK"]
    assert len(codedeploy.put_calls) == 3
    worker_logic.handle(batch, runtime)  # a late duplicate delivery changes nothing
    assert len(codedeploy.put_calls) == 3


@pytest.mark.parametrize(("error", "result"), [("LifecycleEventAlreadyCompletedException", "LifecycleEventAlreadyCompleted"),
                                               ("DeploymentDoesNotExistException", "DeploymentDoesNotExist")])
def test_final_codedeploy_refusals_are_recorded_not_retried(runtime, pending, codedeploy, slack, clock, stream,
                                                            error, result):
    codedeploy.put_error = error
    call(runtime, fx.click_event(clock, user_id="U0BOB"))
    assert stream() == {"batchItemFailures": []}
    assert pending()["codeDeployResult"] == result and len(codedeploy.put_calls) == 1
    assert "CodeDeploy" in json.dumps(slack.calls_to("chat.update")[0]["blocks"])


def test_dynamodb_unavailable(runtime, pending, codedeploy, slack, clock, monkeypatch):
    def broken(**kwargs):
        raise fx.client_error("ProvisionedThroughputExceededException", "Query")

    monkeypatch.setattr(runtime.dynamodb, "query", broken)
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "Could not read the approval state (ProvisionedThroughputExceededException)" in text
    monkeypatch.undo()
    assert_unchanged(pending, codedeploy, slack)


def test_unexpected_exception_after_authentication_is_still_200(runtime, pending, codedeploy, slack, clock,
                                                                monkeypatch):
    monkeypatch.setattr(approvals, "attempt", lambda **kwargs: 1 / 0)
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "Something went wrong" in text
    monkeypatch.undo()
    assert_unchanged(pending, codedeploy, slack)


def test_slack_down_after_the_ack_decision_still_delivered(runtime, pending, codedeploy, clock, stream):
    runtime.settings = runtime.settings.__class__(**{**runtime.settings.__dict__,
                                                     "slack_base_url": fx.dead_base_url()})
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "Approved" in text
    assert stream() == {"batchItemFailures": []}  # Slack failures are cosmetic: not retried
    assert pending()["status"] == "APPROVED" and len(codedeploy.put_calls) == 1


def test_group_members_recorded_at_request_time_need_no_slack_call(runtime, aws, clock, codedeploy, slack):
    fx.seed_request(aws.dynamodb, clock, approverMembers=["U0CAROL"])
    assert "Approved" in ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0CAROL")))
    assert slack.calls == []
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0DAVE", deployment_id=fx.DEPLOYMENT_ID)))
    assert "already approved" in text


def test_live_group_lookup_is_bounded_by_the_budget(runtime, pending, codedeploy, slack, clock):
    slack.delays["usergroups.users.list"] = 5.0
    answer = callback_logic.respond(fx.click_event(clock, user_id="U0CAROL"), runtime, budget_seconds=0.5)
    assert answer.reason == "authorization-unavailable" and slack.calls_to("usergroups.users.list") == []
    assert_unchanged(pending, codedeploy)


def test_network_calls_before_the_ack(runtime, pending, codedeploy, slack, clock, aws, monkeypatch):
    """A warm click: exactly one Query and one conditional write reach AWS; nothing reaches Slack."""
    calls: list[str] = []
    handler = lambda params, model, **kw: calls.append(model.name)  # noqa: E731
    aws.dynamodb.meta.events.register("before-call.dynamodb.*", handler)
    aws.secretsmanager.meta.events.register("before-call.secretsmanager.*", handler)
    try:
        call(runtime, fx.click_event(clock, user_id="U0BOB"))  # cold: secret and Query run side by side
        assert sorted(calls[:2]) == ["GetSecretValue", "Query"] and calls[2:] == ["TransactWriteItems"]
        calls.clear()
        call(runtime, fx.click_event(clock, user_id="U0CAROL"))  # warm: refused, the refusal recorded
        assert calls == ["Query", "PutItem"]
    finally:
        aws.dynamodb.meta.events.unregister("before-call.dynamodb.*", handler)
        aws.secretsmanager.meta.events.unregister("before-call.secretsmanager.*", handler)
    assert codedeploy.put_calls == [] and codedeploy.get_calls == 0 and slack.calls == []


def test_cold_prefetch_is_dropped_when_the_signature_fails(runtime, pending, codedeploy, aws, clock):
    calls: list[str] = []
    handler = lambda params, model, **kw: calls.append(model.name)  # noqa: E731
    aws.dynamodb.meta.events.register("before-call.dynamodb.*", handler)
    try:
        forged = fx.apigw_event(fx.form_body(fx.block_actions_payload()), timestamp=clock.epoch(), secret="forged")
        assert call(runtime, forged)[0] == 401
    finally:
        aws.dynamodb.meta.events.unregister("before-call.dynamodb.*", handler)
    assert calls in ([], ["Query"])  # at most the read; never a write
    assert_unchanged(pending, codedeploy)
