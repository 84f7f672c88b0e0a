"""`bgctl status [DOMAIN]`: in-flight and recent deployments per domain, with requester and approver."""
from __future__ import annotations

from typing import Any

from . import description, inputs
from .backoff import Backoff
from .errors import AwsError, error_code
from .metadata import PlatformInfo, load_domain, platform_and_domains
from .progress import IN_FLIGHT_STATUSES, decided_by_label, parse_time
from .render import iso
from .table import clip, format_table, short_time, to_json
from .watch import deserialize_item

BATCH = 25


def _image_short(uri: str | None) -> str | None:
    if not uri:
        return None
    try:
        return inputs.image(uri).short
    except Exception:  # noqa: BLE001 - display only
        return uri


def _iso(value: Any) -> str | None:
    moment = parse_time(value)
    return iso(moment) if moment else None


def approvals_for(dynamodb: Any, table: str, deployment_ids: list[str], backoff: Backoff) -> dict[str, dict]:
    """APPROVAL items by deployment id (BatchGetItem, unprocessed keys retried)."""
    found: dict[str, dict] = {}
    for start in range(0, len(deployment_ids), 100):
        keys = [{"pk": {"S": f"DEPLOYMENT#{d}"}, "sk": {"S": "APPROVAL"}} for d in deployment_ids[start:start + 100]]
        request = {table: {"Keys": keys}}
        for attempt in range(6):
            answer = backoff.call(dynamodb.batch_get_item, RequestItems=request)
            for raw in answer.get("Responses", {}).get(table, []):
                item = deserialize_item(raw)
                found[str(item.get("deploymentId") or str(item["pk"]).split("#", 1)[-1])] = item
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            backoff.pause(attempt)
    return found


def deployments_for(codedeploy: Any, application: str, group: str, limit: int, backoff: Backoff) -> list[dict]:
    in_flight = backoff.call(codedeploy.list_deployments, applicationName=application, deploymentGroupName=group,
                             includeOnlyStatuses=list(IN_FLIGHT_STATUSES)).get("deployments") or []
    recent = backoff.call(codedeploy.list_deployments, applicationName=application,
                          deploymentGroupName=group).get("deployments") or []
    ids = list(dict.fromkeys(list(in_flight) + list(recent)[: max(2 * limit, BATCH)]))
    infos: list[dict] = []
    for start in range(0, len(ids), BATCH):
        answer = backoff.call(codedeploy.batch_get_deployments, deploymentIds=ids[start:start + BATCH])
        infos.extend(answer.get("deploymentsInfo") or [])
    infos.sort(key=lambda d: _iso(d.get("createTime")) or "", reverse=True)
    keep = [d for d in infos if d.get("status") in IN_FLIGHT_STATUSES]
    keep += [d for d in infos if d.get("status") not in IN_FLIGHT_STATUSES][: max(0, limit - len(keep))]
    return keep


def collect(ctx: Any, clients: Any, platform: PlatformInfo, domains: list[str],
            limit: int) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows, domains that were read); a domain without metadata is skipped with a warning."""
    backoff = Backoff(sleep=ctx.sleep)
    codedeploy = clients.client("codedeploy")
    rows: list[dict[str, Any]] = []
    shown: list[str] = []
    for domain in domains:
        try:
            metadata = load_domain(clients.client("ssm"), ctx.platform, domain, clients.region)
        except AwsError as missing:
            if len(domains) == 1:
                raise
            ctx.warn(f"{domain} skipped: {missing.message}")
            continue
        shown.append(domain)
        for info in deployments_for(codedeploy, metadata.application, metadata.deployment_group, limit, backoff):
            tokens = description.tokens(info.get("description"))
            failure = info.get("errorInformation") or {}
            rows.append({
                "domain": domain,
                "deploymentId": info.get("deploymentId"),
                "status": info.get("status"),
                "inFlight": info.get("status") in IN_FLIGHT_STATUSES,
                "requester": tokens.get("requester"),
                "image": tokens.get("image"),
                "source": tokens.get("source") or info.get("creator"),
                "createdAt": _iso(info.get("createTime")),
                "completedAt": _iso(info.get("completeTime")),
                "error": ": ".join(str(x) for x in (failure.get("code"), failure.get("message")) if x) or None,
                "rollbackDeploymentId": (info.get("rollbackInfo") or {}).get("rollbackDeploymentId"),
                "approval": None,
            })
    ids = [str(r["deploymentId"]) for r in rows]
    if ids and platform.audit_table:
        try:
            approvals = approvals_for(clients.client("dynamodb"), platform.audit_table, ids, backoff)
        except Exception as exc:
            if error_code(exc) not in ("AccessDenied", "AccessDeniedException", "ResourceNotFoundException"):
                raise
            ctx.warn(f"approvals not shown: audit table {platform.audit_table} not readable ({error_code(exc)})")
            approvals = {}
        for row in rows:
            item = approvals.get(str(row["deploymentId"]))
            if item:
                row["approval"] = {"status": item.get("status"), "decidedBy": decided_by_label(item.get("decidedBy")),
                                   "decidedVia": item.get("decidedVia"), "decidedAt": item.get("decidedAt"),
                                   "reason": item.get("reason")}
    return rows, shown


def render_table(rows: list[dict[str, Any]], domains: list[str]) -> str:
    table_rows = []
    for row in rows:
        approval = row["approval"] or {}
        approval_text = approval.get("status")
        if approval_text and approval.get("decidedBy"):
            approval_text += f" by {approval['decidedBy']}"
        table_rows.append([
            row["domain"], row["deploymentId"], ("* " if row["inFlight"] else "") + str(row["status"]),
            row["requester"], _image_short(row["image"]), clip(approval_text, 48),
            short_time(row["createdAt"]), short_time(row["completedAt"]),
        ])
    quiet = [d for d in domains if not any(r["domain"] == d for r in rows)]
    for domain in quiet:
        table_rows.append([domain, "(no deployments)", None, None, None, None, None, None])
    text = format_table(["DOMAIN", "DEPLOYMENT", "STATUS", "REQUESTER", "IMAGE", "APPROVAL", "CREATED (UTC)",
                         "ENDED (UTC)"], table_rows)
    if any(r["inFlight"] for r in rows):
        text += "\n* in flight: follow with `bgctl watch <deployment>`"
    return text


def run(ctx: Any, args: Any) -> int:
    if args.domain:
        inputs.domain(args.domain)
    if args.limit < 1:
        from .errors import UsageError

        raise UsageError("--limit must be at least 1")
    clients = ctx.clients()
    platform, domains = platform_and_domains(clients, ctx.platform, args.domain)
    rows, shown = collect(ctx, clients, platform, domains, args.limit)
    if args.json:
        ctx.out(to_json(rows))
    else:
        ctx.out(render_table(rows, shown))
    return 0
