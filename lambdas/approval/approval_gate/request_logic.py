"""BeforeAllowTraffic hook: claim the request, post the Slack message, schedule the expiry, return.

Failure policy (fail closed, but keep the human path open):
- before the request is claimed (bad event, GetDeployment/SSM/DynamoDB failure, missing or invalid
  approval config): report **Failed** to CodeDeploy at once; the deployment rolls back.
- `approval.required` is false: report **Succeeded** at once (no record, no message).
- the request record (`APPROVAL`) is written with a conditional put *before* anything is posted:
  however many deliveries of the hook event overlap, exactly one wins the claim and posts one
  message; the others return without posting.
- after the claim, Slack down/refusing: keep the request and the expiry schedule, log an error and put
  the `Approval Requested` event with `slackPosted: false`. `bgctl approve|reject` still works.
- the rollback rule (docs/approvals.md) records an automatic APPROVED decision instead of a message.
"""
from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from approval_gate import messages
from approval_gate.requester import (
    ROLLBACK_RULE, Requester, requirement, resolve_requester, rollback_rule_applies, stack_updater_from_cloudtrail,
)
from approval_gate.runtime import Runtime
from bgruntime import approvals, event_patterns
from bgruntime.approval_limits import (
    DEFAULT_APPROVAL_EXPIRY_MINUTES, EXPIRY_RETRY_ATTEMPTS, EXPIRY_RETRY_WINDOW_SECONDS, MAX_APPROVAL_EXPIRY_MINUTES,
)
from bgruntime.deployments import (
    console_url, error_code, in_flight_deployments, load_deployment, ran_in_production, report_hook_status,
)
from bgruntime.log import get_logger
from bgruntime.slack import SlackError

DEFAULT_EXPIRY_MINUTES = DEFAULT_APPROVAL_EXPIRY_MINUTES
MAX_EXPIRY_MINUTES = MAX_APPROVAL_EXPIRY_MINUTES
_log = get_logger("approval.request")


class HookFailure(Exception):
    """A problem that makes the hook report Failed at once."""


def expiry_minutes(approval: Mapping[str, Any]) -> int:
    """`approval.expiryMinutes` clamped to 1..MAX_APPROVAL_EXPIRY_MINUTES (default 45)."""
    value = approval.get("expiryMinutes", DEFAULT_EXPIRY_MINUTES)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        value = DEFAULT_EXPIRY_MINUTES
    return int(min(max(int(value), 1), MAX_EXPIRY_MINUTES))


def schedule_name(platform: str, deployment_id: str) -> str:
    """Unique, valid EventBridge Scheduler name (<= 64 chars of [0-9A-Za-z-_.])."""
    name = re.sub(r"[^0-9A-Za-z_.-]", "-", f"{platform}-approval-expiry-{deployment_id}")
    return name[-64:]


def at_expression(moment: datetime) -> str:
    """`at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the next whole second."""
    utc = moment.astimezone(timezone.utc)
    if utc.microsecond:
        utc = utc.replace(microsecond=0) + timedelta(seconds=1)
    return f"at({utc.strftime('%Y-%m-%dT%H:%M:%S')})"


def handle(event: Any, rt: Runtime) -> dict[str, Any]:
    deployment_id = event.get("DeploymentId") if isinstance(event, Mapping) else None
    hook_id = event.get("LifecycleEventHookExecutionId") if isinstance(event, Mapping) else None
    if not isinstance(deployment_id, str) or not isinstance(hook_id, str) or not deployment_id or not hook_id:
        _log.error("not a CodeDeploy lifecycle hook event; nothing to report", event_keys=sorted(event)
                   if isinstance(event, Mapping) else type(event).__name__)
        return {"result": "ignored"}
    try:
        return _request(deployment_id, hook_id, rt)
    except Exception as exc:  # noqa: BLE001 - fail closed and fast rather than wait an hour
        _log.exception("approval request failed before it was recorded; reporting Failed",
                       deployment_id=deployment_id, error=str(exc) if isinstance(exc, HookFailure) else type(exc).__name__)
        result = report_hook_status(rt.codedeploy, deployment_id, hook_id, "Failed")
        return {"result": "failed", "codeDeployResult": result, "error": str(exc)[:300]}


