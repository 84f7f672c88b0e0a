"""`bgctl approvals [DOMAIN]`: the approval audit trail, newest first (GSI `byDomain`)."""
from __future__ import annotations

from typing import Any

from . import inputs
from .backoff import Backoff
from .errors import UsageError
from .metadata import platform_and_domains
from .progress import decided_by_label
from .table import clip, format_table, short_time, to_json
from .watch import deserialize_item

INDEX = "byDomain"
JSON_FIELDS = ("deploymentId", "domain", "status", "requester", "image", "requestedAt", "expiresAt", "decidedBy",
               "decidedVia", "decidedAt", "reason", "codeDeployStatus", "codeDeployResult", "applicationName",
               "deploymentGroupName", "slackChannel")


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


def trail(ctx: Any, clients: Any, table: str, domains: list[str], limit: int) -> list[dict[str, Any]]:
    backoff = Backoff(sleep=ctx.sleep)
    dynamodb = clients.client("dynamodb")
    items: list[dict[str, Any]] = []
    for domain in domains:
        items.extend(query_domain(dynamodb, table, domain, limit, backoff))
    items.sort(key=lambda i: (str(i.get("requestedAt", "")), str(i.get("deploymentId", ""))), reverse=True)
    return [{key: item[key] for key in JSON_FIELDS if key in item} for item in items[:limit]]


def render_table(items: list[dict[str, Any]]) -> str:
    if not items:
        return "no approval requests recorded"
    rows = [[short_time(i.get("requestedAt")), i.get("domain"), i.get("deploymentId"), i.get("status"),
             i.get("requester"), clip(decided_by_label(i.get("decidedBy")), 40), i.get("decidedVia"),
             short_time(i.get("decidedAt")), clip(i.get("reason"), 40)] for i in items]
    return format_table(["REQUESTED (UTC)", "DOMAIN", "DEPLOYMENT", "STATUS", "REQUESTER", "DECIDED BY", "VIA",
                         "DECIDED (UTC)", "REASON"], rows)


def run(ctx: Any, args: Any) -> int:
    if args.domain:
        inputs.domain(args.domain)
    if not 1 <= args.limit <= 1000:
        raise UsageError("--limit must be between 1 and 1000")
    clients = ctx.clients()
    platform, domains = platform_and_domains(clients, ctx.platform, args.domain)
    items = trail(ctx, clients, platform.audit_table, domains, args.limit)
    ctx.out(to_json(items) if args.json else render_table(items))
    return 0
