"""bgruntime.approvals: the PENDING item, the single decision path, GSI queries (moto + Stubber)."""
from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber

import approval_fakes as fx
from bgruntime import approvals


def _decide(aws, clock, codedeploy, events, decision="APPROVED", via="slack", **kwargs):
    args = dict(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, decision=decision,
                decided_by={"slackUserId": "U0BOB", "name": "bob"}, decided_via=via, reason=None, now=clock(),
                dynamodb=aws.dynamodb, codedeploy=codedeploy, events=events)
    args.update(kwargs)
    return approvals.decide(**args)


def test_create_pending_writes_the_contract_layout(aws, clock):
    created, item = approvals.create_pending(**fx.pending_item(clock), dynamodb=aws.dynamodb)
    assert created
    raw = aws.dynamodb.get_item(TableName=fx.TABLE, Key={"pk": {"S": "DEPLOYMENT#d-ABCDEFGHI"},
                                                          "sk": {"S": "APPROVAL"}})["Item"]
    assert raw["status"] == {"S": "PENDING"}
    assert raw["expiresAtEpoch"] == {"N": str(int((clock() + timedelta(minutes=45)).timestamp()))}
    assert raw["requestedAt"] == {"S": "2030-05-01T12:00:00Z"}
    assert raw["expiresAt"] == {"S": "2030-05-01T12:45:00Z"}
    assert raw["approverUserIds"] == {"L": [{"S": "U0BOB"}, {"S": "U0ALICE"}]}
    assert set(raw) == {"pk", "sk", "domain", "deploymentId", "hookExecutionId", "applicationName",
                        "deploymentGroupName", "requester", "requesterSlackId", "image", "requestedAt",
                        "expiresAt", "expiresAtEpoch", "status", "approverUserIds", "approverGroupIds"}


def test_create_pending_is_idempotent(aws, clock):
    approvals.create_pending(**fx.pending_item(clock), dynamodb=aws.dynamodb)
    clock.advance(minutes=1)
    created, item = approvals.create_pending(**fx.pending_item(clock, hook_execution_id="other"), dynamodb=aws.dynamodb)
    assert not created
    assert item["hookExecutionId"] == fx.HOOK_ID and item["requestedAt"] == "2030-05-01T12:00:00Z"


def test_decide_approve_records_once_then_reports_succeeded(aws, clock, codedeploy, events):
    approvals.create_pending(**fx.pending_item(clock), dynamodb=aws.dynamodb)
    clock.advance(minutes=3)
    outcome = _decide(aws, clock, codedeploy, events)
    assert (outcome.recorded, outcome.code, outcome.status, outcome.codedeploy_result) == \
        (True, "decided", "APPROVED", "OK")
    assert codedeploy.put_calls == [{"deploymentId": fx.DEPLOYMENT_ID, "hookId": fx.HOOK_ID, "status": "Succeeded"}]
    item = approvals.get_approval(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)
    assert item["status"] == "APPROVED" and item["decidedVia"] == "slack" and item["decidedAt"] == "2030-05-01T12:03:00Z"
    assert item["decidedBy"] == {"slackUserId": "U0BOB", "name": "bob"}
    assert (item["codeDeployStatus"], item["codeDeployResult"]) == ("Succeeded", "OK")
    assert "reason" not in item
    [event] = events.of_type("Approval Decided")
    assert event["platform"] == "bluegreen" and event["domain"] == "auth" and event["decision"] == "APPROVED"
    assert "bob" in outcome.message and "Succeeded" in outcome.message

    again = _decide(aws, clock, codedeploy, events, decision="REJECTED", decided_by={"iamArn": "arn:aws:iam::1:user/x"},
                    via="cli")
    assert (again.recorded, again.code, again.status) == (False, "already_decided", "APPROVED")
    assert len(codedeploy.put_calls) == 1 and len(events.entries) == 1
    assert "already approved by bob" in again.message


@pytest.mark.parametrize("decision", ["REJECTED", "EXPIRED"])
def test_reject_and_expire_report_failed(aws, clock, codedeploy, events, decision):
    approvals.create_pending(**fx.pending_item(clock), dynamodb=aws.dynamodb)
    if decision == "EXPIRED":
        clock.advance(minutes=45)
    outcome = _decide(aws, clock, codedeploy, events, decision=decision,
                      via="expiry" if decision == "EXPIRED" else "cli", reason="bad smoke results")
    assert outcome.recorded and outcome.status == decision
    assert codedeploy.put_calls[0]["status"] == "Failed"
    item = outcome.item
    assert item["reason"] == "bad smoke results" and item["codeDeployStatus"] == "Failed"


def test_approve_after_expiry_is_refused_without_codedeploy(aws, clock, codedeploy, events):
    approvals.create_pending(**fx.pending_item(clock), dynamodb=aws.dynamodb)
    clock.advance(minutes=45)  # expiresAtEpoch == now: expired
    outcome = _decide(aws, clock, codedeploy, events)
    assert (outcome.recorded, outcome.code, outcome.status) == (False, "expired", "PENDING")
    assert codedeploy.put_calls == [] and events.entries == []


def test_not_found(aws, clock, codedeploy, events):
    outcome = _decide(aws, clock, codedeploy, events)
    assert (outcome.recorded, outcome.code, outcome.status) == (False, "not_found", "")
    assert codedeploy.put_calls == []


