"""The approval audit trail (append-only records) and THE rules every decision path obeys.

Every fact is its own immutable item in partition `DEPLOYMENT#<deploymentId>` of the audit table,
written once with a conditional PutItem (or an all-or-nothing TransactWriteItems of such puts):

| sk | written by | meaning |
|---|---|---|
| `REGISTERED` | deploy API (registrar) | who started the deployment, as AWS/GitHub verified it |
| `APPROVAL` | request hook | the approval request (the claim: one per deployment) |
| `MESSAGE` | request hook | where the Slack message is (channel, ts, team, app) |
| `VOTE#<nn>` + `VOTER#<who>` | callback / deploy API | one accepted approval each (two-person rule) |
| `DECISION` | callback / deploy API / expiry / request hook (rule) | the decision: first conditional put wins |
| `EVENT#<time>#<nonce>` | callback / deploy API | a refused attempt, with its reason |
| `CODEDEPLOY#<time>#<nonce>` | worker / deploy API / expiry | what CodeDeploy answered |

Nothing is ever updated or deleted: the state of an approval is *derived* from its records
(`ApprovalState`, one strongly consistent Query). `evaluate(...)` is the single rule book used by the
Slack callback, the deploy API (`bgctl approve|reject`) and the expiry: approver authorization, no
self-approval, distinct approvers, the two-person rule, no decision after expiry.

Clients: pass boto3 *clients*; none is created at import time.
"""
from __future__ import annotations

import json
import logging
import os
import secrets as _secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, Sequence

from bgruntime import event_patterns
from bgruntime.deployments import (
    RESULT_ALREADY_COMPLETED, RESULT_DOES_NOT_EXIST, RESULT_OK, error_code, report_hook_status,
)

PENDING = "PENDING"
APPROVED = "APPROVED"
REJECTED = "REJECTED"
EXPIRED = "EXPIRED"
DECISIONS = (APPROVED, REJECTED, EXPIRED)
DECIDED_VIA = ("slack", "cli", "expiry", "rule")
PK_PREFIX = "DEPLOYMENT#"
SMOKE_PK_PREFIX = "SMOKE#"
REGISTERED_SK = "REGISTERED"
APPROVAL_SK = "APPROVAL"
MESSAGE_SK = "MESSAGE"
DECISION_SK = "DECISION"
VOTE_PREFIX = "VOTE#"
VOTER_PREFIX = "VOTER#"
EVENT_PREFIX = "EVENT#"
CODEDEPLOY_PREFIX = "CODEDEPLOY#"
SMOKE_SK = "RESULT"
BY_DOMAIN_INDEX = "byDomain"
EVENT_SOURCE = event_patterns.PLATFORM_SOURCE
#: `unknown_requester` policies
TWO_APPROVERS = "two_approvers"
BLOCK = "block"
#: who tells CodeDeploy about a DECISION: the stream worker (Slack clicks, rules) or its writer.
DELIVERED_BY_WORKER = "worker"
DELIVERED_BY_WRITER = "writer"
#: CodeDeploy answers after which re-sending is pointless
FINAL_RESULTS = (RESULT_OK, RESULT_ALREADY_COMPLETED, RESULT_DOES_NOT_EXIST)

# `Verdict.code` values
CODE_DECIDED = "decided"
CODE_VOTE_RECORDED = "vote_recorded"
CODE_ALREADY_DECIDED = "already_decided"
CODE_ALREADY_VOTED = "already_voted"
CODE_EXPIRED = "expired"
CODE_NOT_FOUND = "not_found"
CODE_UNAUTHORIZED = "unauthorized"
CODE_AUTH_UNAVAILABLE = "authorization_unavailable"
CODE_SELF_APPROVAL = "self_approval"
CODE_BLOCKED = "blocked_unknown_requester"
CODE_CONFLICT = "conflict"
CODE_CODEDEPLOY_ERROR = "codedeploy_error"

_log = logging.getLogger(__name__)
_VERB = {APPROVED: "Approved", REJECTED: "Rejected", EXPIRED: "Expired"}


