"""Pure functions for the deployment timeline: classify events, format Slack text. No I/O.

Every function here takes plain dicts (EventBridge events, GetDeployment `deploymentInfo`,
GetDeploymentGroup `deploymentGroupInfo`, DescribeAlarms entries) and returns plain values.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from bgruntime import event_patterns
from bgruntime.deployments import parse_description_tokens

CODEDEPLOY_SOURCE = event_patterns.CODEDEPLOY_SOURCE
CODEDEPLOY_DETAIL_TYPE = event_patterns.CODEDEPLOY_STATE_CHANGE
PLATFORM_SOURCE = event_patterns.PLATFORM_SOURCE
PLATFORM_DETAIL_TYPES = event_patterns.PLATFORM_DETAIL_TYPES
TERMINAL_STATES = frozenset({"SUCCESS", "FAILURE", "STOP"})

_SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,20}$")


def rule_patterns(platform: str) -> list[dict[str, Any]]:
    """EventBridge patterns of the notifier's rules on the default bus (one rule per pattern; the construct
    builds its rules from the same `bgruntime.event_patterns` definitions)."""
    return list(event_patterns.timeline_patterns(platform))


@dataclass(frozen=True)
class TimelineEvent:
    """One event that belongs on a deployment's timeline."""

    kind: str  # state | smoke | approval_requested | approval_decided
    deployment_id: str
    domain: str | None = None
    application: str | None = None
    deployment_group: str | None = None
    state: str | None = None
    event_id: str | None = None
    time: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.kind == "state" and self.state in TERMINAL_STATES


def classify(event: Any, platform: str) -> TimelineEvent | None:
    """The timeline event carried by an EventBridge event, or None when it is not ours (not matched by the
    notifier's rule patterns, or without what a timeline line needs)."""
    if not isinstance(event, dict) or not any(event_patterns.matches(p, event) for p in rule_patterns(platform)):
        return None
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return None
    source, detail_type = event.get("source"), event.get("detail-type")
    event_id = event.get("id") if isinstance(event.get("id"), str) else None
    when = event.get("time") if isinstance(event.get("time"), str) else None
    deployment_id = detail.get("deploymentId")
    if not isinstance(deployment_id, str) or not deployment_id:
        return None
    if source == CODEDEPLOY_SOURCE and detail_type == CODEDEPLOY_DETAIL_TYPE:
        application = detail.get("application")
        domain = domain_from_application(application, platform)
        state = detail.get("state")
        if domain is None or not isinstance(state, str):
            return None
        group = detail.get("deploymentGroup") if isinstance(detail.get("deploymentGroup"), str) else None
        return TimelineEvent("state", deployment_id, domain, application, group, state.upper(), event_id, when, detail)
    if source == PLATFORM_SOURCE and detail_type in PLATFORM_DETAIL_TYPES:
        if detail.get("platform") not in (None, platform):
            return None
        domain = detail.get("domain") if isinstance(detail.get("domain"), str) else None
        kind = {"Smoke Checks Completed": "smoke", "Approval Requested": "approval_requested",
                "Approval Decided": "approval_decided"}[detail_type]
        return TimelineEvent(kind, deployment_id, domain, f"{platform}-{domain}" if domain else None, None, None,
                             event_id, when, detail)
    return None


def domain_from_application(application: Any, platform: str) -> str | None:
    prefix = f"{platform}-"
    if not isinstance(application, str) or not application.startswith(prefix):
        return None
    domain = application[len(prefix):]
    return domain if re.fullmatch(r"[a-z][a-z0-9-]{0,19}", domain) else None


def parse_description(description: Any) -> dict[str, str]:
    """`Deploy auth | requester=github:alice image=...:v2 source=bgctl` -> tokens (contracts.md)."""
    return parse_description_tokens(description)


