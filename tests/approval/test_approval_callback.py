"""The Slack callback: every refusal answers clearly, changes nothing and never calls CodeDeploy.

Each case asserts (1) the HTTP answer, (2) the item is unchanged, (3) whether CodeDeploy's
PutLifecycleEventHookExecutionStatus was called.
"""
from __future__ import annotations

import base64
import json
import time

import pytest

import approval_fakes as fx
from approval_gate import callback_logic


def call(runtime, event):
    response = callback_logic.handle(event, runtime)
    assert 200 <= response["statusCode"] < 500
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], fx.response_json(response)


def assert_unchanged(pending, codedeploy, slack=None):
    item = pending()
    assert item["status"] == "PENDING" and "decidedBy" not in item and "codeDeployResult" not in item
    assert codedeploy.put_calls == []
    if slack is not None:
        assert slack.calls_to("chat.update") == []


def ephemeral_text(status, body):
    assert status == 200
    assert body["response_type"] == "ephemeral" and body["replace_original"] is False
    return body["text"]


# ---------------------------------------------------------------------------------------------
# accepted


def test_authorized_user_approves(runtime, pending, codedeploy, slack, clock, events):
    clock.advance(minutes=5)
    status, body = call(runtime, fx.click_event(clock, user_id="U0BOB", user_name="bob"))
    assert "Approved auth deployment d-ABCDEFGHI by bob via slack" in ephemeral_text(status, body)
    item = pending()
    assert item["status"] == "APPROVED" and item["decidedBy"] == {"slackUserId": "U0BOB", "name": "bob"}
    assert item["codeDeployResult"] == "OK"
    assert codedeploy.put_calls == [{"deploymentId": fx.DEPLOYMENT_ID, "hookId": fx.HOOK_ID, "status": "Succeeded"}]
    [update] = slack.calls_to("chat.update")
    assert update["channel"] == fx.CHANNEL and update["ts"] == "1900000001.000100"
    rendered = json.dumps(update["blocks"])
    assert "Approved* by <@U0BOB>" in rendered and '"type": "actions"' not in rendered
    assert events.of_type("Approval Decided")[0]["decidedBy"] == {"slackUserId": "U0BOB", "name": "bob"}


def test_usergroup_member_may_reject(runtime, pending, codedeploy, slack, clock):
    status, body = call(runtime, fx.click_event(clock, user_id="U0CAROL", user_name="carol", action_id="reject"))
    assert "Rejected" in ephemeral_text(status, body)
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
    assert "Approved" in ephemeral_text(status, answer) and len(codedeploy.put_calls) == 1


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
    assert len(codedeploy.put_calls) == 1


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
    assert "not an approver for *auth*" in text and "<@U0BOB>" in text and "<!subteam^S0RELEASE>" in text
    assert_unchanged(pending, codedeploy, slack)


def test_unauthorized_user_with_no_groups_configured(runtime, aws, clock, codedeploy, slack):
    from bgruntime import approvals

    approvals.create_pending(**fx.pending_item(clock, approver_group_ids=[]), dynamodb=aws.dynamodb)
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0CAROL")))
    assert "not an approver" in text
    assert slack.calls_to("usergroups.users.list") == [] and codedeploy.put_calls == []


def test_usergroup_lookup_failure_fails_closed(runtime, pending, codedeploy, slack, clock):
    slack.errors["usergroups.users.list"] = "missing_scope"
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0CAROL")))
    assert "Could not check your approver group membership (Slack: missing_scope)" in text
    assert_unchanged(pending, codedeploy, slack)


def test_self_approval(runtime, pending, codedeploy, slack, clock):
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0ALICE")))
    assert "You requested this deployment, so you cannot approve it" in text
    assert_unchanged(pending, codedeploy, slack)


def test_double_click(runtime, pending, codedeploy, slack, clock):
    assert "Approved" in ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    before = pending()
    clock.advance(seconds=2)
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "already approved by <@U0BOB>" in text and "Nothing changed" in text
    assert pending() == before
    assert len(codedeploy.put_calls) == 1 and len(slack.calls_to("chat.update")) == 1


def test_click_after_expiry(runtime, pending, codedeploy, slack, clock):
    clock.advance(minutes=45, seconds=1)
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "expired at 2030-05-01T12:45:00Z" in text
    assert_unchanged(pending, codedeploy, slack)


def test_click_after_expiry_was_recorded(runtime, pending, codedeploy, slack, clock, aws):
    from bgruntime import approvals

    clock.advance(minutes=45)
    approvals.decide(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, decision="EXPIRED",
                     decided_by={"name": "approval expiry"}, decided_via="expiry", reason=None, now=clock(),
                     dynamodb=aws.dynamodb, codedeploy=codedeploy, events=fx.FakeEvents())
    before, calls = pending(), len(codedeploy.put_calls)
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "expired" in text and pending() == before and len(codedeploy.put_calls) == calls


@pytest.mark.parametrize("status", ["Stopped", "Failed", "Succeeded"])
def test_click_after_deployment_stopped(runtime, pending, codedeploy, slack, clock, status):
    codedeploy.deployments[fx.DEPLOYMENT_ID]["status"] = status
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert f"already *{status}* in CodeDeploy" in text
    assert_unchanged(pending, codedeploy, slack)
    assert codedeploy.get_calls == 1


def test_click_after_deployment_deleted(runtime, pending, codedeploy, slack, clock):
    codedeploy.deployments.clear()
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "does not exist any more" in text
    assert_unchanged(pending, codedeploy, slack)


