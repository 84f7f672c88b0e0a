"""`bgctl approvals [DOMAIN]`: approval requests, newest first (GSI `byDomain`), with their derived outcome.
`bgctl approvals --history DEPLOYMENT_ID`: every record of one deployment (registration, request, message,
votes, refused attempts, decision, CodeDeploy answers), oldest first: the full story."""
from __future__ import annotations

from typing import Any

from . import inputs
from .backoff import Backoff
from .errors import UsageError
from .metadata import load_platform, platform_and_domains
from .progress import decided_by_label
from .table import clip, format_table, short_time, to_json
from .watch import deserialize_item

INDEX = "byDomain"
JSON_FIELDS = ("deploymentId", "domain", "status", "requester", "image", "requestedAt", "expiresAt", "decidedBy",
               "decidedVia", "decidedAt", "reason", "codeDeployStatus", "codeDeployResult", "applicationName",
               "deploymentGroupName", "slackChannel", "requiredApprovals", "approvals", "rule")


def query_domain(dynamodb: Any, table: str, domain: str, limit: int, backoff: Backoff) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    start_key = None
    while len(items) < limit:
        request: dict[str, Any] = {
            "TableName": table, "IndexName": INDEX, "KeyConditionExpression": "#d = :d",
            "ExpressionAttributeNames": {"#d": "domain"}, "ExpressionAttributeValues": {":d": {"S": domain}},
            "ScanIndexForward": False, "Limit": limit - len(items),
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        answer = backoff.call(dynamodb.query, **request)
        items.extend(deserialize_item(i) for i in answer.get("Items", []))
        start_key = answer.get("LastEvaluatedKey")
        if not start_key:
            break
    return [i for i in items if i.get("sk") == "APPROVAL"][:limit]


def deployment_records(dynamodb: Any, table: str, deployment_id: str, backoff: Backoff) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "KeyConditionExpression": "pk = :pk", "ConsistentRead": True,
                               "ExpressionAttributeValues": {":pk": {"S": f"DEPLOYMENT#{deployment_id}"}}}
    while True:
        answer = backoff.call(dynamodb.query, **request)
        records.extend(deserialize_item(i) for i in answer.get("Items", []))
        if not answer.get("LastEvaluatedKey"):
            return records
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def derived(dynamodb: Any, table: str, item: dict[str, Any], backoff: Backoff) -> dict[str, Any]:
    """The request's outcome from its records (the request item itself is never updated)."""
    from bgruntime.approvals import ApprovalState

    deployment_id = str(item.get("deploymentId", ""))
    records = deployment_records(dynamodb, table, deployment_id, backoff) if deployment_id else [item]
    return ApprovalState.from_records(deployment_id, records or [item]).view()


def trail(ctx: Any, clients: Any, table: str, domains: list[str], limit: int) -> list[dict[str, Any]]:
    backoff = Backoff(sleep=ctx.sleep)
    dynamodb = clients.client("dynamodb")
    items: list[dict[str, Any]] = []
    for domain in domains:
        items.extend(query_domain(dynamodb, table, domain, limit, backoff))
    items.sort(key=lambda i: (str(i.get("requestedAt", "")), str(i.get("deploymentId", ""))), reverse=True)
    views = [derived(dynamodb, table, item, backoff) for item in items[:limit]]
    return [{key: view[key] for key in JSON_FIELDS if view.get(key) not in (None, [])} for view in views]


def render_table(items: list[dict[str, Any]]) -> str:
    if not items:
        return "no approval requests recorded"
    rows = [[short_time(i.get("requestedAt")), i.get("domain"), i.get("deploymentId"), i.get("status"),
             i.get("requester"), clip(decided_by_label(i.get("decidedBy")), 40), i.get("decidedVia"),
             short_time(i.get("decidedAt")), clip(i.get("reason"), 40)] for i in items]
    return format_table(["REQUESTED (UTC)", "DOMAIN", "DEPLOYMENT", "STATUS", "REQUESTER", "DECIDED BY", "VIA",
                         "DECIDED (UTC)", "REASON"], rows)


def history_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per record, oldest first: when, what, who, via, detail."""
    rows = []
    for record in sorted(records, key=lambda r: (str(r.get("recordedAt") or r.get("requestedAt") or ""),
                                                 str(r.get("sk")))):
        sk = str(record.get("sk", ""))
        kind = sk.split("#", 1)[0]
        who, via, detail = "", record.get("via") or record.get("decidedVia") or "", ""
        if kind == "REGISTERED":
            requester = record.get("requester") or {}
            who = requester.get("githubActor") and f"github:{requester['githubActor']}" or requester.get("principalArn")
            via, detail = record.get("source", ""), f"{record.get('kind')} {record.get('taskDefinitionArn', '')} " \
                                                    f"verified by {'+'.join(requester.get('verifiedBy') or [])}"
        elif kind == "APPROVAL":
            who = record.get("requester")
            detail = (f"requested; needs {record.get('requiredApprovals', 1)} approver(s); expires "
                      f"{record.get('expiresAt')}" + (f"; {record.get('requirement')}" if record.get("requirement") else ""))
        elif kind == "MESSAGE":
            detail = f"Slack message {record.get('channel')} {record.get('ts')}"
        elif kind == "VOTE":
            who, detail = decided_by_label(record.get("by")), f"approval {sk.split('#', 1)[1]}"
        elif kind == "VOTER":
            continue
        elif kind == "EVENT":
            who = decided_by_label(record.get("actor"))
            detail = f"refused {str(record.get('action', '')).lower()}: {record.get('code')}"
        elif kind == "DECISION":
            who = decided_by_label(record.get("decidedBy"))
            detail = f"{record.get('status')}" + (f" by rule {record['rule']}" if record.get("rule") else "") + \
                (f": {record['reason']}" if record.get("reason") else "")
        elif kind == "CODEDEPLOY":
            who, detail = record.get("deliveredBy", ""), f"CodeDeploy told {record.get('status')}: {record.get('result')}"
        rows.append({"at": record.get("recordedAt") or record.get("requestedAt"), "record": kind, "who": who or "",
                     "via": via, "detail": detail, "sk": sk})
    return rows


def run(ctx: Any, args: Any) -> int:
    if getattr(args, "history", None):
        return _history(ctx, args)
    if args.domain:
        inputs.domain(args.domain)
    if not 1 <= args.limit <= 1000:
        raise UsageError("--limit must be between 1 and 1000")
    clients = ctx.clients()
    platform, domains = platform_and_domains(clients, ctx.platform, args.domain)
    items = trail(ctx, clients, platform.audit_table, domains, args.limit)
    ctx.out(to_json(items) if args.json else render_table(items))
    return 0


def _history(ctx: Any, args: Any) -> int:
    deployment_id = inputs.deployment_id(args.history)
    clients = ctx.clients()
    platform = load_platform(clients.client("ssm"), ctx.platform, clients.region)
    records = deployment_records(clients.client("dynamodb"), platform.audit_table, deployment_id,
                                 Backoff(sleep=ctx.sleep))
    if not records:
        raise UsageError(f"nothing is recorded for deployment {deployment_id}")
    if args.json:
        ctx.out(to_json(sorted(records, key=lambda r: (str(r.get("recordedAt", "")), str(r.get("sk"))))))
        return 0
    rows = history_rows(records)
    ctx.out(format_table(["AT (UTC)", "RECORD", "WHO", "VIA", "DETAIL"],
                         [[r["at"], r["record"], clip(r["who"], 60), r["via"], clip(r["detail"], 100)] for r in rows]))
    return 0
