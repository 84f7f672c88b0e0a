"""bgruntime.approvals: append-only records, the rule book, delivery to CodeDeploy (moto + Stubber)."""
from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

import approval_fakes as fx
from bgruntime import approvals

BOB = approvals.Actor(via="slack", name="bob", slack_user_id="U0BOB")
CAROL = approvals.Actor(via="slack", name="carol", slack_user_id="U0CAROL")
ALICE = approvals.Actor(via="slack", name="alice", slack_user_id="U0ALICE")
ALICE_CLI = approvals.Actor(via="cli", name="alice", slack_user_id="U0ALICE",
                            iam_arn="arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_1/alice")
BOB_CLI = approvals.Actor(via="cli", name="bob", slack_user_id="U0BOB",
                          iam_arn="arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_1/bob")
EVERYONE = lambda actor: True  # noqa: E731


def state_of(clock, *records, **request):
    return approvals.ApprovalState.from_records(fx.DEPLOYMENT_ID, [fx.request_record(clock, **request), *records])


def attempt(aws, clock, actor, action="APPROVED", **kwargs):
    return approvals.attempt(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, actor=actor, action=action,
                             now=clock(), dynamodb=aws.dynamodb, is_approver=kwargs.pop("is_approver", EVERYONE),
                             **kwargs)[0]


# ---------------------------------------------------------------------------------------------
# the rule book (pure)


def test_one_approval_decides_when_one_is_required(clock):
    verdict = approvals.evaluate(state_of(clock), BOB, "APPROVED", clock(), is_approver=EVERYONE)
    assert (verdict.code, verdict.accepted, verdict.decision) == ("decided", True, "APPROVED")
    assert [r["sk"] for r in verdict.records] == ["VOTE#01", "VOTER#U0BOB", "DECISION"]
    decision = verdict.records[2]
    assert {k: decision[k] for k in ("status", "decidedBy", "decidedVia", "decidedAt", "deliveredBy", "approvers",
                                     "hookExecutionId", "recordType")} == {
        "status": "APPROVED", "decidedBy": {"slackUserId": "U0BOB", "name": "bob"}, "decidedVia": "slack",
        "decidedAt": "2030-05-01T12:00:00Z", "deliveredBy": "worker",
        "approvers": [{"slackUserId": "U0BOB", "name": "bob"}], "hookExecutionId": fx.HOOK_ID,
        "recordType": "decision"}


def test_two_person_rule_needs_two_distinct_approvers(clock):
    state = state_of(clock, requiredApprovals=2)
    first = approvals.evaluate(state, BOB, "APPROVED", clock(), is_approver=EVERYONE)
    assert (first.code, first.accepted, first.decision) == ("vote_recorded", True, None)
    assert [r["sk"] for r in first.records] == ["VOTE#01", "VOTER#U0BOB"]
    assert "(1 of 2)" in first.message and "1 more approver other than you and the requester" in first.message
    state = approvals.ApprovalState.from_records(fx.DEPLOYMENT_ID, [*state_records(state), *first.records])
    again = approvals.evaluate(state, BOB_CLI, "APPROVED", clock(), is_approver=EVERYONE)  # same person, via bgctl
    assert (again.code, again.accepted) == ("already_voted", False)
    second = approvals.evaluate(state, CAROL, "APPROVED", clock(), is_approver=EVERYONE)
    assert second.decision == "APPROVED" and [r["sk"] for r in second.records] == ["VOTE#02", "VOTER#U0CAROL",
                                                                                  "DECISION"]
    assert second.records[2]["approvers"] == [{"slackUserId": "U0BOB", "name": "bob"},
                                             {"slackUserId": "U0CAROL", "name": "carol"}]


def state_records(state):
    return [r for r in (state.request, state.message, state.decision) if r]


@pytest.mark.parametrize("actor", [ALICE, ALICE_CLI])
def test_requester_cannot_approve_on_any_path_but_may_reject(clock, actor):
    state = state_of(clock)
    assert approvals.evaluate(state, actor, "APPROVED", clock(), is_approver=EVERYONE).code == "self_approval"
    assert approvals.evaluate(state, actor, "REJECTED", clock(), is_approver=EVERYONE).decision == "REJECTED"


def test_same_iam_principal_as_the_registered_requester_cannot_approve(clock):
    principal = "arn:aws:sts::123456789012:assumed-role/ops/mallory"
    registration = approvals.record(fx.DEPLOYMENT_ID, "REGISTERED", "registration", clock(),
                                    requester={"principalArn": principal, "verifiedBy": ["iam"]})
    state = state_of(clock, registration, requester=f"iam:{principal}", requesterSlackId=None, requiredApprovals=2)
    mallory = approvals.Actor(via="cli", name="mallory", iam_arn=principal, slack_user_id="U0MALLORY")
    assert approvals.evaluate(state, mallory, "APPROVED", clock(), is_approver=EVERYONE).code == "self_approval"


@pytest.mark.parametrize(("is_approver", "code"), [(lambda a: False, "unauthorized"),
                                                   (lambda a: None, "authorization_unavailable")])
