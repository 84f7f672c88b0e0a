"""The expiry Lambda: no decision -> EXPIRED recorded and Failed told at once; a safety net once decided."""
from __future__ import annotations

import json

import pytest

import approval_fakes as fx
from approval_gate import expiry_logic
from bgruntime import approvals
from bgruntime.approval_limits import (
    CODEDEPLOY_HOOK_DEADLINE_MINUTES, EXPIRY_RETRY_WINDOW_SECONDS, MAX_APPROVAL_EXPIRY_MINUTES,
)

EXPIRY_EVENT = fx.load_event("scheduler_expiry.json")
BOB = approvals.Actor(via="slack", name="bob", slack_user_id="U0BOB")


def test_expiry_fails_the_pending_request(runtime, pending, codedeploy, slack, events, clock, aws, stream):
    clock.advance(minutes=45)
    result = expiry_logic.handle(dict(EXPIRY_EVENT), runtime)
    assert result == {"result": "expired", "code": "decided", "codeDeployResult": "OK"}
    item = pending()
    assert item["status"] == "EXPIRED" and item["decidedVia"] == "expiry"
    assert item["decidedBy"] == {"name": "approval expiry"} and item["decidedAt"] == "2030-05-01T12:45:00Z"
    assert (item["codeDeployStatus"], item["codeDeployResult"]) == ("Failed", "OK")
    assert codedeploy.put_calls == [{"deploymentId": fx.DEPLOYMENT_ID, "hookId": fx.HOOK_ID, "status": "Failed"}]
    [decision] = fx.records_of(aws.dynamodb, "DECISION")
    assert decision["deliveredBy"] == "writer"
    assert stream() == {"batchItemFailures": []}  # the worker updates Slack but does not tell CodeDeploy again
    assert len(codedeploy.put_calls) == 1
    [update] = slack.calls_to("chat.update")
    assert update["ts"] == fx.MESSAGE_TS and "Expired" in json.dumps(update["blocks"])
    assert '"type": "actions"' not in json.dumps(update["blocks"])
    assert events.of_type("Approval Decided")[0]["decision"] == "EXPIRED"


@pytest.mark.parametrize("decision", ["APPROVED", "REJECTED"])
def test_expiry_is_a_noop_after_a_delivered_decision(runtime, pending, codedeploy, slack, events, clock, aws, stream,
                                                     decision):
    approvals.attempt(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, actor=BOB, action=decision, now=clock(),
                      dynamodb=aws.dynamodb, is_approver=lambda a: True)
    stream()
    before, calls, entries, slack_calls = pending(), list(codedeploy.put_calls), list(events.entries), len(slack.calls)
    clock.advance(minutes=45)
    result = expiry_logic.handle(dict(EXPIRY_EVENT), runtime)
    assert result == {"result": "noop", "code": "already_decided", "status": decision, "codeDeployRetry": None}
    assert pending() == before and codedeploy.put_calls == calls and events.entries == entries
    assert len(slack.calls) == slack_calls


def test_expiry_re_sends_a_decision_codedeploy_never_got(runtime, pending, codedeploy, slack, clock, aws):
    approvals.attempt(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, actor=BOB, action="APPROVED", now=clock(),
                      dynamodb=aws.dynamodb, is_approver=lambda a: True)  # the worker never ran (broken, throttled)
    clock.advance(minutes=45)
    result = expiry_logic.handle(dict(EXPIRY_EVENT), runtime)
    assert result["result"] == "noop" and result["codeDeployRetry"] == "OK"
    assert [c["status"] for c in codedeploy.put_calls] == ["Succeeded"]
    assert pending()["status"] == "APPROVED" and pending()["codeDeployResult"] == "OK"
    [answer] = fx.records_of(aws.dynamodb, "CODEDEPLOY#")
    assert answer["deliveredBy"] == "expiry-safety-net"


def test_expiry_of_a_stopped_deployment_records_codedeploy_answer(runtime, pending, codedeploy, slack, clock):
    codedeploy.put_error = "LifecycleEventAlreadyCompletedException"
    clock.advance(minutes=45)
    result = expiry_logic.handle(dict(EXPIRY_EVENT), runtime)
    assert result["codeDeployResult"] == "LifecycleEventAlreadyCompleted"
    assert pending()["status"] == "EXPIRED"


def test_expiry_raises_while_codedeploy_cannot_be_told_then_the_retry_re_sends(runtime, pending, codedeploy, clock):
    codedeploy.put_error, codedeploy.put_errors_remaining = "ThrottlingException", 1
    clock.advance(minutes=45)
    with pytest.raises(RuntimeError, match="ERROR:ThrottlingException"):
        expiry_logic.handle(dict(EXPIRY_EVENT), runtime)  # Lambda's async retry runs it again
    assert expiry_logic.handle(dict(EXPIRY_EVENT), runtime)["codeDeployRetry"] == "OK"
    assert [c["status"] for c in codedeploy.put_calls] == ["Failed", "Failed"]


def test_expiry_of_unknown_request_is_a_noop(runtime, codedeploy, slack):
    assert expiry_logic.handle({"deploymentId": "d-ZZZZZZZZZ"}, runtime)["code"] == "not_found"
    assert codedeploy.put_calls == [] and slack.calls == []


@pytest.mark.parametrize("event", [{}, None, {"deploymentId": "DEPLOYMENT#x"}, {"deploymentId": 5}, []])
def test_bad_expiry_events_are_ignored(runtime, codedeploy, event):
    assert expiry_logic.handle(event, runtime) == {"result": "ignored"}
    assert codedeploy.put_calls == []


def test_dynamodb_down_raises_so_the_invocation_is_retried(runtime, codedeploy, monkeypatch):
    class Down:
        def query(self, **_):
            raise fx.client_error("InternalServerError", "Query")

    monkeypatch.setitem(runtime._clients, "dynamodb", Down())
    with pytest.raises(Exception, match="InternalServerError"):
        expiry_logic.handle(dict(EXPIRY_EVENT), runtime)
    assert codedeploy.put_calls == []


def test_one_expiry_limit_keeps_every_retry_before_codedeploys_deadline():
    assert MAX_APPROVAL_EXPIRY_MINUTES == 50 and EXPIRY_RETRY_WINDOW_SECONDS == 300
    assert MAX_APPROVAL_EXPIRY_MINUTES * 60 + EXPIRY_RETRY_WINDOW_SECONDS <= (CODEDEPLOY_HOOK_DEADLINE_MINUTES - 5) * 60
