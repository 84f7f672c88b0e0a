"""The approval store (audit table item `DEPLOYMENT#<id>` / `APPROVAL`) and THE decision code path.

`decide(...)` is used by the Slack callback, the expiry Lambda and `bgctl approve|reject`:

1. conditional UpdateItem: `status = PENDING` (and, for APPROVED/REJECTED, `expiresAtEpoch > now`),
   so the first decision wins and nothing is decided after expiry;
2. only the winner calls PutLifecycleEventHookExecutionStatus (Succeeded for APPROVED, Failed
   otherwise);
3. the CodeDeploy answer is recorded as `codeDeployStatus` / `codeDeployResult`;
4. an `Approval Decided` event is put on the default bus (best effort).

Clients: pass boto3 *clients* (`boto3.client("dynamodb")`; a resource or Table raises TypeError).
None creates a default client on first use, so importing this module does not import boto3.
Item attribute names follow docs/contracts.md exactly.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Mapping

from bgruntime.deployments import RESULT_ALREADY_COMPLETED, RESULT_DOES_NOT_EXIST, RESULT_OK, error_code, \
    report_hook_status

PENDING = "PENDING"
APPROVED = "APPROVED"
REJECTED = "REJECTED"
EXPIRED = "EXPIRED"
DECISIONS = (APPROVED, REJECTED, EXPIRED)
DECIDED_VIA = ("slack", "cli", "expiry")
APPROVAL_SK = "APPROVAL"
SMOKE_SK = "SMOKE"
BY_DOMAIN_INDEX = "byDomain"
EVENT_SOURCE = "bluegreen.platform"

#: `DecisionOutcome.code` values.
CODE_DECIDED = "decided"
CODE_ALREADY_DECIDED = "already_decided"
CODE_EXPIRED = "expired"
CODE_NOT_FOUND = "not_found"
CODE_CODEDEPLOY_ERROR = "codedeploy_error"

_log = logging.getLogger(__name__)
_VERB = {APPROVED: "Approved", REJECTED: "Rejected", EXPIRED: "Expired"}


@dataclass(frozen=True)
class DecisionOutcome:
    """What `decide` did. `recorded` is True only for the call whose conditional write won."""

    recorded: bool
    status: str  # item status after the call ("" when there is no item)
    code: str  # decided | already_decided | expired | not_found | codedeploy_error
    codedeploy_result: str | None  # OK | LifecycleEventAlreadyCompleted | DeploymentDoesNotExist | ERROR:<code>
    message: str  # one human line, safe to show in Slack or a terminal
    item: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


# ---------------------------------------------------------------------------------------------
# time helpers


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with a `Z`, second precision (`requestedAt`, `expiresAt`, `decidedAt`)."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


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


# ---------------------------------------------------------------------------------------------
# DynamoDB attribute (de)serialisation without boto3.dynamodb (keeps imports light)


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


def approval_key(deployment_id: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"DEPLOYMENT#{deployment_id}"}, "sk": {"S": APPROVAL_SK}}


# ---------------------------------------------------------------------------------------------
# store helpers


def create_pending(*, table_name: str, deployment_id: str, hook_execution_id: str, domain: str,
                   application_name: str, deployment_group_name: str, requester: str,
                   requester_slack_id: str | None, image: str | None, requested_at: datetime,
                   expires_at: datetime, approver_user_ids: Iterable[str] = (),
                   approver_group_ids: Iterable[str] = (), dynamodb: Any = None) -> tuple[bool, dict[str, Any]]:
    """Put the PENDING approval item unless one exists (`attribute_not_exists(pk)`).

    Returns `(created, item)`: `(False, existing item)` when a retried hook invocation finds it.
    """
    client = _client(dynamodb, "dynamodb")
    item: dict[str, Any] = {
        "pk": f"DEPLOYMENT#{deployment_id}",
        "sk": APPROVAL_SK,
        "domain": domain,
        "deploymentId": deployment_id,
        "hookExecutionId": hook_execution_id,
        "applicationName": application_name,
        "deploymentGroupName": deployment_group_name,
        "requester": requester,
        "requestedAt": iso(requested_at),
        "expiresAt": iso(expires_at),
        "expiresAtEpoch": int(_utc(expires_at).timestamp()),
        "status": PENDING,
        "approverUserIds": [str(u) for u in approver_user_ids],
        "approverGroupIds": [str(g) for g in approver_group_ids],
    }
    if requester_slack_id:
        item["requesterSlackId"] = requester_slack_id
    if image:
        item["image"] = image
    try:
        client.put_item(TableName=table_name, Item={k: to_attr(v) for k, v in item.items()},
                        ConditionExpression="attribute_not_exists(pk)")
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        existing = get_approval(table_name=table_name, deployment_id=deployment_id, dynamodb=client)
        return False, existing or item
    return True, item


def get_approval(*, table_name: str, deployment_id: str, dynamodb: Any = None) -> dict[str, Any] | None:
    """The approval item as plain Python values (strongly consistent read), or None."""
    answer = _client(dynamodb, "dynamodb").get_item(TableName=table_name, Key=approval_key(deployment_id),
                                                   ConsistentRead=True)
    return from_item(answer.get("Item"))


def get_smoke_results(*, table_name: str, deployment_id: str, dynamodb: Any = None) -> dict[str, Any] | None:
    """The `SMOKE` item written by the smoke-test hook, or None."""
    answer = _client(dynamodb, "dynamodb").get_item(
        TableName=table_name, Key={"pk": {"S": f"DEPLOYMENT#{deployment_id}"}, "sk": {"S": SMOKE_SK}})
    return from_item(answer.get("Item"))


def set_slack_message(*, table_name: str, deployment_id: str, channel: str, ts: str, dynamodb: Any = None) -> None:
    """Remember where the approval message was posted (for chat.update on decision/expiry)."""
    _client(dynamodb, "dynamodb").update_item(
        TableName=table_name, Key=approval_key(deployment_id),
        UpdateExpression="SET slackChannel = :c, slackTs = :t",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":c": {"S": channel}, ":t": {"S": ts}})


def list_by_domain(*, table_name: str, domain: str, limit: int = 20, dynamodb: Any = None) -> list[dict[str, Any]]:
    """Approval items of one domain, newest `requestedAt` first (GSI `byDomain`)."""
    client = _client(dynamodb, "dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table_name, "IndexName": BY_DOMAIN_INDEX, "ScanIndexForward": False,
        "KeyConditionExpression": "#d = :d", "ExpressionAttributeNames": {"#d": "domain"},
        "ExpressionAttributeValues": {":d": {"S": domain}}, "Limit": max(1, limit),
    }
    while len(items) < limit:
        answer = client.query(**kwargs)
        items.extend(i for i in (from_item(raw) for raw in answer.get("Items", [])) if i and i.get("sk") == APPROVAL_SK)
        if "LastEvaluatedKey" not in answer:
            break
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return items[:limit]


# ---------------------------------------------------------------------------------------------
# the decision


def decide(*, table_name: str, deployment_id: str, decision: str, decided_by: dict, decided_via: str,
           reason: str | None, now: datetime, dynamodb: Any = None, codedeploy: Any = None,
           events: Any = None) -> DecisionOutcome:
    """Record one decision (first wins), then tell CodeDeploy, then record what CodeDeploy said.

    `decision`: APPROVED | REJECTED | EXPIRED. `decided_by`: `{"slackUserId", "name"}` or
    `{"iamArn", "name"}`. `decided_via`: slack | cli | expiry. `now`: timezone-aware (naive = UTC).
    APPROVED/REJECTED are refused (`code="expired"`) once `expiresAtEpoch <= now`.
    Raises ValueError for bad arguments and the client's error when DynamoDB itself fails before
    anything was recorded; CodeDeploy problems never raise (see `code` / `codedeploy_result`).
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    if decided_via not in DECIDED_VIA:
        raise ValueError(f"decided_via must be one of {DECIDED_VIA}, not {decided_via!r}")
    if not isinstance(decided_by, Mapping) or not any(decided_by.get(k) for k in ("slackUserId", "iamArn", "name")):
        raise ValueError("decided_by needs slackUserId, iamArn or name")
    client = _client(dynamodb, "dynamodb")
    now = _utc(now)
    now_epoch = int(now.timestamp())
    by = {str(k): str(v) for k, v in decided_by.items() if v}

    names = {"#s": "status"}
    values: dict[str, Any] = {":pending": {"S": PENDING}, ":d": {"S": decision}, ":by": to_attr(by),
                              ":via": {"S": decided_via}, ":at": {"S": iso(now)}}
    update = "SET #s = :d, decidedBy = :by, decidedVia = :via, decidedAt = :at"
    if reason:
        update += ", reason = :r"
        values[":r"] = {"S": str(reason)[:1000]}
    condition = "attribute_exists(pk) AND #s = :pending"
    if decision != EXPIRED:
        condition += " AND expiresAtEpoch > :now"
        values[":now"] = {"N": str(now_epoch)}
    try:
        answer = client.update_item(
            TableName=table_name, Key=approval_key(deployment_id), UpdateExpression=update,
            ConditionExpression=condition, ExpressionAttributeNames=names, ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        old = from_item(getattr(exc, "response", {}).get("Item")) or \
            get_approval(table_name=table_name, deployment_id=deployment_id, dynamodb=client)
        return _refused(deployment_id, decision, old, now_epoch)

    item = from_item(answer.get("Attributes")) or {}
    cd_status = "Succeeded" if decision == APPROVED else "Failed"
    result = report_hook_status(_client(codedeploy, "codedeploy"), deployment_id,
                                str(item.get("hookExecutionId") or ""), cd_status)
    item = _record_codedeploy(client, table_name, deployment_id, item, cd_status, result)
    _put_decided_event(events, item, decision, by, decided_via, result)
    code = CODE_DECIDED if result == RESULT_OK else CODE_CODEDEPLOY_ERROR
    return DecisionOutcome(recorded=True, status=decision, code=code, codedeploy_result=result,
                           message=_decided_message(item, decision, by, decided_via, cd_status, result), item=item)


def retry_codedeploy_report(*, table_name: str, deployment_id: str, dynamodb: Any = None,
                            codedeploy: Any = None) -> DecisionOutcome | None:
    """Re-send the recorded decision to CodeDeploy when the first attempt ended in `ERROR:<code>`.

    Used by the expiry Lambda as a safety net (it fires at `expiresAt`, before CodeDeploy's 60-minute
    hook deadline). Returns None when there is nothing to retry.
    """
    client = _client(dynamodb, "dynamodb")
    item = get_approval(table_name=table_name, deployment_id=deployment_id, dynamodb=client)
    if not item or item.get("status") not in DECISIONS or not str(item.get("codeDeployResult", "")).startswith("ERROR:"):
        return None
    decision = str(item["status"])
    cd_status = "Succeeded" if decision == APPROVED else "Failed"
    result = report_hook_status(_client(codedeploy, "codedeploy"), deployment_id,
                                str(item.get("hookExecutionId") or ""), cd_status)
    item = _record_codedeploy(client, table_name, deployment_id, item, cd_status, result)
    by = item.get("decidedBy") or {}
    code = CODE_DECIDED if result == RESULT_OK else CODE_CODEDEPLOY_ERROR
    return DecisionOutcome(recorded=False, status=decision, code=code, codedeploy_result=result,
                           message="retry: " + _decided_message(item, decision, by, str(item.get("decidedVia")),
                                                                cd_status, result), item=item)


def who(decided_by: Mapping[str, Any] | None) -> str:
    """Short display name of a decider."""
    by = decided_by or {}
    return str(by.get("name") or by.get("slackUserId") or by.get("iamArn") or "someone")


# ---------------------------------------------------------------------------------------------
# internals


def _refused(deployment_id: str, decision: str, item: dict[str, Any] | None, now_epoch: int) -> DecisionOutcome:
    if not item:
        return DecisionOutcome(recorded=False, status="", code=CODE_NOT_FOUND, codedeploy_result=None,
                               message=f"No approval request exists for deployment {deployment_id}; nothing changed.")
    status = str(item.get("status", ""))
    if status != PENDING:
        return DecisionOutcome(
            recorded=False, status=status, code=CODE_ALREADY_DECIDED, codedeploy_result=item.get("codeDeployResult"),
            message=(f"Deployment {deployment_id} was already {status.lower()} by {who(item.get('decidedBy'))} "
                     f"via {item.get('decidedVia', '?')} at {item.get('decidedAt', '?')}; nothing changed."),
            item=item)
    if int(item.get("expiresAtEpoch", 0) or 0) <= now_epoch:
        return DecisionOutcome(
            recorded=False, status=status, code=CODE_EXPIRED, codedeploy_result=None,
            message=(f"The approval request for {deployment_id} expired at {item.get('expiresAt', '?')}; "
                     "nothing changed (the expiry job fails the deployment)."), item=item)
    # The condition failed but the item looks decidable: it changed between our write and read.
    return DecisionOutcome(recorded=False, status=status, code=CODE_ALREADY_DECIDED, codedeploy_result=None,
                           message=f"Deployment {deployment_id} changed concurrently; nothing changed, look again.",
                           item=item)


def _record_codedeploy(client: Any, table_name: str, deployment_id: str, item: dict[str, Any],
                       cd_status: str, result: str) -> dict[str, Any]:
    item = dict(item, codeDeployStatus=cd_status, codeDeployResult=result)
    try:
        client.update_item(TableName=table_name, Key=approval_key(deployment_id),
                           UpdateExpression="SET codeDeployStatus = :s, codeDeployResult = :r",
                           ExpressionAttributeValues={":s": {"S": cd_status}, ":r": {"S": result}})
    except Exception:  # noqa: BLE001 - the decision itself is recorded; keep going
        _log.warning("could not record the CodeDeploy result", exc_info=True,
                     extra={"fields": {"deployment_id": deployment_id, "codedeploy_result": result}})
    return item


def _decided_message(item: Mapping[str, Any], decision: str, by: Mapping[str, Any], via: str,
                     cd_status: str, result: str) -> str:
    deployment_id = item.get("deploymentId", "?")
    head = f"{_VERB[decision]} {item.get('domain', '')} deployment {deployment_id}".replace("  ", " ")
    if decision != EXPIRED:
        head += f" by {who(by)} via {via}"
    head += f" at {item.get('decidedAt', '?')}"
    if result == RESULT_OK:
        effect = "traffic will shift" if decision == APPROVED else "the deployment fails and rolls back"
        return f"{head}; CodeDeploy told {cd_status}, {effect}."
    if result == RESULT_ALREADY_COMPLETED:
        return (f"{head}, but CodeDeploy says the approval step already ended (answered elsewhere, timed out "
                "or the deployment was stopped); the decision had no effect.")
    if result == RESULT_DOES_NOT_EXIST:
        return f"{head}, but CodeDeploy says the deployment no longer exists; the decision had no effect."
    return (f"{head}, but CodeDeploy could not be told ({result}). The expiry job retries at "
            f"{item.get('expiresAt', '?')}; otherwise the deployment fails at its 60-minute hook deadline.")


def _put_decided_event(events: Any, item: Mapping[str, Any], decision: str, by: Mapping[str, Any],
                       via: str, result: str) -> None:
    domain = str(item.get("domain", ""))
    application = str(item.get("applicationName", ""))
    platform = os.environ.get("PLATFORM_NAME") or (application[: -len(domain) - 1]
                                                    if domain and application.endswith(f"-{domain}") else "")
    detail = {"platform": platform, "domain": domain, "deploymentId": item.get("deploymentId"),
              "decision": decision, "status": decision, "decidedBy": dict(by), "decidedVia": via,
              "decidedAt": item.get("decidedAt"), "reason": item.get("reason"), "codeDeployResult": result}
    try:
        _client(events, "events").put_events(Entries=[{
            "Source": EVENT_SOURCE, "DetailType": "Approval Decided", "Detail": json.dumps(detail, default=str)}])
    except Exception:  # noqa: BLE001 - the audit item is the record; the event is a notification
        _log.warning("could not put the Approval Decided event", exc_info=True,
                     extra={"fields": {"deployment_id": item.get("deploymentId")}})


def _client(client: Any, service: str) -> Any:
    if client is None:
        import boto3  # lazy: keeps cold imports of the Lambdas and bgctl fast

        return boto3.client(service)
    # A resource's meta.client re-serializes attribute values: refuse it with a clear message.
    if service == "dynamodb" and (hasattr(client, "Table") or hasattr(client, "table_name")):
        raise TypeError("pass a DynamoDB client (boto3.client('dynamodb')), not a resource or Table")
    return client