# ---------------------------------------------------------------------------------------------
# time and DynamoDB attribute helpers


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with a `Z`, second precision."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds: sort keys of records that can happen in the same second."""
    utc = _utc(moment)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _utc(parsed)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def to_attr(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, Decimal)):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attr(v) for k, v in value.items() if v is not None}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attr(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def from_attr(attr: Mapping[str, Any]) -> Any:
    (kind, value), = attr.items()
    if kind == "S":
        return value
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind in ("SS", "NS", "BS"):
        return [from_attr({kind[0]: v}) for v in value]
    return value


def from_item(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if not item else {k: from_attr(v) for k, v in item.items()}


def to_item(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in record.items() if v is not None}


def partition(deployment_id: str) -> str:
    return f"{PK_PREFIX}{deployment_id}"


def key(deployment_id: str, sk: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": partition(deployment_id)}, "sk": {"S": sk}}


def nonce() -> str:
    return _secrets.token_hex(4)


# ---------------------------------------------------------------------------------------------
# actors and derived state


@dataclass(frozen=True)
class Actor:
    """Who acts: a Slack user (`slack_user_id`), an IAM principal (`iam_arn`, mapped to a Slack id when
    the identity map knows it) or the platform itself (expiry, rules)."""

    via: str
    name: str
    slack_user_id: str | None = None
    iam_arn: str | None = None

    @property
    def voter_key(self) -> str:
        """The same person clicking in Slack and calling bgctl has one key (their Slack id)."""
        if self.slack_user_id:
            return self.slack_user_id
        return f"iam:{self.iam_arn}" if self.iam_arn else f"platform:{self.name}"

    def as_record(self) -> dict[str, Any]:
        return {k: v for k, v in {"slackUserId": self.slack_user_id, "iamArn": self.iam_arn,
                                  "name": self.name}.items() if v}


@dataclass(frozen=True)
class ApprovalState:
    """Everything recorded about one deployment's approval, derived from its records."""

    deployment_id: str
    registration: Mapping[str, Any] | None = None
    request: Mapping[str, Any] | None = None
    message: Mapping[str, Any] | None = None
    votes: Sequence[Mapping[str, Any]] = ()
    voters: frozenset[str] = frozenset()
    decision: Mapping[str, Any] | None = None
    codedeploy: Sequence[Mapping[str, Any]] = ()
    events: Sequence[Mapping[str, Any]] = ()

    @classmethod
    def from_records(cls, deployment_id: str, records: Iterable[Mapping[str, Any]]) -> "ApprovalState":
        by_sk = {str(r.get("sk")): r for r in records}
        ordered = sorted(by_sk.items())
        return cls(
            deployment_id=deployment_id, registration=by_sk.get(REGISTERED_SK), request=by_sk.get(APPROVAL_SK),
            message=by_sk.get(MESSAGE_SK), decision=by_sk.get(DECISION_SK),
            votes=tuple(r for sk, r in ordered if sk.startswith(VOTE_PREFIX)),
            voters=frozenset(sk[len(VOTER_PREFIX):] for sk, _ in ordered if sk.startswith(VOTER_PREFIX)),
            codedeploy=tuple(r for sk, r in ordered if sk.startswith(CODEDEPLOY_PREFIX)),
            events=tuple(r for sk, r in ordered if sk.startswith(EVENT_PREFIX)))

    @property
    def status(self) -> str:
        if self.decision:
            return str(self.decision.get("status"))
        if self.request and self.request.get("status") in DECISIONS:  # an item from before append-only records
            return str(self.request["status"])
        return PENDING if self.request else ""

    @property
    def required_approvals(self) -> int:
        return int((self.request or {}).get("requiredApprovals") or 1)

    @property
    def blocked(self) -> bool:
        return bool((self.request or {}).get("blocked"))

    @property
    def last_codedeploy(self) -> Mapping[str, Any] | None:
        return self.codedeploy[-1] if self.codedeploy else None

    @property
    def delivered(self) -> bool:
        """CodeDeploy has the decision (or can no longer take it)."""
        return any(r.get("result") in FINAL_RESULTS for r in self.codedeploy)

    def approvers_so_far(self) -> list[Mapping[str, Any]]:
        return [dict(v.get("by") or {}) for v in self.votes]

    def view(self) -> dict[str, Any]:
        """One flat dict in the shape the messages, `bgctl` and older readers use."""
        out: dict[str, Any] = dict(self.request or {})
        out.pop("sk", None)
        if self.message:
            out.update(slackChannel=self.message.get("channel"), slackTs=self.message.get("ts"))
        out["status"] = self.status
        out["approvals"] = self.approvers_so_far()
        if self.decision:
            for name in ("decidedBy", "decidedVia", "decidedAt", "reason", "rule"):
                if self.decision.get(name) is not None:
                    out[name] = self.decision[name]
        last = self.last_codedeploy
        if last:
            out.update(codeDeployStatus=last.get("status"), codeDeployResult=last.get("result"))
        return out


def load_state(*, table_name: str, deployment_id: str, dynamodb: Any) -> ApprovalState:
    """All records of one deployment: one strongly consistent Query (paginated)."""
    records: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table_name, "ConsistentRead": True, "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": partition(deployment_id)}}}
    while True:
        answer = _client(dynamodb).query(**kwargs)
        records.extend(from_item(i) or {} for i in answer.get("Items", []))
        if not answer.get("LastEvaluatedKey"):
            break
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return ApprovalState.from_records(deployment_id, records)


