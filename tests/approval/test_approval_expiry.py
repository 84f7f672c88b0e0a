"""The expiry Lambda: PENDING -> EXPIRED + Failed + message; a no-op once decided."""
from __future__ import annotations

import json

import pytest

import approval_fakes as fx
from approval_gate import expiry_logic
from bgruntime import approvals

EXPIRY_EVENT = fx.load_event("scheduler_expiry.json")


def test_expiry_fails_the_pending_request(runtime, pending, codedeploy, slack, events, clock):
    clock.advance(minutes=45)
    result = expiry_logic.handle(dict(EXPIRY_EVENT), runtime)
    assert result == {"result": "expired", "code": "decided", "codeDeployResult": "OK", "slackUpdated": True}
    item = pending()
    assert item["status"] == "EXPIRED" and item["decidedVia"] == "expiry"
    assert item["decidedBy"] == {"name": "approval expiry"} and item["decidedAt"] == "2030-05-01T12:45:00Z"
    assert (item["codeDeployStatus"], item["codeDeployResult"]) == ("Failed", "OK")
    assert codedeploy.put_calls == [{"deploymentId": fx.DEPLOYMENT_ID, "hookId": fx.HOOK_ID, "status": "Failed"}]
    [update] = slack.calls_to("chat.update")
    assert update["ts"] == "1900000001.000100" and "Expired" in json.dumps(update["blocks"])
    assert '"type": "actions"' not in json.dumps(update["blocks"])
    assert events.of_type("Approval Decided")[0]["decision"] == "EXPIRED"


@pytest.mark.parametrize("decision", ["APPROVED", "REJECTED"])
def test_expiry_is_a_noop_after_a_decision(runtime, pending, codedeploy, slack, events, clock, decision):
    approvals.decide(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, decision=decision,
                     decided_by={"slackUserId": "U0BOB", "name": "bob"}, decided_via="slack", reason=None,
                     now=clock(), dynamodb=runtime.dynamodb, codedeploy=codedeploy, events=events)
    before, calls, entries = pending(), list(codedeploy.put_calls), list(events.entries)
    clock.advance(minutes=45)
    result = expiry_logic.handle(dict(EXPIRY_EVENT), runtime)
    assert result == {"result": "noop", "code": "already_decided", "status": decision, "codeDeployRetry": None}
    assert pending() == before and codedeploy.put_calls == calls and events.entries == entries
    assert slack.calls == []


def test_expiry_retries_a_decision_codedeploy_never_got(runtime, pending, codedeploy, slack, events, clock):
    codedeploy.put_error, codedeploy.put_errors_remaining = "ThrottlingException", 1
    first = approvals.decide(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, decision="APPROVED",
                             decided_by={"slackUserId": "U0BOB"}, decided_via="slack", reason=None, now=clock(),
                             dynamodb=runtime.dynamodb, codedeploy=codedeploy, events=events)
    assert first.codedeploy_result == "ERROR:ThrottlingException"
    clock.advance(minutes=45)
    result = expiry_logic.handle(dict(EXPIRY_EVENT), runtime)
    assert result["result"] == "noop" and result["codeDeployRetry"] == "OK"
    assert [c["status"] for c in codedeploy.put_calls] == ["Succeeded", "Succeeded"]
    assert pending()["status"] == "APPROVED" and pending()["codeDeployResult"] == "OK"


def test_expiry_of_a_stopped_deployment_records_codedeploy_answer(runtime, pending, codedeploy, slack, clock):
    codedeploy.put_error = "LifecycleEventAlreadyCompletedException"
    clock.advance(minutes=45)
    result = expiry_logic.handle(dict(EXPIRY_EVENT), runtime)
    assert result["code"] == "codedeploy_error" and result["codeDeployResult"] == "LifecycleEventAlreadyCompleted"
    assert pending()["status"] == "EXPIRED"


def test_expiry_without_slack_message_or_with_slack_down(runtime, aws, codedeploy, slack, clock):
    approvals.create_pending(**fx.pending_item(clock), dynamodb=aws.dynamodb)  # Slack was down: no ts
    clock.advance(minutes=45)
    assert expiry_logic.handle(dict(EXPIRY_EVENT), runtime)["slackUpdated"] is False
    assert codedeploy.put_calls[0]["status"] == "Failed" and slack.calls == []


def test_expiry_of_unknown_request_is_a_noop(runtime, codedeploy, slack):
    assert expiry_logic.handle({"deploymentId": "d-ZZZZZZZZZ"}, runtime)["code"] == "not_found"
    assert codedeploy.put_calls == [] and slack.calls == []


@pytest.mark.parametrize("event", [{}, None, {"deploymentId": "DEPLOYMENT#x"}, {"deploymentId": 5}, []])
def test_bad_expiry_events_are_ignored(runtime, codedeploy, event):
    assert expiry_logic.handle(event, runtime) == {"result": "ignored"}
    assert codedeploy.put_calls == []


def test_dynamodb_down_raises_so_the_scheduler_retries(runtime, codedeploy, monkeypatch):
    class Down:
        def update_item(self, **_):
            raise fx.client_error("InternalServerError", "UpdateItem")

    monkeypatch.setitem(runtime._clients, "dynamodb", Down())
    with pytest.raises(Exception, match="InternalServerError"):
        expiry_logic.handle(dict(EXPIRY_EVENT), runtime)
    assert codedeploy.put_calls == []
