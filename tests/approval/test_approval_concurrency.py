"""20 concurrent Approve clicks on one request: exactly one decision, one CodeDeploy call."""
from __future__ import annotations

import threading

import approval_fakes as fx
from approval_gate import callback_logic

CLICKS = 20


def test_concurrent_clicks_decide_exactly_once(runtime, aws, clock, codedeploy, slack, events, atomic_moto_writes):
    from bgruntime import approvals

    approvers = [f"U0APPR{index:02d}" for index in range(CLICKS)]
    approvals.create_pending(**fx.pending_item(clock, approver_user_ids=approvers), dynamodb=aws.dynamodb)
    approvals.set_slack_message(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, channel=fx.CHANNEL,
                                ts="1900000001.000100", dynamodb=aws.dynamodb)
    clicks = [fx.click_event(clock, user_id=user, user_name=user.lower()) for user in approvers]
    barrier = threading.Barrier(CLICKS)
    answers: list[tuple[str, dict]] = [None] * CLICKS  # type: ignore[list-item]

    def click(index: int) -> None:
        barrier.wait()
        response = callback_logic.handle(clicks[index], runtime)
        answers[index] = (approvers[index], response)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert all(response["statusCode"] == 200 for _, response in answers)
    texts = [fx.response_json(response)["text"] for _, response in answers]
    winners = [user for (user, _), text in zip(answers, texts) if text.startswith("Approved")]
    assert len(winners) == 1
    assert sum("already approved" in text for text in texts) == CLICKS - 1
    assert len(codedeploy.put_calls) == 1 and codedeploy.put_calls[0]["status"] == "Succeeded"
    assert len(events.of_type("Approval Decided")) == 1
    assert len(slack.calls_to("chat.update")) == 1
    item = approvals.get_approval(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)
    assert item["status"] == "APPROVED" and item["decidedBy"]["slackUserId"] == winners[0]


def test_concurrent_decide_calls_from_all_paths(aws, clock, codedeploy, atomic_moto_writes):
    """Slack, CLI and expiry racing through `decide` directly: still one winner."""
    from bgruntime import approvals

    approvals.create_pending(**fx.pending_item(clock), dynamodb=aws.dynamodb)
    barrier = threading.Barrier(CLICKS)
    outcomes = []
    lock = threading.Lock()

    def race(index: int) -> None:
        decision, via = [("APPROVED", "slack"), ("REJECTED", "cli"), ("EXPIRED", "expiry")][index % 3]
        barrier.wait()
        outcome = approvals.decide(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, decision=decision,
                                   decided_by={"name": f"racer{index}"}, decided_via=via, reason=None, now=clock(),
                                   dynamodb=aws.dynamodb, codedeploy=codedeploy, events=fx.FakeEvents())
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(o.recorded for o in outcomes) == 1
    assert {o.code for o in outcomes if not o.recorded} == {"already_decided"}
    assert len(codedeploy.put_calls) == 1