def get_approval(*, table_name: str, deployment_id: str, dynamodb: Any = None) -> dict[str, Any] | None:
    """The derived view of an approval (None when no request was recorded)."""
    state = load_state(table_name=table_name, deployment_id=deployment_id, dynamodb=dynamodb)
    return state.view() if state.request else None


# ---------------------------------------------------------------------------------------------
# writing records (conditional puts only)


class RecordExists(Exception):
    """The conditional put lost: the record (or one of a transaction's records) already exists."""


def put_record(*, table_name: str, record: Mapping[str, Any], dynamodb: Any) -> None:
    """PutItem unless an item with the same key exists (RecordExists then)."""
    try:
        _client(dynamodb).put_item(TableName=table_name, Item=to_item(record),
                                   ConditionExpression="attribute_not_exists(pk)")
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) == "ConditionalCheckFailedException":
            raise RecordExists(str(record.get("sk"))) from None
        raise


def put_records(*, table_name: str, records: Sequence[Mapping[str, Any]], dynamodb: Any,
                unexpired: tuple[str, int] | None = None, undecided: str | None = None) -> None:
    """All records or none (TransactWriteItems of conditional puts).

    `unexpired=(deployment_id, now_epoch)` adds a check that the request's `expiresAtEpoch` is later;
    `undecided=deployment_id` adds a check that no DECISION exists (unless this transaction writes it).
    """
    if len(records) == 1 and not unexpired and not undecided:
        put_record(table_name=table_name, record=records[0], dynamodb=dynamodb)
        return
    items: list[dict[str, Any]] = [{"Put": {"TableName": table_name, "Item": to_item(r),
                                            "ConditionExpression": "attribute_not_exists(pk)"}} for r in records]
    if unexpired:
        items.append({"ConditionCheck": {
            "TableName": table_name, "Key": key(unexpired[0], APPROVAL_SK),
            "ConditionExpression": "expiresAtEpoch > :now",
            "ExpressionAttributeValues": {":now": {"N": str(unexpired[1])}}}})
    if undecided and not any(r.get("sk") == DECISION_SK for r in records):
        items.append({"ConditionCheck": {"TableName": table_name, "Key": key(undecided, DECISION_SK),
                                         "ConditionExpression": "attribute_not_exists(pk)"}})
    try:
        _client(dynamodb).transact_write_items(TransactItems=items)
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) in ("TransactionCanceledException", "ConditionalCheckFailedException"):
            raise RecordExists(",".join(str(r.get("sk")) for r in records)) from None
        raise