def _request(deployment_id: str, hook_id: str, rt: Runtime) -> dict[str, Any]:
    settings = rt.settings
    now = rt.now()
    deployment = load_deployment(deployment_id, platform=settings.platform, codedeploy=rt.codedeploy,
                                 ecs=rt.client("ecs"))
    metadata, platform_meta = _read_parameters(rt, deployment.domain)
    approval = metadata.get("approval")
    if not isinstance(approval, Mapping):
        raise HookFailure(f"deployment metadata of domain {deployment.domain} has no approval section")
    if approval.get("required") is False:
        result = report_hook_status(rt.codedeploy, deployment_id, hook_id, "Succeeded")
        _log.info("approval not required; reported Succeeded", deployment_id=deployment_id,
                  domain=deployment.domain, codedeploy_result=result)
        return {"result": "not-required", "codeDeployResult": result}
    channel = approval.get("channel")
    if not isinstance(channel, str) or not channel:
        raise HookFailure(f"approval.channel is not set for domain {deployment.domain}")
    state = approvals.load_state(table_name=settings.table, deployment_id=deployment_id, dynamodb=rt.dynamodb)
    if state.request:
        _log.warning("approval request already claimed by another delivery; not posting again",
                     deployment_id=deployment_id, status=state.status)
        return {"result": "already-requested", "status": state.status}
    users = [u for u in approval.get("approverUserIds") or [] if isinstance(u, str)]
    groups = [g for g in approval.get("approverGroupIds") or [] if isinstance(g, str)]
    members, members_resolved = _group_members(rt, groups)
    minutes = expiry_minutes(approval)
    expires_at = now + timedelta(minutes=minutes)
    identity_map = platform_meta.get("slackIdentityMap") or {}
    requester = resolve_requester(
        state.registration, identity_map, platform=settings.platform, domain=deployment.domain,
        stack_updater=stack_updater_from_cloudtrail(rt.client("cloudtrail")))
    rules = (platform_meta.get("approvalRules") or {}).get(deployment.domain)
    needed = requirement(rules, requester)
    registration = state.registration or {}
    request = approvals.record(
        deployment_id, approvals.APPROVAL_SK, "request", now, domain=deployment.domain,
        hookExecutionId=hook_id, applicationName=deployment.application, deploymentGroupName=deployment.group,
        requester=requester.identity, requesterSlackId=requester.slack_id, requesterSource=requester.source,
        requesterVerifiedBy=list(requester.verified_by), requesterNote=requester.note, kind=registration.get("kind"),
        image=deployment.image, taskDefinitionArn=deployment.task_definition_arn, requestedAt=approvals.iso(now),
        expiresAt=approvals.iso(expires_at), expiresAtEpoch=int(expires_at.timestamp()), status=approvals.PENDING,
        approverUserIds=users, approverGroupIds=groups, approverMembers=sorted(members) if members_resolved else None,
        requiredApprovals=needed.required, blocked=needed.blocked, requirement=needed.why, channel=channel)
    try:
        approvals.put_record(table_name=settings.table, record=request, dynamodb=rt.dynamodb)
    except approvals.RecordExists:
        _log.warning("approval request claimed concurrently by another delivery; not posting",
                     deployment_id=deployment_id)
        return {"result": "already-requested"}
    # ---- from here on the request exists: never report Failed ourselves, the expiry does ----
    state = approvals.ApprovalState.from_records(deployment_id, [registration, request] if registration else [request])
    try:
        applies, why = rollback_rule_applies(
            state.registration, requester, approver_ids=[*users, *members],
            ran_before=lambda arn: ran_in_production(rt.codedeploy, application=deployment.application,
                                                     group=deployment.group, task_definition_arn=arn,
                                                     exclude=deployment_id))
    except Exception as exc:  # noqa: BLE001 - no evidence = no rule; a human decides
        applies, why = False, f"could not check the deployment history ({error_code(exc) or type(exc).__name__})"
    if applies:
        verdict = approvals.rule_decision(state, now, rule=ROLLBACK_RULE, reason=why)
        if approvals.commit(verdict, state, now, table_name=settings.table, dynamodb=rt.dynamodb):
            _log.info("auto-approved by rule", deployment_id=deployment_id, rule=ROLLBACK_RULE, why=why)
            return {"result": "auto-approved", "rule": ROLLBACK_RULE}
    try:
        return _announce(rt, deployment, metadata, platform_meta, channel, users, groups, minutes, expires_at,
                         requester, needed, state)
    except Exception as exc:  # noqa: BLE001 - the request is recorded: the expiry (or bgctl) decides
        _log.exception("approval request recorded but announcing it failed", deployment_id=deployment_id)
        return {"result": "pending", "error": type(exc).__name__}