def test_non_approvers_and_unverifiable_membership_are_refused(clock, is_approver, code):
    for action in ("APPROVED", "REJECTED"):
        verdict = approvals.evaluate(state_of(clock), BOB, action, clock(), is_approver=is_approver)
        assert (verdict.code, verdict.accepted) == (code, False)


def test_blocked_request_can_only_be_rejected(clock):
    state = state_of(clock, requiredApprovals=2, blocked=True, requesterSlackId=None, requester="unknown")
    assert approvals.evaluate(state, BOB, "APPROVED", clock(), is_approver=EVERYONE).code == "blocked_unknown_requester"
    assert approvals.evaluate(state, BOB, "REJECTED", clock(), is_approver=EVERYONE).decision == "REJECTED"


def test_nothing_is_decided_after_expiry_except_the_expiry(clock):
    state = state_of(clock)
    later = clock() + timedelta(minutes=45)
    assert approvals.evaluate(state, BOB, "REJECTED", later, is_approver=EVERYONE).code == "expired"
    expiry = approvals.Actor(via="expiry", name="approval expiry")
    verdict = approvals.evaluate(state, expiry, "EXPIRED", later, is_approver=EVERYONE)
    assert verdict.decision == "EXPIRED" and verdict.records[0]["reason"] == "no decision before the approval expired"


def test_not_found_and_already_decided(clock):
    empty = approvals.ApprovalState(fx.DEPLOYMENT_ID)
    assert approvals.evaluate(empty, BOB, "APPROVED", clock(), is_approver=EVERYONE).code == "not_found"
    decided = approvals.evaluate(state_of(clock), BOB, "APPROVED", clock(), is_approver=EVERYONE)
    state = approvals.ApprovalState.from_records(fx.DEPLOYMENT_ID, [fx.request_record(clock), *decided.records])
    verdict = approvals.evaluate(state, CAROL, "REJECTED", clock(), is_approver=EVERYONE)
    assert verdict.code == "already_decided" and "already approved by bob" in verdict.message


def test_bad_action_raises(clock):
    with pytest.raises(ValueError, match="action must be one of"):
        approvals.evaluate(state_of(clock), BOB, "MAYBE", clock(), is_approver=EVERYONE)


# ---------------------------------------------------------------------------------------------
# the store (moto)


def test_records_are_written_once_with_conditional_puts(aws, clock):
    record = fx.request_record(clock)
    approvals.put_record(table_name=fx.TABLE, record=record, dynamodb=aws.dynamodb)
    with pytest.raises(approvals.RecordExists):
        approvals.put_record(table_name=fx.TABLE, record={**record, "requester": "github:mallory"},
                             dynamodb=aws.dynamodb)
    [stored] = fx.all_records(aws.dynamodb)
    assert stored["requester"] == "github:alice"


def test_attempt_writes_vote_voter_and_decision_atomically(aws, clock):
    fx.seed_request(aws.dynamodb, clock)
    verdict = attempt(aws, clock, BOB)
    assert verdict.code == "decided"
    assert [r["sk"] for r in fx.all_records(aws.dynamodb)] == ["APPROVAL", "DECISION", "MESSAGE", "VOTE#01",
                                                                "VOTER#U0BOB"]
    second = attempt(aws, clock, CAROL, action="REJECTED")
    assert second.code == "already_decided"
    [event] = fx.records_of(aws.dynamodb, "EVENT#")
    assert (event["code"], event["action"], event["actor"]) == ("already_decided", "REJECTED",
                                                               {"slackUserId": "U0CAROL", "name": "carol"})


def test_a_lost_race_re_reads_and_takes_the_next_slot(aws, clock):
    fx.seed_request(aws.dynamodb, clock, requiredApprovals=2)
    stale = approvals.load_state(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)
    assert attempt(aws, clock, BOB).code == "vote_recorded"
    verdict, _ = approvals.attempt(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, actor=CAROL,
                                   action="APPROVED", now=clock(), dynamodb=aws.dynamodb, is_approver=EVERYONE,
                                   state=stale)  # based on a read without BOB's vote: VOTE#01 is taken
    assert verdict.decision == "APPROVED"
    state = approvals.load_state(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)
    assert [v["sk"] for v in state.votes] == ["VOTE#01", "VOTE#02"] and state.status == "APPROVED"


def test_approval_cannot_land_after_expiry_even_from_a_stale_read(aws, clock):
    fx.seed_request(aws.dynamodb, clock)
    state = approvals.load_state(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)
    verdict = approvals.evaluate(state, BOB, "APPROVED", clock(), is_approver=EVERYONE)
    late = clock() + timedelta(minutes=46)  # the write happens after expiresAt: the ConditionCheck refuses it
    assert not approvals.commit(verdict, state, late, table_name=fx.TABLE, dynamodb=aws.dynamodb)
    assert [r["sk"] for r in fx.all_records(aws.dynamodb)] == ["APPROVAL", "MESSAGE"]