def record(deployment_id: str, sk: str, record_type: str, now: datetime, **attrs: Any) -> dict[str, Any]:
    """A record dict: keys, `recordType`, `deploymentId`, `recordedAt` plus `attrs` (None dropped)."""
    return {"pk": partition(deployment_id), "sk": sk, "recordType": record_type, "deploymentId": deployment_id,
            "recordedAt": iso_ms(now), **{k: v for k, v in attrs.items() if v is not None}}


def event_record(deployment_id: str, now: datetime, *, actor: Actor, action: str, code: str, message: str,
                 domain: str | None = None, **extra: Any) -> dict[str, Any]:
    """A refused (or otherwise noteworthy) attempt: `EVENT#<time>#<nonce>`."""
    return record(deployment_id, f"{EVENT_PREFIX}{iso_ms(now)}#{nonce()}", "event", now, actor=actor.as_record(),
                  via=actor.via, action=action, outcome="refused", code=code, message=message[:1000], domain=domain,
                  **extra)


def codedeploy_record(deployment_id: str, now: datetime, *, status: str, result: str, delivered_by: str,
                      hook_execution_id: str | None = None) -> dict[str, Any]:
    return record(deployment_id, f"{CODEDEPLOY_PREFIX}{iso_ms(now)}#{nonce()}", "codedeploy", now, status=status,
                  result=result, deliveredBy=delivered_by)


# ---------------------------------------------------------------------------------------------
# the rule book


@dataclass(frozen=True)
class Verdict:
    """What an attempt leads to. `records` are written (all or none) when `accepted`."""

    code: str
    message: str
    accepted: bool = False
    decision: str | None = None
    records: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)
    check_unexpired: bool = False

    @property
    def final(self) -> bool:
        return self.decision is not None


def is_requester(state: ApprovalState, actor: Actor) -> bool:
    """The actor started this deployment (same Slack user, or the very same IAM principal)."""
    request = state.request or {}
    if actor.slack_user_id and actor.slack_user_id == request.get("requesterSlackId"):
        return True
    principal = ((state.registration or {}).get("requester") or {}).get("principalArn")
    return bool(actor.iam_arn and principal and actor.iam_arn == principal)


