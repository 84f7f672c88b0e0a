"""Slack interactivity callback: API Gateway REST proxy event in, proxy response out.

Order of checks (cheap and unauthenticated first; nothing changes until `decide`):
size -> signature headers present -> signature over the raw body -> parse -> known action ->
item exists -> still PENDING -> not expired -> same channel -> clicker authorized -> not
self-approval -> deployment still running -> `bgruntime.approvals.decide` -> chat.update -> 200.

Answers: 413 (too big), 400 (malformed), 401 (missing/bad/stale signature); every well-formed but
refused click gets HTTP 200 with an ephemeral JSON message. Never 5xx, never an exception.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Mapping

from approval_gate import messages
from approval_gate.runtime import Runtime
from bgruntime import approvals
from bgruntime.deployments import FINISHED_STATUSES, console_url, error_code
from bgruntime.log import get_logger
from bgruntime.slack import SlackError
from bgruntime.slack_signature import signature_problem

MAX_BODY_BYTES = 64 * 1024
ACTIONS = {messages.ACTION_APPROVE: approvals.APPROVED, messages.ACTION_REJECT: approvals.REJECTED}
_DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{6,32}$")
_SLACK_ID = re.compile(r"^[A-Z0-9]{2,32}$")
_log = get_logger("approval.callback")


@dataclass(frozen=True)
class Answer:
    """An HTTP answer plus a short `reason` for the logs and the tests."""

    status: int
    body: Mapping[str, Any]
    reason: str

    def to_apigw(self) -> dict[str, Any]:
        return {"statusCode": self.status, "headers": {"Content-Type": "application/json"},
                "body": json.dumps(self.body), "isBase64Encoded": False}


@dataclass(frozen=True)
class Click:
    """A parsed `block_actions` button click."""

    user_id: str
    user_name: str
    action_id: str
    deployment_id: str
    channel_id: str | None
    message_ts: str | None


class Deadline:
    def __init__(self, budget: float) -> None:
        self._end = time.monotonic() + budget

    def remaining(self) -> float:
        return self._end - time.monotonic()


def refuse(reason: str, text: str) -> Answer:
    return Answer(200, messages.ephemeral(text), reason)


def error(status: int, reason: str, text: str) -> Answer:
    return Answer(status, {"error": text}, reason)


# ---------------------------------------------------------------------------------------------
# pure request parsing


def header(event: Mapping[str, Any], name: str) -> str | None:
    """Case-insensitive header lookup in `headers` then `multiValueHeaders`; None when absent."""
    wanted = name.lower()
    headers = event.get("headers")
    if isinstance(headers, Mapping):
        for key, value in headers.items():
            if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
                return value
    multi = event.get("multiValueHeaders")
    if isinstance(multi, Mapping):
        for key, values in multi.items():
            if isinstance(key, str) and key.lower() == wanted and isinstance(values, list) and values \
                    and isinstance(values[0], str):
                return values[0]
    return None


def raw_body(event: Mapping[str, Any]) -> bytes | Answer:
    """The exact bytes Slack signed (base64-decoded when API Gateway encoded them), size-limited."""
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        return error(400, "body-not-string", "malformed request body")
    encoded = event.get("isBase64Encoded") is True
    if len(body) > (MAX_BODY_BYTES * 4 // 3 + 4 if encoded else MAX_BODY_BYTES):
        return error(413, "too-large", f"request body larger than {MAX_BODY_BYTES} bytes")
    if encoded:
        try:
            raw = base64.b64decode(body.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeError):
            return error(400, "bad-base64", "request body is not valid base64")
    else:
        try:
            raw = body.encode("utf-8")
        except UnicodeError:
            return error(400, "bad-encoding", "request body is not valid UTF-8")
    if len(raw) > MAX_BODY_BYTES:
        return error(413, "too-large", f"request body larger than {MAX_BODY_BYTES} bytes")
    return raw


def parse_click(raw: bytes, content_type: str | None = None) -> Click | Answer:
    """Form body `payload=<json>` -> Click, or the Answer refusing it. Pure; never raises."""
    if content_type and not content_type.lower().startswith("application/x-www-form-urlencoded"):
        return error(400, "bad-content-type", "expected application/x-www-form-urlencoded")
    try:
        text = raw.decode("utf-8")
        form = urllib.parse.parse_qs(text, keep_blank_values=True, max_num_fields=20, errors="strict")
    except ValueError:  # includes UnicodeDecodeError and "too many fields"
        return error(400, "bad-form", "request body is not a valid form")
    values = form.get("payload")
    if not values or len(values) != 1:
        return error(400, "no-payload", "expected exactly one payload field")
    try:
        payload = json.loads(values[0])
    except (ValueError, RecursionError):
        return error(400, "bad-json", "payload is not JSON")
    if not isinstance(payload, dict):
        return error(400, "bad-json", "payload is not a JSON object")
    if payload.get("type") != "block_actions":
        return refuse("unsupported-type", "The approval gate only handles its Approve / Reject buttons.")
    actions = payload.get("actions")
    user = payload.get("user")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict) or not isinstance(user, dict):
        return error(400, "bad-payload", "block_actions payload without actions or user")
    action = actions[0]
    user_id = _text(user, "id")
    if not user_id or not _SLACK_ID.match(user_id):
        return error(400, "bad-user", "payload user id missing or malformed")
    action_id = _text(action, "action_id") or ""
    if action_id not in ACTIONS:
        return refuse("unknown-action", f"Unknown action `{messages.escape(action_id, 40)}`: only Approve and "
                                        "Reject are handled. Nothing changed.")
    deployment_id = _text(action, "value") or ""
    if not _DEPLOYMENT_ID.match(deployment_id):
        return refuse("bad-deployment-id", "This button does not carry a CodeDeploy deployment id. Nothing changed.")
    container = payload.get("container") if isinstance(payload.get("container"), dict) else {}
    channel = payload.get("channel") if isinstance(payload.get("channel"), dict) else {}
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    return Click(
        user_id=user_id,
        user_name=(_text(user, "name") or _text(user, "username") or user_id)[:80],
        action_id=action_id,
        deployment_id=deployment_id,
        channel_id=_text(channel, "id") or _text(container, "channel_id"),
        message_ts=_text(container, "message_ts") or _text(message, "ts"),
    )


def _text(obj: Any, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) and value else None


# ---------------------------------------------------------------------------------------------
# the handler logic


def handle(event: Any, rt: Runtime, *, budget_seconds: float | None = None) -> dict[str, Any]:
    """API Gateway proxy event -> proxy response. Never raises, never answers 5xx.

    `budget_seconds` (default `rt.ack_budget_seconds`, 2.5 s): optional work (the GetDeployment
    pre-check) is skipped and Slack timeouts shrink as the budget runs out.
    """
    started = time.monotonic()
    verified = False
    click: Click | None = None
    try:
        deadline = Deadline(rt.ack_budget_seconds if budget_seconds is None else budget_seconds)
        if not isinstance(event, Mapping):
            answer = error(400, "bad-event", "malformed request")
        else:
            answer, verified, click = _authenticate(event, rt)
            if answer is None and click is not None:
                answer = _decide_click(click, rt, deadline)
    except Exception:  # noqa: BLE001 - last line of defence: Slack must get a 2xx/4xx, never a 5xx
        _log.exception("callback failed unexpectedly", verified=verified)
        answer = (refuse("internal-error", "Something went wrong handling your click; check the approval message or "
                                          "run `bgctl status` before trying again.")
                  if verified else error(400, "internal-error", "malformed request"))
    _log.info("slack click answered", status=answer.status, reason=answer.reason,
              deployment_id=click.deployment_id if click else None, user_id=click.user_id if click else None,
              action=click.action_id if click else None, ms=round((time.monotonic() - started) * 1000, 1))
    return answer.to_apigw()


def _authenticate(event: Mapping[str, Any], rt: Runtime) -> tuple[Answer | None, bool, Click | None]:
    raw = raw_body(event)
    if isinstance(raw, Answer):
        return raw, False, None
    timestamp = header(event, "X-Slack-Request-Timestamp")
    signature = header(event, "X-Slack-Signature")
    if not timestamp or not signature:
        return error(401, "missing-signature-headers", "missing Slack signature headers"), False, None
    try:
        secret = rt.signing_secret()
    except Exception:  # noqa: BLE001 - unverifiable is unauthenticated; say why in the logs
        _log.exception("signing secret unavailable; see docs/approvals.md 'Slack app set-up'")
        return error(401, "no-signing-secret", "request signature could not be verified"), False, None
    problem = signature_problem(signing_secret=secret, timestamp=timestamp, signature=signature, body=raw,
                                now=rt.now().timestamp())
    if problem:
        _log.warning("rejected unsigned or forged request", problem=problem)
        return error(401, f"signature:{problem}", "request signature could not be verified"), False, None
    parsed = parse_click(raw, header(event, "Content-Type"))
    if isinstance(parsed, Answer):
        return parsed, True, None
    return None, True, parsed


def _decide_click(click: Click, rt: Runtime, deadline: Deadline) -> Answer:
    settings = rt.settings
    try:
        item = approvals.get_approval(table_name=settings.table, deployment_id=click.deployment_id,
                                      dynamodb=rt.dynamodb)
    except Exception as exc:  # noqa: BLE001
        _log.exception("could not read the approval item", deployment_id=click.deployment_id)
        return refuse("store-unavailable", f"Could not read the approval state ({error_code(exc) or type(exc).__name__}); "
                                           "nothing changed, please try again.")
    if item is None:
        return refuse("not-found", f"No approval request exists for deployment {click.deployment_id}. Nothing changed.")
    domain = str(item.get("domain", "?"))
    status = str(item.get("status", ""))
    if status != approvals.PENDING:
        by = item.get("decidedBy") or {}
        actor = messages.user_ref(by.get("slackUserId"), approvals.who(by))
        if status == approvals.EXPIRED:
            return refuse("already-expired", f"This approval request expired at {item.get('expiresAt')}; the "
                                             f"deployment was failed. Start a new deployment. Nothing changed.")
        return refuse("already-decided", f"Deployment {click.deployment_id} was already {status.lower()} by {actor} "
                                          f"at {item.get('decidedAt', '?')} via {item.get('decidedVia', '?')}. "
                                          "Nothing changed.")
    now = rt.now()
    if int(item.get("expiresAtEpoch", 0) or 0) <= int(now.timestamp()):
        return refuse("expired", f"This approval request expired at {item.get('expiresAt')}; it can no longer be "
                                 "approved or rejected (the expiry job fails the deployment). Nothing changed.")
    if item.get("slackChannel") and click.channel_id and item["slackChannel"] != click.channel_id:
        return refuse("wrong-channel", "This button does not belong to the approval message of that deployment. "
                                       "Nothing changed.")
    allowed, why = _authorized(click.user_id, item, rt, deadline)
    if not allowed:
        return refuse("unauthorized" if why is None else "authorization-unavailable", why or (
            f"You are not an approver for *{messages.escape(domain)}*. Approvers: "
            f"{_approver_list(item)}. Nothing changed."))
    decision = ACTIONS[click.action_id]
    if decision == approvals.APPROVED and item.get("requesterSlackId") == click.user_id:
        return refuse("self-approval", "You requested this deployment, so you cannot approve it; ask another "
                                       "approver (you may still reject it). Nothing changed.")
    finished = _deployment_finished(click.deployment_id, rt, deadline)
    if finished:
        return refuse("deployment-finished", finished)

    outcome = approvals.decide(
        table_name=settings.table, deployment_id=click.deployment_id, decision=decision,
        decided_by={"slackUserId": click.user_id, "name": click.user_name}, decided_via="slack",
        reason=None, now=now, dynamodb=rt.dynamodb, codedeploy=rt.codedeploy, events=rt.events)
    _log.info("decision outcome", deployment_id=click.deployment_id, code=outcome.code, recorded=outcome.recorded,
              codedeploy_result=outcome.codedeploy_result, decision=decision, user_id=click.user_id)
    if not outcome.recorded:
        return refuse(outcome.code.replace("_", "-"), outcome.message)
    _update_message(outcome.item or item, click, rt, deadline)
    return Answer(200, messages.ephemeral(outcome.message), outcome.code.replace("_", "-"))


def _authorized(user_id: str, item: Mapping[str, Any], rt: Runtime, deadline: Deadline) -> tuple[bool, str | None]:
    """(allowed, problem): problem is set when membership could not be checked (fail closed)."""
    if user_id in (item.get("approverUserIds") or []):
        return True, None
    groups = [g for g in (item.get("approverGroupIds") or []) if isinstance(g, str)]
    if not groups:
        return False, None
    try:
        for group in groups:
            remaining = deadline.remaining() - 0.5  # keep time for decide + chat.update
            if remaining <= 0.1:
                return False, "Ran out of time checking your approver group membership; please click again."
            if user_id in rt.slack(timeout=min(rt.slack_timeout, remaining)).usergroup_members(group):
                return True, None
    except SlackError as exc:
        _log.warning("usergroup membership check failed", reason=exc.reason)
        return False, f"Could not check your approver group membership (Slack: {exc.reason}); nothing changed, " \
                      "please try again."
    except Exception as exc:  # noqa: BLE001 - e.g. bot token secret unavailable
        _log.exception("usergroup membership check failed")
        return False, f"Could not check your approver group membership ({type(exc).__name__}); nothing changed."
    return False, None


def _deployment_finished(deployment_id: str, rt: Runtime, deadline: Deadline) -> str | None:
    """A refusal text when CodeDeploy says the deployment is over; None when running or unknown."""
    if deadline.remaining() < 1.2:  # an optional pre-check: skip it rather than miss Slack's 3 s
        return None
    try:
        info = rt.codedeploy.get_deployment(deploymentId=deployment_id).get("deploymentInfo") or {}
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) == "DeploymentDoesNotExistException":
            return f"CodeDeploy says deployment {deployment_id} does not exist any more; nothing to approve. " \
                   "Nothing changed."
        _log.warning("GetDeployment failed; deciding anyway", deployment_id=deployment_id,
                     error=error_code(exc) or type(exc).__name__)
        return None
    status = info.get("status")
    if status in FINISHED_STATUSES:
        return (f"Deployment {deployment_id} is already *{status}* in CodeDeploy (stopped, rolled back or "
                "finished); there is nothing left to approve. Nothing changed.")
    return None


def _update_message(item: Mapping[str, Any], click: Click, rt: Runtime, deadline: Deadline) -> None:
    channel = item.get("slackChannel") or click.channel_id
    ts = item.get("slackTs") or click.message_ts
    if not channel or not ts:
        return
    text, blocks = messages.decided_message(item, console_url=console_url(rt.settings.region, click.deployment_id))
    try:
        timeout = min(rt.slack_timeout, max(0.3, deadline.remaining()))
        rt.slack(timeout=timeout).update_message(channel=str(channel), ts=str(ts), text=text, blocks=blocks)
    except Exception as exc:  # noqa: BLE001 - the decision is recorded; the message is cosmetic
        _log.warning("could not update the approval message", deployment_id=click.deployment_id,
                     error=getattr(exc, "reason", type(exc).__name__))


def _approver_list(item: Mapping[str, Any]) -> str:
    names = [f"<@{u}>" for u in item.get("approverUserIds") or []] + \
            [f"<!subteam^{g}>" for g in item.get("approverGroupIds") or []]
    return ", ".join(names) if names else "nobody (use `bgctl approve`)"