def escape(text: Any) -> str:
    """Escape Slack mrkdwn control characters in text that came from outside."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: Any, limit: int = 120) -> str:
    value = escape(text).replace("`", "'")
    if len(value) > limit:
        value = value[: limit - 3] + "..."
    return f"`{value}`"


def mention(slack_id: Any) -> str | None:
    if isinstance(slack_id, str) and _SLACK_ID.match(slack_id):
        return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"
    return None


# --------------------------------------------------------------------------------------- parent text
_OUTCOME_PREFIX = {
    None: ":rocket:",
    "SUCCESS": ":white_check_mark:",
    "FAILURE": ":rotating_light:",
    "STOP": ":octagonal_sign:",
}
_OUTCOME_SUFFIX = {None: "", "SUCCESS": " — *succeeded*", "FAILURE": " — *failed / rolled back*",
                   "STOP": " — *stopped*"}


def parent_text(*, domain: str | None, deployment_id: str, deployment: Mapping[str, Any] | None,
                requester_slack_id: str | None = None, outcome: str | None = None) -> str:
    """The thread's parent message. `outcome` (a terminal state) is set when it is updated at the end."""
    deployment = deployment or {}
    tokens = parse_description(deployment.get("description"))
    requester = tokens.get("requester")
    who = mention(requester_slack_id)
    if who and requester:
        started_by = f"{who} ({code(requester)})"
    elif requester:
        started_by = code(requester)
    else:
        creator = deployment.get("creator")
        started_by = f"unknown ({escape(creator)})" if creator else "unknown"
    lines = [f"{_OUTCOME_PREFIX.get(outcome, ':rocket:')} *{escape(domain or 'unknown domain')}* deployment "
             f"{code(deployment_id)} started by {started_by}{_OUTCOME_SUFFIX.get(outcome, '')}"]
    facts = []
    if tokens.get("image"):
        facts.append(f"image {code(tokens['image'], 200)}")
    if deployment.get("deploymentConfigName"):
        facts.append(f"config {code(deployment['deploymentConfigName'])}")
    if tokens.get("source"):
        facts.append(f"via {escape(tokens['source'])}")
    if facts:
        lines.append(" · ".join(facts))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ replies
@dataclass(frozen=True)
class Alarm:
    name: str
    state: str | None = None  # OK | ALARM | INSUFFICIENT_DATA | None (unknown)


def event_line(event: TimelineEvent, *, deployment: Mapping[str, Any] | None = None,
               alarms: Iterable[Alarm] = (), approval_required: bool | None = None) -> str:
    """One thread reply for `event`."""
    if event.kind == "state":
        return _state_line(event.state or "", deployment or {}, list(alarms))
    detail = event.detail
    if event.kind == "smoke":
        return _smoke_line(detail, approval_required)
    if event.kind == "approval_requested":
        return _approval_requested_line(detail)
    if event.kind == "approval_decided":
        return _approval_decided_line(detail)
    return f"event {escape(event.kind)}"


def _state_line(state: str, deployment: Mapping[str, Any], alarms: list[Alarm]) -> str:
    if state == "START":
        return ":arrow_forward: deployment started — replacement (green) task set starting"
    if state == "READY":
        return ":hourglass_flowing_sand: green task set ready — waiting to reroute traffic"
    if state == "SUCCESS":
        return (":white_check_mark: succeeded — production traffic is on the new version; "
                "the old version drains during the termination wait")
    if state in ("FAILURE", "STOP"):
        return rollback_line(state, deployment, alarms)
    return f":information_source: deployment state {escape(state)}"


def rollback_line(state: str, deployment: Mapping[str, Any], alarms: Iterable[Alarm]) -> str:
    """`rolled back: alarm `x`` / `stopped: ...` from GetDeployment + the group's alarms."""
    error = deployment.get("errorInformation") or {}
    error_code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    rollback = deployment.get("rollbackInfo") or {}
    auto = deployment.get("autoRollbackConfiguration") or {}
    auto_events = set(auto.get("events") or []) if isinstance(auto, dict) and auto.get("enabled") else set()

    alarms = list(alarms)
    named = [a for a in alarms if isinstance(message, str) and a.name and a.name in message]
    firing = [a for a in alarms if a.state == "ALARM"]
    culprit_alarms = named or firing
    alarm_caused = error_code == "ALARM_ACTIVE" or bool(named) or (error_code is None and bool(firing))

    rolled_back = bool(rollback) and isinstance(rollback, dict) and any(rollback.values())
    if not rolled_back:
        if alarm_caused:
            rolled_back = "DEPLOYMENT_STOP_ON_ALARM" in auto_events
        elif state == "STOP":
            rolled_back = "DEPLOYMENT_STOP_ON_REQUEST" in auto_events
        else:
            rolled_back = "DEPLOYMENT_FAILURE" in auto_events
    verb = "rolled back" if rolled_back else ("stopped" if state == "STOP" else "failed")
    emoji = ":octagonal_sign:" if state == "STOP" and not alarm_caused else ":rotating_light:"

    if alarm_caused:
        if culprit_alarms:
            names = ", ".join(code(a.name) + (f" ({a.state})" if a.state else "") for a in culprit_alarms[:5])
            plural = "alarms" if len(culprit_alarms) > 1 else "alarm"
            cause = f"{plural} {names}"
        else:
            cause = "alarm (name not available)"
    elif error_code == "MANUAL_STOP" or (state == "STOP" and not error_code):
        cause = "stopped manually"
    elif error_code == "HOOK_EXECUTION_FAILURE" or (isinstance(message, str) and "lifecycle" in message.lower()):
        cause = "lifecycle hook failed (test checks or approval)"
    elif error_code:
        cause = escape(error_code)
    else:
        cause = "no reason reported"
    line = f"{emoji} {verb}: {cause}"
    context = message or (rollback.get("rollbackMessage") if isinstance(rollback, dict) else None)
    if context:
        line += f"\n> {_clip(escape(context), 300)}"
    return line


