"""Decision worker: everything after the Slack ack, driven by the audit table's stream.

Each INSERT of a record in `DEPLOYMENT#<id>` is one job, retried by the Lambda event source mapping
(ReportBatchItemFailures: only failed records are retried; a DLQ keeps what never succeeds):

- `DECISION` whose `deliveredBy` is `worker` (Slack clicks, rules): tell CodeDeploy (unless it already
  has it), then update the Slack message, answer the clicker ephemerally and put `Approval Decided`.
  A CodeDeploy answer `ERROR:<code>` fails the record, so it is retried until CodeDeploy answers.
- `DECISION` written by the deploy API or the expiry (`deliveredBy: writer`): they told CodeDeploy
  themselves; the worker only updates Slack and puts the event.
- `VOTE#..` that did not decide: the message shows who approved so far and what is still needed.
- `EVENT#..` from a Slack click (a refusal): the clicker gets the reason through chat.postEphemeral.

Slack failures are logged, never retried (cosmetic); the CodeDeploy answer is what must happen.
"""
from __future__ import annotations

from typing import Any, Mapping

from approval_gate import messages
from approval_gate.runtime import Runtime
from bgruntime import approvals
from bgruntime.deployments import console_url
from bgruntime.event_patterns import decision_worker_filters, matches
from bgruntime.log import get_logger

_log = get_logger("approval.worker")


class RetryLater(Exception):
    """The record's job is not done (CodeDeploy could not be told); the stream retries it."""


def handle(event: Any, rt: Runtime) -> dict[str, Any]:
    """DynamoDB stream batch -> `{"batchItemFailures": [{"itemIdentifier": <sequence number>}]}`."""
    failures: list[dict[str, str]] = []
    for raw in (event.get("Records") if isinstance(event, Mapping) else None) or []:
        sequence = str(((raw or {}).get("dynamodb") or {}).get("SequenceNumber") or "")
        try:
            process(raw, rt)
        except Exception as exc:  # noqa: BLE001 - report the record; the mapping retries it
            _log.warning("worker job failed; will be retried", sequence=sequence,
                         error=str(exc) if isinstance(exc, RetryLater) else type(exc).__name__)
            failures.append({"itemIdentifier": sequence})
    return {"batchItemFailures": failures}


def process(raw: Mapping[str, Any], rt: Runtime) -> str:
    if not any(matches(pattern, raw) for pattern in decision_worker_filters()):
        return "ignored"  # the event source mapping's filters (the same definitions) never deliver it
    new = approvals.from_item(((raw.get("dynamodb") or {}).get("NewImage"))) or {}
    pk, sk = str(new.get("pk", "")), str(new.get("sk", ""))
    if not pk.startswith(approvals.PK_PREFIX):
        return "ignored"
    deployment_id = pk[len(approvals.PK_PREFIX):]
    if sk == approvals.DECISION_SK:
        return _decision(deployment_id, rt)
    if sk.startswith(approvals.VOTE_PREFIX):
        return _vote(deployment_id, new, rt)
    if sk.startswith(approvals.EVENT_PREFIX) and new.get("via") == "slack":
        return _tell_clicker(deployment_id, new, rt, None)
    return "ignored"


def _decision(deployment_id: str, rt: Runtime) -> str:
    settings = rt.settings
    state = approvals.load_state(table_name=settings.table, deployment_id=deployment_id, dynamodb=rt.dynamodb)
    decision = state.decision or {}
    delivery = None
    if decision.get("deliveredBy") != approvals.DELIVERED_BY_WRITER:
        delivery = approvals.deliver(state, table_name=settings.table, now=rt.now(), delivered_by="worker",
                                     dynamodb=rt.dynamodb, codedeploy=rt.codedeploy)
        _log.info("decision delivered", deployment_id=deployment_id, result=delivery.result)
        if delivery.retryable:
            raise RetryLater(f"CodeDeploy not told: {delivery.result}")
        state = approvals.load_state(table_name=settings.table, deployment_id=deployment_id, dynamodb=rt.dynamodb)
    view = state.view()
    _update_message(rt, state, *messages.decided_message(view, console_url=console_url(settings.region,
                                                                                       deployment_id)))
    approvals.put_decided_event(rt.events, state, delivery)
    by = decision.get("decidedBy") or {}
    if decision.get("decidedVia") == "slack" and by.get("slackUserId"):
        text = f"{_verb(decision)} recorded. " + (delivery.message if delivery else "")
        _tell_clicker(deployment_id, {"actor": by, "message": text}, rt, state)
    return "decision"


def _vote(deployment_id: str, vote: Mapping[str, Any], rt: Runtime) -> str:
    state = approvals.load_state(table_name=rt.settings.table, deployment_id=deployment_id, dynamodb=rt.dynamodb)
    if state.decision:
        return "decided"  # the DECISION job shows the outcome
    view = state.view()
    _update_message(rt, state, *messages.progress_message(view, console_url=console_url(rt.settings.region,
                                                                                        deployment_id)))
    if vote.get("via") == "slack":
        text = f"Your approval is recorded. {approvals.still_needed(state)}"
        _tell_clicker(deployment_id, {"actor": vote.get("by") or {}, "message": text}, rt, state)
    return "vote"


def _verb(decision: Mapping[str, Any]) -> str:
    return {"APPROVED": "Approval", "REJECTED": "Rejection", "EXPIRED": "Expiry"}.get(str(decision.get("status")),
                                                                                    "Decision")


def _update_message(rt: Runtime, state: approvals.ApprovalState, text: str, blocks: list) -> None:
    message = state.message or {}
    if not message.get("channel") or not message.get("ts"):
        return
    try:
        rt.slack(timeout=3.0).update_message(channel=str(message["channel"]), ts=str(message["ts"]), text=text,
                                             blocks=blocks)
    except Exception as exc:  # noqa: BLE001 - cosmetic; the records are the truth
        _log.warning("could not update the approval message", deployment_id=state.deployment_id,
                     error=getattr(exc, "reason", type(exc).__name__))


def _tell_clicker(deployment_id: str, entry: Mapping[str, Any], rt: Runtime,
                  state: approvals.ApprovalState | None) -> str:
    user = (entry.get("actor") or {}).get("slackUserId")
    channel = entry.get("channel")
    if not channel:
        if state is None:
            state = approvals.load_state(table_name=rt.settings.table, deployment_id=deployment_id,
                                         dynamodb=rt.dynamodb)
        channel = (state.message or {}).get("channel") or (state.request or {}).get("channel")
    if not user or not channel:
        return "nobody to tell"
    try:
        rt.slack(timeout=3.0).post_ephemeral(channel=str(channel), user=str(user), text=str(entry.get("message", "")))
    except Exception as exc:  # noqa: BLE001 - cosmetic
        _log.warning("could not answer the clicker", deployment_id=deployment_id,
                     error=getattr(exc, "reason", type(exc).__name__))
    return "told"