def evaluate(state: ApprovalState, actor: Actor, action: str, now: datetime, *,
             is_approver: Callable[[Actor], bool | None], reason: str | None = None,
             delivered_by: str = DELIVERED_BY_WORKER) -> Verdict:
    """Apply the rules to one attempt. `action`: APPROVED | REJECTED | EXPIRED.

    `is_approver(actor)` -> True / False / None (membership could not be checked: refused, fail closed).
    Rejecting needs one approver (the requester included); approving needs `requiredApprovals` distinct
    approvers, none of them the requester; EXPIRED is the platform's own decision.
    """
    if action not in DECISIONS:
        raise ValueError(f"action must be one of {DECISIONS}, not {action!r}")
    deployment_id = state.deployment_id
    request = state.request
    if not request:
        return Verdict(CODE_NOT_FOUND, f"No approval request exists for deployment {deployment_id}; nothing changed.")
    if state.decision or state.status in DECISIONS:
        decision = state.decision or request
        return Verdict(CODE_ALREADY_DECIDED, (
            f"Deployment {deployment_id} was already {str(decision.get('status')).lower()} by "
            f"{who(decision.get('decidedBy'))} at {decision.get('decidedAt', '?')} via {decision.get('decidedVia', '?')}; "
            "nothing changed."))
    now = _utc(now)
    domain = str(request.get("domain", ""))
    if action == EXPIRED:
        return _decide(state, actor, EXPIRED, now, reason or "no decision before the approval expired",
                       delivered_by=delivered_by, check_unexpired=False)
    if int(request.get("expiresAtEpoch", 0) or 0) <= int(now.timestamp()):
        return Verdict(CODE_EXPIRED, f"This approval request expired at {request.get('expiresAt')}; it can no longer "
                                     "be approved or rejected (the expiry fails the deployment). Nothing changed.")
    allowed = is_approver(actor)
    if allowed is None:
        return Verdict(CODE_AUTH_UNAVAILABLE, "Could not check that you are an approver; nothing changed, "
                                              "please try again.")
    if not allowed:
        return Verdict(CODE_UNAUTHORIZED, f"You are not an approver for {domain}. Nothing changed.")
    if action == REJECTED:
        return _decide(state, actor, REJECTED, now, reason, delivered_by=delivered_by)
    if is_requester(state, actor):
        return Verdict(CODE_SELF_APPROVAL, "You requested this deployment, so you cannot approve it; ask another "
                                           "approver (you may still reject it). Nothing changed.")
    if actor.voter_key in state.voters:
        return Verdict(CODE_ALREADY_VOTED, f"You already approved; {still_needed(state)} Nothing changed.")
    if state.blocked:
        return Verdict(CODE_BLOCKED, "The requester of this deployment is not verified and this domain blocks such "
                                     "deployments (unknown_requester: block): it cannot be approved, only rejected "
                                     "or left to expire. Nothing changed.")
    slot = len(state.votes) + 1
    vote = record(deployment_id, f"{VOTE_PREFIX}{slot:02d}", "vote", now, by=actor.as_record(), via=actor.via,
                  reason=reason, domain=domain)
    voter = record(deployment_id, f"{VOTER_PREFIX}{actor.voter_key}", "voter", now, by=actor.as_record(),
                   via=actor.via, vote=vote["sk"])
    if slot < state.required_approvals:
        remaining = state.required_approvals - slot
        return Verdict(CODE_VOTE_RECORDED, (
            f"Your approval of {domain} deployment {deployment_id} is recorded ({slot} of {state.required_approvals}); "
            f"{remaining} more approver{'s' if remaining > 1 else ''} other than you and the requester must approve "
            "before traffic moves."), accepted=True, records=(vote, voter), check_unexpired=True)
    approvers = [*state.approvers_so_far(), actor.as_record()]
    verdict = _decide(state, actor, APPROVED, now, reason, delivered_by=delivered_by, approvers=approvers)
    return Verdict(verdict.code, verdict.message, True, APPROVED, (vote, voter, *verdict.records), True)


def _decide(state: ApprovalState, actor: Actor, status: str, now: datetime, reason: str | None, *,
            delivered_by: str, approvers: list[Mapping[str, Any]] | None = None, rule: str | None = None,
            check_unexpired: bool = True) -> Verdict:
    request = state.request or {}
    decision = record(state.deployment_id, DECISION_SK, "decision", now, status=status, decidedBy=actor.as_record(),
                      decidedVia=actor.via, decidedAt=iso(now), reason=(reason or None) and str(reason)[:1000],
                      rule=rule, approvers=approvers, deliveredBy=delivered_by, domain=request.get("domain"),
                      hookExecutionId=request.get("hookExecutionId"))
    head = f"{_VERB[status]} {request.get('domain', '')} deployment {state.deployment_id}".replace("  ", " ")
    if status != EXPIRED:
        head += f" by {actor.name} via {actor.via}"
    effect = {APPROVED: "traffic will shift once CodeDeploy is told", REJECTED: "the deployment fails and rolls back",
              EXPIRED: "the deployment fails and rolls back"}[status]
    return Verdict(CODE_DECIDED, f"{head} at {iso(now)}; {effect}.", True, status, (decision,),
                   check_unexpired=check_unexpired)


def rule_decision(state: ApprovalState, now: datetime, *, rule: str, reason: str) -> Verdict:
    """An automatic APPROVED by a named platform rule (e.g. a rollback to a known-good revision)."""
    return _decide(state, Actor(via="rule", name=f"rule {rule}"), APPROVED, now, reason,
                   delivered_by=DELIVERED_BY_WORKER, rule=rule)


def still_needed(state: ApprovalState) -> str:
    have, need = len(state.votes), state.required_approvals
    if state.blocked:
        return "this deployment cannot be approved (unverified requester, domain blocks it)."
    if have >= need:
        return "no further approval is needed."
    return f"{have} of {need} approvals so far; {need - have} more needed."