def _smoke_line(detail: Mapping[str, Any], approval_required: bool | None) -> str:
    status = str(detail.get("status", "")).upper()
    passed, total = detail.get("passed"), detail.get("total")
    counts = f" ({passed}/{total})" if isinstance(passed, int) and isinstance(total, int) else ""
    if status == "PASSED":
        line = f":white_check_mark: test checks passed{counts}"
        if approval_required is False:
            line += " — no approval required, traffic shifting"
        elif approval_required:
            line += " — waiting for approval"
        return line
    failed = [escape(n) for n in (detail.get("failedChecks") or []) if isinstance(n, str)][:10]
    names = f": {', '.join(failed)}" if failed else ""
    line = f":x: test checks failed{counts}{names}"
    reason = detail.get("reason")
    if not failed and isinstance(reason, str) and reason:
        line += f"\n> {_clip(escape(reason), 300)}"
    return line


def _approval_requested_line(detail: Mapping[str, Any]) -> str:
    line = ":raised_hand: approval requested"
    approvers = [m for m in (mention(a) for a in _as_list(detail.get("approverUserIds"))
                             + _as_list(detail.get("approverGroupIds"))) if m]
    if approvers:
        line += " from " + ", ".join(approvers[:10])
    expires = detail.get("expiresAt")
    if isinstance(expires, str) and expires:
        line += f" (expires {escape(_short_time(expires))})"
    if detail.get("slackPosted") is False:
        line += " — the approval message could not be posted; decide with `bgctl approve|reject`"
    return line


def _approval_decided_line(detail: Mapping[str, Any]) -> str:
    decision = str(detail.get("decision") or detail.get("status") or "").upper()
    who = decided_by(detail.get("decidedBy"))
    reason = detail.get("reason")
    suffix = f": {_clip(escape(reason), 200)}" if isinstance(reason, str) and reason else ""
    if decision in ("APPROVED", "APPROVE"):
        return f":thumbsup: approved by {who} — traffic shifting"
    if decision in ("REJECTED", "REJECT"):
        return f":no_entry: rejected by {who}{suffix} — deployment will roll back"
    if decision == "EXPIRED":
        return ":alarm_clock: approval expired unanswered — deployment will roll back"
    return f":grey_question: approval decided ({escape(decision or 'unknown')}) by {who}"


def decided_by(value: Any) -> str:
    if isinstance(value, dict):
        who = mention(value.get("slackUserId"))
        if who:
            return who
        if value.get("name"):
            return escape(value["name"])
        if value.get("iamArn"):
            return code(value["iamArn"])
    if isinstance(value, str) and value:
        return mention(value) or escape(value)
    return "unknown"


def audit_line(event: TimelineEvent, line: str) -> str:
    """The string appended to the TIMELINE item's `events` list."""
    label = event.state if event.kind == "state" else event.kind
    first = line.splitlines()[0] if line else ""
    return f"{event.time or '-'} {label} {first}"[:500]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _short_time(iso: str) -> str:
    match = re.match(r"^\d{4}-\d{2}-\d{2}T(\d{2}:\d{2})", iso)
    return f"{match.group(1)} UTC" if match and iso.endswith(("Z", "+00:00")) else iso


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