@pytest.mark.parametrize(("bad", "message"), [
    ({"decision": "MAYBE"}, "decision"), ({"decided_via": "email"}, "decided_via"), ({"decided_by": {}}, "decided_by")])
def test_bad_arguments_raise_value_error(aws, clock, codedeploy, events, bad, message):
    with pytest.raises(ValueError, match=message):
        _decide(aws, clock, codedeploy, events, **bad)


# ---- CodeDeploy through a real botocore client + Stubber (parameter shapes checked against the model)


@pytest.fixture()
def stubbed_codedeploy():
    client = boto3.client("codedeploy", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_stubbed_codedeploy_gets_exact_parameters(aws, clock, events, stubbed_codedeploy):
    client, stubber = stubbed_codedeploy
    stubber.add_response("put_lifecycle_event_hook_execution_status",
                         {"lifecycleEventHookExecutionId": fx.HOOK_ID},
                         {"deploymentId": fx.DEPLOYMENT_ID, "lifecycleEventHookExecutionId": fx.HOOK_ID,
                          "status": "Failed"})
    approvals.create_pending(**fx.pending_item(clock), dynamodb=aws.dynamodb)
    outcome = _decide(aws, clock, client, events, decision="REJECTED")
    assert outcome.code == "decided" and outcome.codedeploy_result == "OK"


@pytest.mark.parametrize(("error", "result"), [
    ("LifecycleEventAlreadyCompletedException", "LifecycleEventAlreadyCompleted"),
    ("DeploymentDoesNotExistException", "DeploymentDoesNotExist"),
    ("ThrottlingException", "ERROR:ThrottlingException"),
    ("AccessDeniedException", "ERROR:AccessDeniedException"),
])
def test_codedeploy_errors_are_recorded_not_raised(aws, clock, events, stubbed_codedeploy, error, result):
    client, stubber = stubbed_codedeploy
    stubber.add_client_error("put_lifecycle_event_hook_execution_status", service_error_code=error)
    approvals.create_pending(**fx.pending_item(clock), dynamodb=aws.dynamodb)
    outcome = _decide(aws, clock, client, events)
    assert (outcome.recorded, outcome.code, outcome.codedeploy_result) == (True, "codedeploy_error", result)
    item = approvals.get_approval(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)
    assert item["status"] == "APPROVED" and item["codeDeployResult"] == result
    assert events.of_type("Approval Decided")[0]["codeDeployResult"] == result


def test_retry_resends_only_after_an_error(aws, clock, codedeploy, events):
    approvals.create_pending(**fx.pending_item(clock), dynamodb=aws.dynamodb)
    codedeploy.put_error, codedeploy.put_errors_remaining = "ThrottlingException", 1
    first = _decide(aws, clock, codedeploy, events)
    assert first.codedeploy_result == "ERROR:ThrottlingException"
    retried = approvals.retry_codedeploy_report(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID,
                                                dynamodb=aws.dynamodb, codedeploy=codedeploy)
    assert retried.codedeploy_result == "OK" and retried.code == "decided"
    assert [c["status"] for c in codedeploy.put_calls] == ["Succeeded", "Succeeded"]
    assert approvals.retry_codedeploy_report(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID,
                                             dynamodb=aws.dynamodb, codedeploy=codedeploy) is None
    assert len(codedeploy.put_calls) == 2


def test_resources_are_refused_clearly(aws, clock, codedeploy, events):
    resource = boto3.resource("dynamodb", region_name="eu-west-1")
    with pytest.raises(TypeError, match="client"):
        approvals.create_pending(**fx.pending_item(clock), dynamodb=resource.Table(fx.TABLE))
    with pytest.raises(TypeError, match="client"):
        _decide(aws, clock, codedeploy, events, dynamodb=resource)


def test_list_by_domain_newest_first(aws, clock):
    for index in range(5):
        approvals.create_pending(**fx.pending_item(clock, deployment_id=f"d-AAAAAAAA{index}"), dynamodb=aws.dynamodb)
        clock.advance(minutes=10)
    approvals.create_pending(**fx.pending_item(clock, deployment_id="d-OTHERDOM1", domain="order"), dynamodb=aws.dynamodb)
    aws.dynamodb.put_item(TableName=fx.TABLE, Item={"pk": {"S": "DEPLOYMENT#d-AAAAAAAA4"}, "sk": {"S": "SMOKE"},
                                                   "domain": {"S": "auth"}, "status": {"S": "PASSED"}})
    items = approvals.list_by_domain(table_name=fx.TABLE, domain="auth", limit=3, dynamodb=aws.dynamodb)
    assert [i["deploymentId"] for i in items] == ["d-AAAAAAAA4", "d-AAAAAAAA3", "d-AAAAAAAA2"]
    assert len(approvals.list_by_domain(table_name=fx.TABLE, domain="auth", limit=50, dynamodb=aws.dynamodb)) == 5


@pytest.mark.parametrize("value", ["x", 0, 7, 2.5, True, None, {"a": [1, "b", {"c": False}]}, []])
def test_attribute_round_trip(value):
    assert approvals.from_attr(approvals.to_attr(value)) == value
