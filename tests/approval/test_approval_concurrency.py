"""20 concurrent Approve clicks on one request: exactly one decision, one CodeDeploy call."""
from __future__ import annotations

import threading

import approval_fakes as fx
from approval_gate import callback_logic

CLICKS = 20


def test_concurrent_clicks_decide_exactly_once(runtime, aws, clock, codedeploy, slack, events, stream,
                                               atomic_moto_writes):
    from bgruntime import approvals

    approvers = [f"U0APPR{index:02d}" for index in range(CLICKS)]
    fx.seed_request(aws.dynamodb, clock, approverUserIds=approvers)
    clicks = [fx.click_event(clock, user_id=user, user_name=user.lower()) for user in approvers]
    barrier = threading.Barrier(CLICKS)
    answers: list[tuple[str, dict]] = [None] * CLICKS  # type: ignore[list-item]

    def click(index: int) -> None:
        barrier.wait()
        answers[index] = (approvers[index], callback_logic.respond(clicks[index], runtime))

    threads = [threading.Thread(target=click, args=(i,)) for i in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert all(answer.status == 200 and answer.to_apigw()["body"] == "" for _, answer in answers)
    texts = [answer.text for _, answer in answers]
    winners = [user for (user, _), text in zip(answers, texts) if text.startswith("Approved")]
    assert len(winners) == 1
    assert sum("already approved" in text for text in texts) == CLICKS - 1
    assert len(fx.records_of(aws.dynamodb, "DECISION")) == 1 and len(fx.records_of(aws.dynamodb, "VOTE#")) == 1
    assert len(fx.records_of(aws.dynamodb, "EVENT#")) == CLICKS - 1  # every refused click is on record
    assert stream() == {"batchItemFailures": []}
    assert len(codedeploy.put_calls) == 1 and codedeploy.put_calls[0]["status"] == "Succeeded"
    assert len(events.of_type("Approval Decided")) == 1
    assert len(slack.calls_to("chat.update")) == 1
    item = approvals.get_approval(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, dynamodb=aws.dynamodb)
    assert item["status"] == "APPROVED" and item["decidedBy"]["slackUserId"] == winners[0]


def test_concurrent_attempts_from_all_paths(aws, clock, codedeploy, atomic_moto_writes):
    """Slack, CLI and expiry racing through `approvals.attempt` directly: still one decision."""
    from bgruntime import approvals

    fx.seed_request(aws.dynamodb, clock)
    clock.advance(minutes=44, seconds=59)
    barrier = threading.Barrier(CLICKS)
    verdicts = []
    lock = threading.Lock()

    def race(index: int) -> None:
        action, via = [("APPROVED", "slack"), ("REJECTED", "cli"), ("EXPIRED", "expiry")][index % 3]
        actor = approvals.Actor(via=via, name=f"racer{index}", slack_user_id=f"U0RACER{index:02d}")
        barrier.wait()
        verdict, _ = approvals.attempt(table_name=fx.TABLE, deployment_id=fx.DEPLOYMENT_ID, actor=actor,
                                       action=action, now=clock(), dynamodb=aws.dynamodb,
                                       is_approver=lambda a: True)
        with lock:
            verdicts.append(verdict)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(v.final for v in verdicts) == 1
    assert {v.code for v in verdicts if not v.final} == {"already_decided"}
    assert len(fx.records_of(aws.dynamodb, "DECISION")) == 1
