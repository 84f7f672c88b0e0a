"""`bgctl status [DOMAIN]`: in-flight and recent deployments of every domain, with requester, approver and
kind (rollback deployments are marked); domains without deployments or without metadata are listed too."""
from __future__ import annotations

from typing import Any

from . import appspec, description, inputs
from .errors import AwsError, error_code
from .metadata import PlatformInfo, load_domain, platform_and_domains
from .progress import IN_FLIGHT_STATUSES, decided_by_label, deployment_kind, parse_time
from .render import iso
from .table import clip, format_table, short_time
from .watch import deserialize_item

BATCH = 25


def _image_short(uri: str | None) -> str | None:
    if not uri:
        return None
    try:
        return inputs.image(uri).short
    except Exception:  # noqa: BLE001 - display only
        return uri


def _who(requester: str | None) -> str | None:
    """`arn:aws:sts::1:assumed-role/Ops/carol` -> `assumed-role/Ops/carol` (the table is for humans)."""
    return decided_by_label({"iamArn": requester}) if requester and requester.startswith("arn:") else requester


def _revision(task_definition: str | None) -> str | None:
    return task_definition.rsplit("/", 1)[-1] if task_definition else None


def _iso(value: Any) -> str | None:
    moment = parse_time(value)
    return iso(moment) if moment else None


def audit_items_for(dynamodb: Any, table: str, deployment_ids: list[str], sleep: Any,
                    sort_keys: tuple[str, ...] = ("APPROVAL", "REGISTERED", "DECISION")) -> dict[tuple[str, str], dict]:
    """APPROVAL, REGISTERED and DECISION records by (deployment id, sk) (BatchGetItem; unprocessed keys asked
    again). Records are append-only: the request stays PENDING and the outcome is its DECISION record."""
    found: dict[tuple[str, str], dict] = {}
    keys = [{"pk": {"S": f"DEPLOYMENT#{d}"}, "sk": {"S": sk}} for d in deployment_ids for sk in sort_keys]
    for start in range(0, len(keys), 100):
        request = {table: {"Keys": keys[start:start + 100]}}
        for attempt in range(6):
            answer = dynamodb.batch_get_item(RequestItems=request)
            for raw in answer.get("Responses", {}).get(table, []):
                item = deserialize_item(raw)
                found[(str(item["pk"]).split("#", 1)[-1], str(item.get("sk")))] = item
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            sleep(min(8.0, 0.5 * 2 ** attempt))
    return found


def deployments_for(codedeploy: Any, application: str, group: str, limit: int) -> list[dict]:
    in_flight = codedeploy.list_deployments(applicationName=application, deploymentGroupName=group,
                                            includeOnlyStatuses=list(IN_FLIGHT_STATUSES)).get("deployments") or []
    recent = codedeploy.list_deployments(applicationName=application,
                                         deploymentGroupName=group).get("deployments") or []
    ids = list(dict.fromkeys(list(in_flight) + list(recent)[: max(2 * limit, BATCH)]))
    infos: list[dict] = []
    for start in range(0, len(ids), BATCH):
        answer = codedeploy.batch_get_deployments(deploymentIds=ids[start:start + BATCH])
        infos.extend(answer.get("deploymentsInfo") or [])
    infos.sort(key=lambda d: _iso(d.get("createTime")) or "", reverse=True)
    keep = [d for d in infos if d.get("status") in IN_FLIGHT_STATUSES]
    keep += [d for d in infos if d.get("status") not in IN_FLIGHT_STATUSES][: max(0, limit - len(keep))]
    return keep


def collect(ctx: Any, clients: Any, platform: PlatformInfo, domains: list[str],
            limit: int) -> tuple[list[dict[str, Any]], list[str], dict[str, str]]:
    """(rows, domains that were read, {domain: why it could not be read}); a domain without metadata is noted."""
    codedeploy = clients.client("codedeploy")
    rows: list[dict[str, Any]] = []
    shown: list[str] = []
    unreadable: dict[str, str] = {}
    for domain in domains:
        try:
            metadata = load_domain(clients.client("ssm"), ctx.platform, domain, clients.region)
        except AwsError as missing:
            if len(domains) == 1:
                raise
            ctx.warn(f"{domain} skipped: {missing.message}")
            unreadable[domain] = missing.message
            continue
        shown.append(domain)
        for info in deployments_for(codedeploy, metadata.application, metadata.deployment_group, limit):
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
                "kind": deployment_kind(info),
                "taskDefinition": appspec.task_definition_of(info.get("revision")),
                "approval": None,
                "_info": info,
            })
    ids = [str(r["deploymentId"]) for r in rows]
    audit: dict[tuple[str, str], dict] = {}
    if ids and platform.audit_table:
        try:
            audit = audit_items_for(clients.client("dynamodb"), platform.audit_table, ids, ctx.sleep)
        except Exception as exc:
            if error_code(exc) not in ("AccessDenied", "AccessDeniedException", "ResourceNotFoundException"):
                raise
            ctx.warn(f"approvals not shown: audit table {platform.audit_table} not readable ({error_code(exc)})")
    for row in rows:
        info = row.pop("_info")
        registration = audit.get((str(row["deploymentId"]), "REGISTERED"))
        if registration:
            row["kind"] = deployment_kind(info, registration)
            verified = registration.get("requester") or {}
            if isinstance(verified, dict) and (verified.get("githubActor") or verified.get("principalArn")):
                row["requester"] = (f"github:{verified['githubActor']}" if verified.get("githubActor")
                                    else str(verified["principalArn"]))
        item = audit.get((str(row["deploymentId"]), "APPROVAL"))
        decision = audit.get((str(row["deploymentId"]), "DECISION")) or item
        if item:
            row["approval"] = {"status": decision.get("status"),
                               "decidedBy": decided_by_label(decision.get("decidedBy")),
                               "decidedVia": decision.get("decidedVia"), "decidedAt": decision.get("decidedAt"),
                               "reason": decision.get("reason")}
    return rows, shown, unreadable


def by_domain(rows: list[dict[str, Any]], domains: list[str], unreadable: dict[str, str]) -> list[dict[str, Any]]:
    """The --json `data`: every domain of the request, in platform order, with its deployments (maybe none)."""
    return [{"domain": domain, "readable": domain not in unreadable, "note": unreadable.get(domain),
             "deployments": [r for r in rows if r["domain"] == domain]} for domain in domains]


def render_table(rows: list[dict[str, Any]], domains: list[str], unreadable: dict[str, str] | None = None) -> str:
    table_rows = []
    for row in rows:
        approval = row["approval"] or {}
        approval_text = approval.get("status")
        if approval_text and approval.get("decidedBy"):
            approval_text += f" by {approval['decidedBy']}"
        table_rows.append([
            row["domain"], row["deploymentId"] + (" (rollback)" if row["kind"] == "rollback" else ""),
            ("* " if row["inFlight"] else "") + str(row["status"]),
            _who(row["requester"]), _image_short(row["image"]) or _revision(row.get("taskDefinition")),
            clip(approval_text, 48),
            short_time(row["createdAt"]), short_time(row["completedAt"]),
        ])
    quiet = [d for d in domains if not any(r["domain"] == d for r in rows)]
    for domain in quiet:
        label = "(stack not deployed)" if domain in (unreadable or {}) else "(no deployments)"
        table_rows.append([domain, label, None, None, None, None, None, None])
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
    rows, _shown, unreadable = collect(ctx, clients, platform, domains, args.limit)
    ctx.record.data = {"domains": by_domain(rows, domains, unreadable)}
    if not ctx.json:
        ctx.out(render_table(rows, domains, unreadable))
    return 0