@pytest.mark.parametrize(("error", "result", "expected"), [
    ("LifecycleEventAlreadyCompletedException", "LifecycleEventAlreadyCompleted", "approval step already ended"),
    ("DeploymentDoesNotExistException", "DeploymentDoesNotExist", "no longer exists"),
    ("ThrottlingException", "ERROR:ThrottlingException", "could not be told (ERROR:ThrottlingException)"),
])
def test_codedeploy_answers_an_error_after_the_decision(runtime, pending, codedeploy, slack, clock, error, result,
                                                        expected):
    # GetDeployment still says InProgress (e.g. the hook timed out a moment ago): the decision is
    # recorded, CodeDeploy is called once and its answer is recorded and shown.
    codedeploy.put_error = error
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert expected in text
    item = pending()
    assert (item["status"], item["codeDeployStatus"], item["codeDeployResult"]) == ("APPROVED", "Succeeded", result)
    assert len(codedeploy.put_calls) == 1
    assert "CodeDeploy" in json.dumps(slack.calls_to("chat.update")[0]["blocks"])


def test_wrong_channel(runtime, pending, codedeploy, slack, clock):
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB", channel="C0ELSEWHERE")))
    assert "does not belong" in text
    assert_unchanged(pending, codedeploy, slack)


def test_dynamodb_unavailable(runtime, pending, codedeploy, slack, clock, monkeypatch):
    class Broken:
        def get_item(self, **_):
            raise fx.client_error("ProvisionedThroughputExceededException", "GetItem")

    monkeypatch.setitem(runtime._clients, "dynamodb", Broken())
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "Could not read the approval state (ProvisionedThroughputExceededException)" in text
    monkeypatch.undo()
    assert_unchanged(pending, codedeploy, slack)


def test_unexpected_exception_after_authentication_is_still_200(runtime, pending, codedeploy, slack, clock,
                                                                 monkeypatch):
    monkeypatch.setattr(callback_logic, "_decide_click", lambda *a: 1 / 0)
    text = ephemeral_text(*call(runtime, fx.click_event(clock)))
    assert "Something went wrong" in text
    assert_unchanged(pending, codedeploy, slack)


# ---------------------------------------------------------------------------------------------
# Slack down or slow: bounded, and the answer still comes


def test_slack_down_decision_still_recorded(runtime, pending, codedeploy, clock):
    from dataclasses import replace

    runtime.settings = replace(runtime.settings, slack_base_url=fx.dead_base_url())
    started = time.monotonic()
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert time.monotonic() - started < 3.0  # Slack's deadline
    assert "Approved" in text and pending()["status"] == "APPROVED" and len(codedeploy.put_calls) == 1


def test_slack_down_group_member_refused_without_change(runtime, pending, codedeploy, clock):
    from dataclasses import replace

    runtime.settings = replace(runtime.settings, slack_base_url=fx.dead_base_url())
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0CAROL")))
    assert "Could not check your approver group membership" in text
    assert_unchanged(pending, codedeploy)


def test_slow_slack_is_bounded(runtime, pending, codedeploy, slack, clock):
    # the local Slack sleeps 5 s in its own thread; every Slack call here times out after 0.5 s
    runtime.slack_timeout = 0.5
    slack.delays["usergroups.users.list"] = 5.0
    slack.delays["chat.update"] = 5.0
    started = time.monotonic()
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0CAROL")))
    assert time.monotonic() - started < 3.0
    assert "Could not check your approver group membership" in text and "timed out" in text
    assert_unchanged(pending, codedeploy)
    started = time.monotonic()
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert time.monotonic() - started < 3.0
    assert "Approved" in text and len(codedeploy.put_calls) == 1  # chat.update timed out; decision stands


def test_budget_exhausted_skips_the_precheck_and_group_lookups(runtime, pending, codedeploy, slack, clock):
    # With no time left the optional GetDeployment pre-check is skipped (CodeDeploy's own answer
    # to the status call still tells the truth) and a group lookup is refused rather than risked.
    event = fx.click_event(clock, user_id="U0CAROL")
    response = callback_logic.handle(event, runtime, budget_seconds=0.0)
    assert "Ran out of time" in fx.response_json(response)["text"]
    assert slack.calls_to("usergroups.users.list") == []
    assert_unchanged(pending, codedeploy)
    response = callback_logic.handle(fx.click_event(clock, user_id="U0BOB"), runtime, budget_seconds=0.0)
    assert fx.response_json(response)["text"].startswith("Approved") and codedeploy.get_calls == 0


def test_slack_http_500_on_update(runtime, pending, codedeploy, slack, clock):
    slack.http_errors["chat.update"] = 500
    text = ephemeral_text(*call(runtime, fx.click_event(clock, user_id="U0BOB")))
    assert "Approved" in text and pending()["status"] == "APPROVED"


def test_logs_never_contain_secrets_or_payload(runtime, pending, codedeploy, slack, clock, caplog):
    from bgruntime.log import _JsonFormatter

    caplog.set_level("INFO")
    call(runtime, fx.click_event(clock, user_id="U0BOB"))
    call(runtime, fx.apigw_event("payload=x", timestamp=clock.epoch(), secret="forged"))
    out = "\n".join(_JsonFormatter().format(record) for record in caplog.records)
    assert "slack click answered" in out
    assert fx.SIGNING_SECRET not in out and fx.BOT_TOKEN not in out and "hooks.slack.com" not in out
    assert all(json.loads(line) for line in out.splitlines())
    assert base64.b64encode(fx.SIGNING_SECRET.encode()).decode() not in out
