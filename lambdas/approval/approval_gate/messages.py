"""Block Kit for the approval gate. Pure functions: data in, (fallback text, blocks) out."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

ACTION_APPROVE = "approve"
ACTION_REJECT = "reject"
ACTIONS_BLOCK_ID = "approval_actions"
_MAX_LIST = 10
_DECISION_ICON = {"APPROVED": ":white_check_mark:", "REJECTED": ":no_entry:", "EXPIRED": ":hourglass:"}


def escape(text: Any, limit: int = 300) -> str:
    """Escape Slack mrkdwn control characters (&, <, >) and cap the length."""
    value = str(text if text is not None else "")
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_date(moment: datetime | None, fmt: str = "{date_short_pretty} {time}") -> str:
    """`<!date^epoch^fmt|fallback>`: shown in each reader's own time zone."""
    if moment is None:
        return "unknown"
    utc = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return f"<!date^{int(utc.timestamp())}^{fmt}|{utc.strftime('%Y-%m-%d %H:%M UTC')}>"


def image_tag(image: str | None) -> str:
    """`repo/auth:v2` -> `v2`; `repo/auth@sha256:abcd...` -> `sha256:abcd1234…`; None -> `unknown`."""
    if not image:
        return "unknown"
    if "@" in image:
        digest = image.rsplit("@", 1)[1]
        return digest[:19] + ("…" if len(digest) > 19 else "")
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"


def user_ref(slack_id: str | None, fallback: str | None) -> str:
    return f"<@{slack_id}>" if slack_id else escape(fallback or "unknown", 120)


@dataclass(frozen=True)
class RequestView:
    """Everything the approval request message shows."""

    domain: str
    deployment_id: str
    image: str | None
    requester: str
    requester_slack_id: str | None
    started_at: datetime | None
    console_url: str
    test_endpoint: str | None
    expires_at: datetime
    expiry_minutes: int
    smoke: Mapping[str, Any] | None = None
    in_flight: Sequence[Mapping[str, str]] = ()
    approver_user_ids: Sequence[str] = ()
    approver_group_ids: Sequence[str] = ()
    warnings: Sequence[str] = field(default_factory=tuple)
    required_approvals: int = 1
    blocked: bool = False


def request_message(view: RequestView) -> tuple[str, list[dict[str, Any]]]:
    tag = image_tag(view.image)
    text = f"Approval needed: {view.domain} {tag} (deployment {view.deployment_id})"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Approval needed: {view.domain} → {tag}"[:150]}},
        _info_section(view.domain, view.image, view.requester, view.requester_slack_id, view.started_at,
                      view.deployment_id, view.console_url, view.test_endpoint),
        {"type": "section", "text": {"type": "mrkdwn", "text": _smoke_text(view.smoke)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _in_flight_text(view.in_flight)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f":hourglass_flowing_sand: Expires {slack_date(view.expires_at)} (in {view.expiry_minutes} min); "
            f"unanswered means *Failed* and rollback. Approvers: {_approvers_text(view)}. "
            f"{requirement_text(view.required_approvals, view.blocked, [])}")[:3000]}]},
    ]
    for warning in list(view.warnings)[:3]:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f":warning: {escape(warning, 500)}"}]})
    blocks.append(_buttons(view.deployment_id, view.domain, tag))
    return text, blocks


def requirement_text(required: int, blocked: bool, approvals: Sequence[Mapping[str, Any]]) -> str:
    """Who has approved so far and what is still needed (shown on the request and after each vote)."""
    if blocked:
        return ":no_entry_sign: Cannot be approved: unverified requester and the domain blocks it (reject or let it expire)."
    names = ", ".join(user_ref(a.get("slackUserId"), a.get("name") or a.get("iamArn")) for a in approvals)
    have = len(approvals)
    done = f"Approved so far by {names}. " if names else ""
    if have >= required:
        return done + "No further approval needed."
    more = required - have
    return (f"{done}Needs {required} distinct approver{'s' if required > 1 else ''} (not the requester); "
            f"{more} more to go.")