def commit(verdict: Verdict, state: ApprovalState, now: datetime, *, table_name: str, dynamodb: Any) -> bool:
    """Write an accepted verdict's records; False when a concurrent writer won (nothing written)."""
    if not verdict.accepted:
        raise ValueError("only accepted verdicts are written")
    try:
        put_records(table_name=table_name, records=verdict.records, dynamodb=dynamodb,
                    unexpired=(state.deployment_id, int(_utc(now).timestamp())) if verdict.check_unexpired else None,
                    undecided=state.deployment_id)
    except RecordExists:
        return False
    return True


def attempt(*, table_name: str, deployment_id: str, actor: Actor, action: str, now: datetime, dynamodb: Any,
            is_approver: Callable[[Actor], bool | None], reason: str | None = None,
            delivered_by: str = DELIVERED_BY_WORKER, state: ApprovalState | None = None,
            record_refusal: bool = True, retries: int = 1) -> tuple[Verdict, ApprovalState]:
    """Read (unless `state` is given), evaluate, write. A lost race re-reads and re-evaluates (`retries`).

    Refusals are recorded as EVENT records when `record_refusal` (best effort: a failing audit write
    of a refusal is logged, the refusal stands). Returns the verdict and the state it was based on.
    """
    for round_ in range(retries + 1):
        if state is None:
            state = load_state(table_name=table_name, deployment_id=deployment_id, dynamodb=dynamodb)
        verdict = evaluate(state, actor, action, now, is_approver=is_approver, reason=reason,
                           delivered_by=delivered_by)
        if not verdict.accepted:
            if record_refusal and state.request is not None:
                refuse_on_record(table_name=table_name, state=state, actor=actor, action=action, verdict=verdict,
                                 now=now, dynamodb=dynamodb)
            return verdict, state
        if commit(verdict, state, now, table_name=table_name, dynamodb=dynamodb):
            return verdict, state
        state = None  # somebody else wrote first: look again
    conflict = Verdict(CODE_CONFLICT, f"Deployment {deployment_id} changed while you acted; nothing changed, "
                                      "look again and retry.")
    return conflict, state  # type: ignore[return-value]


def refuse_on_record(*, table_name: str, state: ApprovalState, actor: Actor, action: str, verdict: Verdict,
                     now: datetime, dynamodb: Any, **extra: Any) -> None:
    entry = event_record(state.deployment_id, now, actor=actor, action=action, code=verdict.code,
                         message=verdict.message, domain=(state.request or {}).get("domain"), **extra)
    try:
        put_record(table_name=table_name, record=entry, dynamodb=dynamodb)
    except Exception as exc:  # noqa: BLE001 - the refusal stands; the log keeps it
        _log.warning("could not record a refused attempt", extra={"fields": {
            "deployment_id": state.deployment_id, "code": verdict.code, "error": error_code(exc) or type(exc).__name__}})


# ---------------------------------------------------------------------------------------------
# telling CodeDeploy


@dataclass(frozen=True)
class Delivery:
    result: str | None  # None: nothing to deliver
    status: str | None
    message: str

    @property
    def ok(self) -> bool:
        return self.result in FINAL_RESULTS

    @property
    def retryable(self) -> bool:
        return bool(self.result) and self.result not in FINAL_RESULTS