def _group_members(rt: Runtime, groups: list[str]) -> tuple[set[str], bool]:
    """Members of the approver user groups at request time (recorded, so a click needs no Slack call)."""
    members: set[str] = set()
    try:
        for group in groups:
            members.update(rt.slack(timeout=3.0).usergroup_members(group))
    except Exception as exc:  # noqa: BLE001 - the callback then checks membership live (budgeted)
        _log.warning("could not resolve approver groups; clicks will check membership live",
                     error=getattr(exc, "reason", type(exc).__name__))
        return set(), False
    return members, True


def _announce(rt: Runtime, deployment: Any, metadata: Mapping[str, Any], platform_meta: Mapping[str, Any],
              channel: str, users: list[str], groups: list[str], minutes: int, expires_at: datetime,
              requester: Requester, needed: Any, state: approvals.ApprovalState) -> dict[str, Any]:
    settings = rt.settings
    deployment_id = deployment.deployment_id
    warnings = []
    if not requester.known:
        warnings.append(f"Requester {requester.identity} is not verified or not in the identity map "
                        f"({requester.note or 'unmapped'}): {needed.why}.")
    if not users and not groups:
        warnings.append("No approvers configured for this domain: only `bgctl approve` can release it.")
    region = str(metadata.get("region") or settings.region)
    view = messages.RequestView(
        domain=deployment.domain, deployment_id=deployment_id, image=deployment.image,
        requester=requester.identity, requester_slack_id=requester.slack_id, started_at=deployment.create_time,
        console_url=console_url(region, deployment_id), test_endpoint=metadata.get("testEndpoint"),
        expires_at=expires_at, expiry_minutes=minutes, smoke=_smoke(rt, deployment_id),
        in_flight=_in_flight(rt, platform_meta, deployment_id), approver_user_ids=users,
        approver_group_ids=groups, warnings=warnings, required_approvals=needed.required, blocked=needed.blocked)
    posted = _post(rt, channel, view)
    scheduled = _schedule_expiry(rt, deployment_id, expires_at)
    _put_event(rt, {"platform": settings.platform, "domain": deployment.domain, "deploymentId": deployment_id,
                    "status": approvals.PENDING, "requester": requester.identity, "image": deployment.image,
                    "expiresAt": approvals.iso(expires_at), "channel": channel, "slackPosted": posted is not None,
                    "expiryScheduled": scheduled, "requiredApprovals": needed.required})
    _log.info("approval requested", deployment_id=deployment_id, domain=deployment.domain, channel=channel,
              slack_posted=posted is not None, expiry_scheduled=scheduled, expires_at=approvals.iso(expires_at),
              requester=requester.identity, required_approvals=needed.required)
    return {"result": "pending", "slackPosted": posted is not None, "expiryScheduled": scheduled,
            "expiresAt": approvals.iso(expires_at), "requiredApprovals": needed.required}


def _read_parameters(rt: Runtime, domain: str) -> tuple[dict[str, Any], dict[str, Any]]:
    prefix = rt.settings.ssm_prefix
    domain_name, platform_name = f"{prefix}/domains/{domain}/deployment", f"{prefix}/platform"
    answer = rt.client("ssm").get_parameters(Names=[domain_name, platform_name])
    found = {p["Name"]: p.get("Value") for p in answer.get("Parameters", [])}
    if domain_name not in found:
        raise HookFailure(f"SSM parameter {domain_name} not found (is domain {domain} deployed?)")
    try:
        metadata = json.loads(found[domain_name])
        platform_meta = json.loads(found[platform_name]) if found.get(platform_name) else {}
    except ValueError as exc:
        raise HookFailure(f"deployment metadata is not JSON: {exc}") from None
    if not isinstance(metadata, dict) or not isinstance(platform_meta, dict):
        raise HookFailure("deployment metadata is not a JSON object")
    if platform_name not in found:
        _log.warning("platform parameter missing; no identity map, no in-flight list", parameter=platform_name)
    return metadata, platform_meta


def _smoke(rt: Runtime, deployment_id: str) -> dict[str, Any] | None:
    try:
        answer = rt.dynamodb.get_item(TableName=rt.settings.table, ConsistentRead=True, Key={
            "pk": {"S": f"{approvals.SMOKE_PK_PREFIX}{deployment_id}"}, "sk": {"S": approvals.SMOKE_SK}})
        return approvals.from_item(answer.get("Item"))
    except Exception as exc:  # noqa: BLE001 - optional information
        _log.warning("could not read smoke results", deployment_id=deployment_id, error=error_code(exc) or str(exc))
        return None