def progress_message(item: Mapping[str, Any], *, console_url: str) -> tuple[str, list[dict[str, Any]]]:
    """The request message after a vote that did not decide yet: buttons kept, progress shown."""
    domain = str(item.get("domain", "?"))
    deployment_id = str(item.get("deploymentId", "?"))
    tag = image_tag(item.get("image"))
    progress = requirement_text(int(item.get("requiredApprovals") or 1), bool(item.get("blocked")),
                                list(item.get("approvals") or []))
    text = f"Approval needed: {domain} {tag} (deployment {deployment_id}): {progress}"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Approval needed: {domain} → {tag}"[:150]}},
        _info_section(domain, item.get("image"), str(item.get("requester", "unknown")), item.get("requesterSlackId"),
                      _parse(item.get("requestedAt")), deployment_id, console_url, None),
        {"type": "section", "text": {"type": "mrkdwn", "text": f":busts_in_silhouette: {progress}"[:3000]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f":hourglass_flowing_sand: Expires {slack_date(_parse(item.get('expiresAt')))}; unanswered means *Failed* "
            "and rollback.")}]},
        _buttons(deployment_id, domain, tag),
    ]
    return text, blocks


def _buttons(deployment_id: str, domain: str, tag: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": ACTIONS_BLOCK_ID,
        "elements": [
            {"type": "button", "action_id": ACTION_APPROVE, "style": "primary", "value": deployment_id,
             "text": {"type": "plain_text", "text": "Approve"},
             "confirm": {"title": {"type": "plain_text", "text": "Shift production traffic?"},
                         "text": {"type": "mrkdwn", "text": f"Release *{escape(domain)}* `{escape(tag, 60)}` "
                                                            "to production traffic."},
                         "confirm": {"type": "plain_text", "text": "Approve"},
                         "deny": {"type": "plain_text", "text": "Cancel"}}},
            {"type": "button", "action_id": ACTION_REJECT, "style": "danger", "value": deployment_id,
             "text": {"type": "plain_text", "text": "Reject"}},
        ],
    }


def decided_message(item: Mapping[str, Any], *, console_url: str) -> tuple[str, list[dict[str, Any]]]:
    """The request message after a decision (buttons removed, who/when/how shown)."""
    status = str(item.get("status", "PENDING"))
    domain = str(item.get("domain", "?"))
    deployment_id = str(item.get("deploymentId", "?"))
    tag = image_tag(item.get("image"))
    decided_at = _parse(item.get("decidedAt"))
    by = item.get("decidedBy") or {}
    if status == "EXPIRED":
        line = f"{_DECISION_ICON[status]} *Expired* {slack_date(decided_at)}: nobody decided in time."
    else:
        actor = user_ref(by.get("slackUserId"), by.get("name") or by.get("iamArn"))
        line = (f"{_DECISION_ICON.get(status, '')} *{status.capitalize()}* by {actor} "
                f"{slack_date(decided_at)} via {escape(item.get('decidedVia', '?'), 20)}")
    if item.get("rule"):
        line += f" (rule `{escape(item['rule'], 60)}`)"
    approvers = [a for a in item.get("approvals") or [] if isinstance(a, Mapping)]
    if len(approvers) > 1:
        line += "\nApprovers: " + ", ".join(user_ref(a.get("slackUserId"), a.get("name") or a.get("iamArn"))
                                           for a in approvers)
    if item.get("reason"):
        line += f"\n>{escape(item['reason'], 500)}"
    cd = _codedeploy_text(status, item.get("codeDeployStatus"), item.get("codeDeployResult"))
    text = f"{domain} {tag} ({deployment_id}): {status.lower()}"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{status.capitalize()}: {domain} → {tag}"[:150]}},
        _info_section(domain, item.get("image"), str(item.get("requester", "unknown")), item.get("requesterSlackId"),
                      _parse(item.get("requestedAt")), deployment_id, console_url, None),
        {"type": "section", "text": {"type": "mrkdwn", "text": line[:3000]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": cd}]},
    ]
    return text, blocks


def ephemeral(text: str) -> dict[str, Any]:
    """The body of a refusal/confirmation answered to one clicker only."""
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def _info_section(domain: str, image: str | None, requester: str, requester_slack_id: str | None,
                  started_at: datetime | None, deployment_id: str, console_url: str,
                  test_endpoint: str | None) -> dict[str, Any]:
    fields = [
        f"*Domain*\n{escape(domain, 40)}",
        f"*Image*\n`{escape(image or 'unknown', 400)}`",
        f"*Requested by*\n{user_ref(requester_slack_id, requester)}"
        + (f" ({escape(requester, 120)})" if requester_slack_id else ""),
        f"*Started*\n{slack_date(started_at)}",
        f"*Deployment*\n<{console_url}|{escape(deployment_id, 40)}>",
    ]
    if test_endpoint:
        fields.append(f"*Test endpoint*\n`{escape(test_endpoint, 300)}`")
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f[:2000]} for f in fields]}