@pytest.fixture()
def stubbed_codedeploy():
    client = boto3.client("codedeploy", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _decided(aws, clock, action="REJECTED"):
    fx.seed_request(aws.dynamodb, clock)
    attempt(aws, clock, BOB, action=action)
    return approvals.load_state(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)


def test_delivery_sends_exact_parameters_once(aws, clock, stubbed_codedeploy):
    client, stubber = stubbed_codedeploy
    stubber.add_response("put_lifecycle_event_hook_execution_status", {"lifecycleEventHookExecutionId": fx.HOOK_ID},
                         {"deploymentId": fx.DEPLOYMENT_ID, "lifecycleEventHookExecutionId": fx.HOOK_ID,
                          "status": "Failed"})
    state = _decided(aws, clock)
    delivery = approvals.deliver(state, table_name=fx.TABLE, now=clock(), delivered_by="worker",
                                 dynamodb=aws.dynamodb, codedeploy=client)
    assert (delivery.result, delivery.status, delivery.ok) == ("OK", "Failed", True)
    [answer] = fx.records_of(aws.dynamodb, "CODEDEPLOY#")
    assert {k: answer[k] for k in ("status", "result", "deliveredBy", "recordType")} == {
        "status": "Failed", "result": "OK", "deliveredBy": "worker", "recordType": "codedeploy"}
    state = approvals.load_state(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)
    again = approvals.deliver(state, table_name=fx.TABLE, now=clock(), delivered_by="worker", dynamodb=aws.dynamodb,
                              codedeploy=client)  # the Stubber has no second response: not called
    assert again.result == "OK" and again.message == "CodeDeploy already has the decision"


@pytest.mark.parametrize(("error", "result", "retryable"), [
    ("LifecycleEventAlreadyCompletedException", "LifecycleEventAlreadyCompleted", False),
    ("DeploymentDoesNotExistException", "DeploymentDoesNotExist", False),
    ("ThrottlingException", "ERROR:ThrottlingException", True),
    ("AccessDeniedException", "ERROR:AccessDeniedException", True),
])
def test_codedeploy_errors_are_recorded_not_raised(aws, clock, stubbed_codedeploy, error, result, retryable):
    client, stubber = stubbed_codedeploy
    stubber.add_client_error("put_lifecycle_event_hook_execution_status", service_error_code=error)
    state = _decided(aws, clock, action="APPROVED")
    delivery = approvals.deliver(state, table_name=fx.TABLE, now=clock(), delivered_by="worker",
                                 dynamodb=aws.dynamodb, codedeploy=client)
    assert (delivery.result, delivery.retryable) == (result, retryable)
    view = approvals.get_approval(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)
    assert (view["status"], view["codeDeployStatus"], view["codeDeployResult"]) == ("APPROVED", "Succeeded", result)


def test_resources_are_refused_clearly(aws, clock):
    resource = boto3.resource("dynamodb", region_name="eu-west-1")
    with pytest.raises(TypeError, match="client"):
        approvals.put_record(table_name=fx.TABLE, record=fx.request_record(clock), dynamodb=resource.Table(fx.TABLE))


def test_list_by_domain_newest_first(aws, clock):
    for index in range(5):
        fx.seed_request(aws.dynamodb, clock, f"d-AAAAAAAA{index}")
        clock.advance(minutes=10)
    fx.seed_request(aws.dynamodb, clock, "d-OTHERDOM1", domain="order")
    items = approvals.list_by_domain(table_name=fx.TABLE, domain="auth", limit=3, dynamodb=aws.dynamodb)
    assert [i["deploymentId"] for i in items] == ["d-AAAAAAAA4", "d-AAAAAAAA3", "d-AAAAAAAA2"]
    assert len(approvals.list_by_domain(table_name=fx.TABLE, domain="auth", limit=50, dynamodb=aws.dynamodb)) == 5


@pytest.mark.parametrize("value", ["x", 0, 7, 2.5, True, None, {"a": [1, "b", {"c": False}]}, []])
def test_attribute_round_trip(value):
    assert approvals.from_attr(approvals.to_attr(value)) == value


@given(st.lists(st.sampled_from(["U0A", "U0B", "U0C", "U0D", "U0ALICE"]), min_size=1, max_size=8),
       st.integers(min_value=1, max_value=4))
def test_property_decision_needs_required_distinct_non_requester_approvers(clickers, required):
    """Replaying any click sequence: APPROVED exactly when `required` distinct non-requesters approved."""
    clock = fx.Clock()
    records = [fx.request_record(clock, requiredApprovals=required)]
    distinct: list[str] = []
    for user in clickers:
        state = approvals.ApprovalState.from_records(fx.DEPLOYMENT_ID, records)
        verdict = approvals.evaluate(state, approvals.Actor(via="slack", name=user, slack_user_id=user), "APPROVED",
                                     clock(), is_approver=EVERYONE)
        if verdict.accepted:
            records.extend(verdict.records)
        if user != "U0ALICE" and user not in distinct and len(distinct) < required:
            distinct.append(user)
    state = approvals.ApprovalState.from_records(fx.DEPLOYMENT_ID, records)
    assert (state.status == "APPROVED") == (len(distinct) >= required)
    assert [v["by"]["slackUserId"] for v in state.votes] == distinct
    assert "U0ALICE" not in state.voters