def _in_flight(rt: Runtime, platform_meta: Mapping[str, Any], deployment_id: str) -> list[dict[str, str]] | None:
    domains = [d for d in platform_meta.get("domains") or [] if isinstance(d, str)]
    try:
        found = in_flight_deployments(rt.codedeploy, platform=rt.settings.platform, domains=domains,
                                      exclude=deployment_id)
    except Exception as exc:  # noqa: BLE001 - optional information
        _log.warning("could not list deployments in flight", error=error_code(exc) or type(exc).__name__)
        return None
    return [{"domain": d.domain, "deploymentId": d.deployment_id, "status": d.status} for d in found]


def _post(rt: Runtime, channel: str, view: messages.RequestView) -> dict[str, Any] | None:
    text, blocks = messages.request_message(view)
    last_error = ""
    for attempt in (1, 2):
        try:
            answer = rt.slack(timeout=3.0).post_message(channel=channel, text=text, blocks=blocks)
        except SlackError as exc:
            last_error = exc.reason
            if exc.reason in ("channel_not_found", "not_in_channel", "invalid_auth", "invalid_blocks"):
                break  # retrying will not help
            continue
        except Exception as exc:  # noqa: BLE001 - e.g. the bot token secret is not set
            last_error = type(exc).__name__ + ": " + str(exc)[:200]
            break
        ts, posted_channel = answer.get("ts"), answer.get("channel") or channel
        message = answer.get("message") if isinstance(answer.get("message"), dict) else {}
        if ts:
            try:
                approvals.put_record(table_name=rt.settings.table, dynamodb=rt.dynamodb, record=approvals.record(
                    view.deployment_id, approvals.MESSAGE_SK, "message", rt.now(), channel=str(posted_channel),
                    ts=str(ts), team=message.get("team"), appId=message.get("app_id"), botId=message.get("bot_id")))
            except Exception:  # noqa: BLE001 - clicks on it are refused (no stored message): bgctl still works
                _log.exception("posted but could not record the message", deployment_id=view.deployment_id)
        return answer
    _log.error("could not post the approval request to Slack; the request stays PENDING (bgctl approve|reject "
               "works) and expires at expiresAt", deployment_id=view.deployment_id, channel=channel,
               slack_error=last_error, attempts=attempt)
    return None


def _schedule_expiry(rt: Runtime, deployment_id: str, expires_at: datetime) -> bool:
    settings = rt.settings
    if not (settings.schedule_group and settings.expiry_function_arn and settings.scheduler_role_arn):
        _log.error("expiry schedule not configured (SCHEDULE_GROUP, EXPIRY_FUNCTION_ARN, SCHEDULER_ROLE_ARN); "
                   "CodeDeploy's 60-minute hook timeout is the only expiry", deployment_id=deployment_id)
        return False
    try:
        rt.client("scheduler").create_schedule(
            Name=schedule_name(settings.platform, deployment_id),
            GroupName=settings.schedule_group,
            ScheduleExpression=at_expression(expires_at),
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Description=f"Expire the approval request of CodeDeploy deployment {deployment_id}",
            Target={"Arn": settings.expiry_function_arn, "RoleArn": settings.scheduler_role_arn,
                    "Input": json.dumps({"deploymentId": deployment_id}),
                    "RetryPolicy": {"MaximumRetryAttempts": EXPIRY_RETRY_ATTEMPTS,
                                    "MaximumEventAgeInSeconds": EXPIRY_RETRY_WINDOW_SECONDS}},
        )
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) == "ConflictException":
            return True  # retried invocation: the schedule exists
        _log.exception("could not create the expiry schedule", deployment_id=deployment_id,
                       error=error_code(exc) or type(exc).__name__)
        return False
    return True


def _put_event(rt: Runtime, detail: Mapping[str, Any]) -> None:
    try:
        rt.events.put_events(Entries=[{"Source": approvals.EVENT_SOURCE, "DetailType": event_patterns.APPROVAL_REQUESTED,
                                       "Detail": json.dumps(detail, default=str)}])
    except Exception as exc:  # noqa: BLE001 - notification only
        _log.warning("could not put the Approval Requested event", error=error_code(exc) or type(exc).__name__)
