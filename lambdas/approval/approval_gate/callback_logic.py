"""Slack interactivity callback: API Gateway REST proxy event in, proxy response out, inside 2.5 s.

Order (cheap and unauthenticated first; nothing is written before the signature verifies):
size -> signature headers -> HMAC over the raw body -> parse -> known action -> ONE Query of the
deployment's records -> the button belongs to the recorded message (channel, message ts, team id,
app id; absent = refused) -> the rule book (`bgruntime.approvals.evaluate`: approver, not the
requester, distinct approvers, two-person rule, not expired) -> ONE conditional write (the vote, the
decision, or the refusal as an EVENT record) -> 200.

Before the answer there are at most two AWS calls (Query, conditional put/transaction), plus the
signing secret on a cold start and a user-group lookup only when the request hook could not record
the groups' members. Everything else (telling CodeDeploy, updating the message, the ephemeral answer
via chat.postEphemeral, events) is done by the decision worker from the table's stream, retried
until done.

Answers: 413 (too big), 400 (malformed), 401 (missing/bad/stale signature); every verified click gets
HTTP 200 with an empty body (Slack shows the outcome through chat.postEphemeral). Never 5xx.
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
from bgruntime.deployments import error_code
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
    text: str = ""

    def to_apigw(self) -> dict[str, Any]:
        if self.status == 200:  # Slack gets the outcome through chat.postEphemeral (worker)
            return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "", "isBase64Encoded": False}
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
    team_id: str | None = None
    app_id: str | None = None


class Deadline:
    def __init__(self, budget: float) -> None:
        self._end = time.monotonic() + budget

    def remaining(self) -> float:
        return self._end - time.monotonic()


def refuse(reason: str, text: str) -> Answer:
    return Answer(200, messages.ephemeral(text), reason, text)


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
        team_id=_text(payload.get("team") if isinstance(payload.get("team"), dict) else {}, "id"),
        app_id=_text(payload, "api_app_id"),
    )


def _text(obj: Any, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) and value else None


# ---------------------------------------------------------------------------------------------
# the handler logic


def handle(event: Any, rt: Runtime, *, budget_seconds: float | None = None) -> dict[str, Any]:
    """API Gateway proxy event -> proxy response. Never raises, never answers 5xx."""
    return respond(event, rt, budget_seconds=budget_seconds).to_apigw()


def respond(event: Any, rt: Runtime, *, budget_seconds: float | None = None) -> Answer:
    """The Answer (with its text, for the logs and the tests). `budget_seconds` (default
    `rt.ack_budget_seconds`, 2.5 s) bounds the only optional network call (a live group lookup)."""
    started = time.monotonic()
    verified = False
    click: Click | None = None
    try:
        deadline = Deadline(rt.ack_budget_seconds if budget_seconds is None else budget_seconds)
        if not isinstance(event, Mapping):
            answer = error(400, "bad-event", "malformed request")
        else:
            prefetch = _prefetch_state(event, rt)
            answer, verified, click = _authenticate(event, rt)
            if answer is None and click is not None:
                answer = _decide_click(click, rt, deadline, prefetch)
            elif prefetch is not None:
                prefetch.discard()
    except Exception:  # noqa: BLE001 - last line of defence: Slack must get a 2xx/4xx, never a 5xx
        _log.exception("callback failed unexpectedly", verified=verified)
        answer = (refuse("internal-error", "Something went wrong handling your click; check the approval message or "
                                          "run `bgctl status` before trying again.")
                  if verified else error(400, "internal-error", "malformed request"))
    _log.info("slack click answered", status=answer.status, reason=answer.reason,
              deployment_id=click.deployment_id if click else None, user_id=click.user_id if click else None,
              action=click.action_id if click else None, ms=round((time.monotonic() - started) * 1000, 1))
    return answer


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


def message_mismatch(click: Click, message: Mapping[str, Any] | None) -> str | None:
    """Why the clicked button is not the recorded approval message (fail closed), or None."""
    if not message:
        return "no approval message is recorded for this deployment"
    for label, clicked, recorded in (("channel", click.channel_id, message.get("channel")),
                                     ("message", click.message_ts, message.get("ts")),
                                     ("workspace", click.team_id, message.get("team")),
                                     ("app", click.app_id, message.get("appId"))):
        if not clicked or not recorded or clicked != recorded:
            return f"the button's {label} does not match the recorded approval message"
    return None


class _Prefetch:
    """Cold container only: the Query of the clicked deployment's records runs while the signing secret is
    fetched, so a cold click also costs two sequential AWS round trips. Its result is used only if the
    signature then verifies and names the same deployment; otherwise it is dropped."""

    def __init__(self, deployment_id: str, rt: Runtime) -> None:
        import threading

        self.deployment_id = deployment_id
        self._result: Any = None
        self._thread = threading.Thread(target=self._run, args=(rt,), daemon=True)
        self._thread.start()

    def _run(self, rt: Runtime) -> None:
        try:
            self._result = approvals.load_state(table_name=rt.settings.table, deployment_id=self.deployment_id,
                                                dynamodb=rt.dynamodb)
        except Exception as exc:  # noqa: BLE001 - re-raised where the state is used
            self._result = exc

    def state(self) -> approvals.ApprovalState:
        self._thread.join()
        if isinstance(self._result, Exception):
            raise self._result
        return self._result

    def discard(self) -> None:
        """Nothing to do: the thread ends on its own and its result is never used."""


def _prefetch_state(event: Mapping[str, Any], rt: Runtime) -> _Prefetch | None:
    if rt.signing_secret_cached():
        return None
    raw = raw_body(event)
    if isinstance(raw, Answer) or not header(event, "X-Slack-Signature"):
        return None
    parsed = parse_click(raw, header(event, "Content-Type"))
    return _Prefetch(parsed.deployment_id, rt) if isinstance(parsed, Click) else None


def _decide_click(click: Click, rt: Runtime, deadline: Deadline, prefetch: _Prefetch | None = None) -> Answer:
    settings = rt.settings
    now = rt.now()
    actor = approvals.Actor(via="slack", name=click.user_name, slack_user_id=click.user_id)
    action = ACTIONS[click.action_id]
    try:
        if prefetch is not None and prefetch.deployment_id == click.deployment_id:
            state = prefetch.state()
        else:
            state = approvals.load_state(table_name=settings.table, deployment_id=click.deployment_id,
                                         dynamodb=rt.dynamodb)
    except Exception as exc:  # noqa: BLE001
        _log.exception("could not read the approval records", deployment_id=click.deployment_id)
        return refuse("store-unavailable", f"Could not read the approval state ({error_code(exc) or type(exc).__name__}); "
                                           "nothing changed, please try again.")
    if state.request is None:
        return refuse("not-found", f"No approval request exists for deployment {click.deployment_id}. Nothing changed.")
    mismatch = message_mismatch(click, state.message)
    if mismatch:
        verdict = approvals.Verdict("wrong_message", f"This button is not the approval message of deployment "
                                                     f"{click.deployment_id} ({mismatch}). Nothing changed.")
        approvals.refuse_on_record(table_name=settings.table, state=state, actor=actor, action=action,
                                   verdict=verdict, now=now, dynamodb=rt.dynamodb, channel=click.channel_id,
                                   clickedTs=click.message_ts, team=click.team_id, appId=click.app_id)
        return refuse("wrong-message", verdict.message)
    verdict, _ = approvals.attempt(
        table_name=settings.table, deployment_id=click.deployment_id, actor=actor, action=action, now=now,
        dynamodb=rt.dynamodb, state=state, is_approver=lambda a: _is_approver(a, state.request or {}, rt, deadline))
    _log.info("click outcome", deployment_id=click.deployment_id, code=verdict.code, accepted=verdict.accepted,
              decision=verdict.decision, user_id=click.user_id, action=action)
    return Answer(200, messages.ephemeral(verdict.message), verdict.code.replace("_", "-"), verdict.message)


def _is_approver(actor: approvals.Actor, request: Mapping[str, Any], rt: Runtime, deadline: Deadline) -> bool | None:
    """True / False, or None when group membership could not be checked in time (fail closed)."""
    user_id = actor.slack_user_id
    if not user_id:
        return False
    if user_id in (request.get("approverUserIds") or []):
        return True
    members = request.get("approverMembers")
    if isinstance(members, list):  # recorded by the request hook: no Slack call on the click
        return user_id in members
    groups = [g for g in (request.get("approverGroupIds") or []) if isinstance(g, str)]
    if not groups:
        return False
    # Reading the bot token is one more AWS round trip on a cold container: budget it like the Slack call.
    token_cost = 0.0 if rt.bot_token_cached() else 1.0
    try:
        for group in groups:
            remaining = deadline.remaining() - 1.2 - token_cost  # keep time for the conditional write
            if remaining <= 0.1:
                return None
            if user_id in rt.slack(timeout=min(rt.slack_timeout, remaining)).usergroup_members(group):
                return True
            token_cost = 0.0
    except SlackError as exc:
        _log.warning("usergroup membership check failed", reason=exc.reason)
        return None
    except Exception:  # noqa: BLE001 - e.g. bot token secret unavailable
        _log.exception("usergroup membership check failed")
        return None
    return False