def deliver(state: ApprovalState, *, table_name: str, now: datetime, delivered_by: str, dynamodb: Any,
            codedeploy: Any, force: bool = False) -> Delivery:
    """Tell CodeDeploy the recorded decision unless it already has it; record its answer (CODEDEPLOY#...).

    `force` re-sends even when a final answer is recorded (never needed in practice; kept for tests).
    """
    decision = state.decision
    if not decision:
        return Delivery(None, None, "no decision recorded yet")
    if state.delivered and not force:
        last = state.last_codedeploy or {}
        return Delivery(str(last.get("result")), str(last.get("status")), "CodeDeploy already has the decision")
    status = "Succeeded" if decision.get("status") == APPROVED else "Failed"
    hook = str(decision.get("hookExecutionId") or (state.request or {}).get("hookExecutionId") or "")
    result = report_hook_status(codedeploy, state.deployment_id, hook, status)
    try:
        put_record(table_name=table_name, dynamodb=dynamodb, record=codedeploy_record(
            state.deployment_id, now, status=status, result=result, delivered_by=delivered_by))
    except Exception as exc:  # noqa: BLE001 - CodeDeploy has been told; the log keeps the answer
        _log.warning("could not record the CodeDeploy answer", extra={"fields": {
            "deployment_id": state.deployment_id, "result": result, "error": error_code(exc) or type(exc).__name__}})
    return Delivery(result, status, delivery_message(state, status, result))


def delivery_message(state: ApprovalState, cd_status: str, result: str) -> str:
    head = f"Deployment {state.deployment_id}: CodeDeploy"
    if result == RESULT_OK:
        return f"{head} told {cd_status}."
    if result == RESULT_ALREADY_COMPLETED:
        return (f"{head} says the approval step already ended (answered elsewhere, timed out or the deployment was "
                "stopped); the decision had no effect.")
    if result == RESULT_DOES_NOT_EXIST:
        return f"{head} says the deployment no longer exists; the decision had no effect."
    return f"{head} could not be told ({result}); the decision is recorded and will be re-sent."


def put_decided_event(events: Any, state: ApprovalState, delivery: Delivery | None) -> None:
    decision = state.decision or {}
    request = state.request or {}
    domain = str(request.get("domain", decision.get("domain", "")))
    detail = {"platform": os.environ.get("PLATFORM_NAME") or "", "domain": domain,
              "deploymentId": state.deployment_id, "decision": decision.get("status"), "status": decision.get("status"),
              "decidedBy": decision.get("decidedBy"), "decidedVia": decision.get("decidedVia"),
              "decidedAt": decision.get("decidedAt"), "reason": decision.get("reason"), "rule": decision.get("rule"),
              "approvers": decision.get("approvers"),
              "codeDeployResult": delivery.result if delivery else None}
    try:
        events.put_events(Entries=[{"Source": EVENT_SOURCE, "DetailType": event_patterns.APPROVAL_DECIDED,
                                    "Detail": json.dumps(detail, default=str)}])
    except Exception:  # noqa: BLE001 - the audit record is the record; the event is a notification
        _log.warning("could not put the Approval Decided event", exc_info=True,
                     extra={"fields": {"deployment_id": state.deployment_id}})


# ---------------------------------------------------------------------------------------------
# listings


def list_by_domain(*, table_name: str, domain: str, limit: int = 20, dynamodb: Any = None) -> list[dict[str, Any]]:
    """Approval requests of one domain, newest `requestedAt` first (GSI `byDomain`)."""
    client = _client(dynamodb)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table_name, "IndexName": BY_DOMAIN_INDEX, "ScanIndexForward": False,
        "KeyConditionExpression": "#d = :d", "ExpressionAttributeNames": {"#d": "domain"},
        "ExpressionAttributeValues": {":d": {"S": domain}}, "Limit": max(1, limit)}
    while len(items) < limit:
        answer = client.query(**kwargs)
        items.extend(i for i in (from_item(raw) for raw in answer.get("Items", [])) if i and i.get("sk") == APPROVAL_SK)
        if "LastEvaluatedKey" not in answer:
            break
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return items[:limit]


def who(decided_by: Mapping[str, Any] | None) -> str:
    """Short display name of a decider."""
    by = decided_by or {}
    return str(by.get("name") or by.get("slackUserId") or by.get("iamArn") or "someone")


def _client(client: Any) -> Any:
    if client is None:
        import boto3  # lazy: keeps cold imports of the Lambdas and bgctl fast

        return boto3.client("dynamodb")
    if hasattr(client, "Table") or hasattr(client, "table_name"):
        raise TypeError("pass a DynamoDB client (boto3.client('dynamodb')), not a resource or Table")
    return client