def _smoke_text(smoke: Mapping[str, Any] | None) -> str:
    if not smoke:
        return ":grey_question: *Smoke checks:* no results recorded for this deployment."
    checks = [c for c in (smoke.get("checks") or []) if isinstance(c, Mapping)]
    passed = sum(1 for c in checks if c.get("passed"))
    ok = str(smoke.get("status")) == "PASSED"
    lines = [f"{':large_green_circle:' if ok else ':red_circle:'} *Smoke checks {escape(smoke.get('status', '?'), 20)}* "
             f"({passed}/{len(checks)} passed)"]
    for check in checks[:_MAX_LIST]:
        icon = ":heavy_check_mark:" if check.get("passed") else ":x:"
        detail = f" {escape(check.get('detail'), 120)}" if check.get("detail") and not check.get("passed") else ""
        latency = f" {check.get('latencyMs')} ms" if check.get("latencyMs") is not None else ""
        lines.append(f"{icon} {escape(check.get('name', '?'), 80)}: {escape(check.get('status', ''), 20)}{latency}{detail}")
    if len(checks) > _MAX_LIST:
        lines.append(f"… and {len(checks) - _MAX_LIST} more")
    return "\n".join(lines)[:3000]


def _in_flight_text(in_flight: Sequence[Mapping[str, str]] | None) -> str:
    if in_flight is None:
        return "*Other deployments in flight:* unknown (could not list them)"
    if not in_flight:
        return "*Other deployments in flight:* none"
    parts = [f"{escape(d.get('domain'), 40)} `{escape(d.get('deploymentId'), 40)}` ({escape(d.get('status'), 20)})"
             for d in list(in_flight)[:_MAX_LIST]]
    more = f" and {len(in_flight) - _MAX_LIST} more" if len(in_flight) > _MAX_LIST else ""
    return (":construction: *Other deployments in flight:* " + ", ".join(parts) + more)[:3000]


def _approvers_text(view: RequestView) -> str:
    names = [f"<@{u}>" for u in view.approver_user_ids] + [f"<!subteam^{g}>" for g in view.approver_group_ids]
    return ", ".join(names) if names else "nobody configured (use `bgctl approve`)"


def _codedeploy_text(status: str, cd_status: Any, result: Any) -> str:
    if not cd_status:
        return "CodeDeploy: not told yet"
    if result == "OK":
        effect = "traffic shifts now" if status == "APPROVED" else "the deployment fails and rolls back"
        return f"CodeDeploy told *{cd_status}*: {effect}."
    if result == "LifecycleEventAlreadyCompleted":
        return f"CodeDeploy: the approval step had already ended ({cd_status} not applied)."
    if result == "DeploymentDoesNotExist":
        return "CodeDeploy: the deployment no longer exists (decision had no effect)."
    return f":warning: CodeDeploy could not be told ({escape(result, 80)}); it is retried until it answers."


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
