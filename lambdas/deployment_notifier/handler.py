"""Deployment timeline notifier: one Slack thread per CodeDeploy deployment.

Consumes, from the default EventBridge bus (patterns: `timeline.rule_patterns(platform)`):
- `aws.codedeploy` "CodeDeploy Deployment State-change Notification" (START, READY, SUCCESS, FAILURE, STOP);
- `bluegreen.platform` "Smoke Checks Completed", "Approval Requested", "Approval Decided".

The first event of a deployment posts the parent message (domain, deployment id, requester, image)
and stores channel + threadTs in the `TIMELINE` audit item; every event becomes a thread reply. On a
terminal state the parent message is updated with the outcome. FAILURE/STOP replies name the cause:
GetDeployment `errorInformation`/`rollbackInfo` and the deployment group's alarms with their current
state (CloudWatch DescribeAlarms).

Channel: the domain's `approval.channel` from its deployment metadata when set, else NOTIFY_CHANNEL,
else the platform parameter's `notificationChannel`.

Never raises and never affects the deployment: unknown deployment ids, Slack down or slow, missing
metadata are logged and the function returns. Lines Slack did not take are kept in the item's
`pending` list and posted with the next event.

Env: PLATFORM_NAME, SSM_PREFIX (default `/PLATFORM_NAME`), TIMELINE_TABLE (AUDIT_TABLE before), NOTIFY_CHANNEL,
SLACK_BOT_TOKEN_SECRET_ARN, SLACK_API_BASE_URL (optional), SLACK_TIMEOUT_SECONDS (default 2).
"""
from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

try:  # package import (tests) or top-level modules (Lambda asset root)
    from . import store as _store, timeline
except ImportError:  # pragma: no cover - exercised in Lambda
    import store as _store  # type: ignore[no-redef]
    import timeline  # type: ignore[no-redef]

from bgruntime.deployments import describe_error
from bgruntime.log import get_logger
from bgruntime.slack import SlackClient, SlackError

log = get_logger("deployment_notifier")

CACHE_TTL_SECONDS = 60.0
_UNKNOWN = object()


@dataclass
class Deps:
    codedeploy: Any
    cloudwatch: Any
    ssm: Any
    table: Any  # boto3 DynamoDB Table resource
    slack: Callable[[], SlackClient]  # lazily built (reads the bot token secret)
    clock: Callable[[], float] = time.time
    cache: dict[str, tuple[float, Any]] = field(default_factory=dict)


def default_deps(env: Mapping[str, str] | None = None) -> Deps:
    import boto3
    from botocore.config import Config

    from bgruntime.secrets import get_secret

    env = os.environ if env is None else env
    config = Config(connect_timeout=2, read_timeout=4, retries={"max_attempts": 2, "mode": "standard"})
    timeout = float(env.get("SLACK_TIMEOUT_SECONDS", "2") or 2)

    def slack() -> SlackClient:
        return SlackClient.from_env(get_secret(env["SLACK_BOT_TOKEN_SECRET_ARN"]), timeout=timeout)

    return Deps(codedeploy=boto3.client("codedeploy", config=config),
                cloudwatch=boto3.client("cloudwatch", config=config),
                ssm=boto3.client("ssm", config=config),
                table=boto3.resource("dynamodb", config=config).Table(env.get("TIMELINE_TABLE") or env["AUDIT_TABLE"]),
                slack=slack)


_DEPS: Deps | None = None


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point (`handler.handler`). Clients are reused across invocations."""
    global _DEPS
    try:
        if _DEPS is None:
            _DEPS = default_deps()
        return handle(event, context, _DEPS)
    except Exception:  # noqa: BLE001 - a notifier never fails anything
        log.exception("deployment notifier failed")
        return {"status": "error"}


def handle(event: Any, context: Any, deps: Deps, *, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    platform = env.get("PLATFORM_NAME", "")
    item = timeline.classify(event, platform) if platform else None
    if item is None:
        log.info("event ignored: not a timeline event of this platform", platform=platform,
                 source=event.get("source") if isinstance(event, dict) else None,
                 detail_type=event.get("detail-type") if isinstance(event, dict) else None)
        return {"status": "ignored", "reason": "not a timeline event of this platform"}
    try:
        return _Notifier(item, deps, env, platform).run()
    except Exception as exc:  # noqa: BLE001
        log.exception("deployment notifier failed", deployment_id=item.deployment_id, kind=item.kind)
        return {"status": "error", "deploymentId": item.deployment_id, "error": type(exc).__name__}


class _SlackUnavailable(Exception):
    pass


class _Notifier:
    def __init__(self, event: timeline.TimelineEvent, deps: Deps, env: Mapping[str, str], platform: str) -> None:
        self.event = event
        self.deps = deps
        self.env = env
        self.platform = platform
        self.prefix = (env.get("SSM_PREFIX") or f"/{platform}").rstrip("/")
        self._slack: SlackClient | None = None
        self._slack_failed = False

    # ----------------------------------------------------------------------------------------- flow
    def run(self) -> dict[str, Any]:
        ev = self.event
        info = self._deployment()
        if info is _UNKNOWN:
            log.warning("unknown deployment; nothing posted", deployment_id=ev.deployment_id, kind=ev.kind)
            return {"status": "ignored", "reason": "unknown deployment", "deploymentId": ev.deployment_id}
        domain = ev.domain
        if info:
            app_domain = timeline.domain_from_application(info.get("applicationName"), self.platform)
            if app_domain is None:
                log.warning("deployment belongs to another application; ignored", deployment_id=ev.deployment_id,
                            application=info.get("applicationName"))
                return {"status": "ignored", "reason": "not this platform's deployment",
                        "deploymentId": ev.deployment_id}
            domain = app_domain
        metadata = self._domain_metadata(domain)
        approval = metadata.get("approval") if isinstance(metadata.get("approval"), dict) else {}
        approval_required = approval.get("required") if isinstance(approval.get("required"), bool) else None
        alarms = self._alarms(info) if ev.kind == "state" and ev.state in ("FAILURE", "STOP") else []
        line = timeline.event_line(ev, deployment=info, alarms=alarms, approval_required=approval_required)

        store = _store.TimelineStore(self.deps.table, ev.deployment_id)
        item = store.record(event_id=ev.event_id, line=timeline.audit_line(ev, line), domain=domain)
        if item is None:
            log.info("duplicate event ignored", deployment_id=ev.deployment_id, event_id=ev.event_id)
            return {"status": "duplicate", "deploymentId": ev.deployment_id}

        channel, thread_ts = item.get("channel"), item.get("threadTs")
        if channel and thread_ts:
            status = self._reply(store, channel, thread_ts, [line], flush=bool(item.get("pending")))
        else:
            channel = self._channel(approval)
            if not channel:
                log.error("no Slack channel configured (NOTIFY_CHANNEL, approval.channel or the platform "
                          "parameter's notificationChannel); event recorded only", deployment_id=ev.deployment_id)
                return {"status": "recorded", "reason": "no channel", "deploymentId": ev.deployment_id}
            token = uuid.uuid4().hex
            if store.claim(token):
                status, channel, thread_ts = self._create_thread(store, token, channel, info, domain, line)
            elif store.queue([line], only_without_thread=True):
                log.info("thread being created by a concurrent invocation; line queued",
                         deployment_id=ev.deployment_id)
                return {"status": "queued", "deploymentId": ev.deployment_id}
            else:
                current = store.get()
                channel, thread_ts = current.get("channel"), current.get("threadTs")
                status = self._reply(store, channel, thread_ts, [line]) if channel and thread_ts else "lost"

        if ev.terminal and channel and thread_ts and status == "posted":
            self._update_parent(channel, thread_ts, info, domain)
        log.info("timeline event handled", deployment_id=ev.deployment_id, domain=domain, kind=ev.kind,
                 state=ev.state, status=status, thread_ts=thread_ts)
        return {"status": status, "deploymentId": ev.deployment_id, "domain": domain, "channel": channel,
                "threadTs": thread_ts, "line": line}

    def _create_thread(self, store: _store.TimelineStore, token: str, channel: str, info: Any,
                       domain: str | None, line: str) -> tuple[str, str | None, str | None]:
        text = timeline.parent_text(domain=domain, deployment_id=self.event.deployment_id, deployment=info or None,
                                    requester_slack_id=self._requester_slack_id(info))
        try:
            answer = self._slack_client().post_message(channel=channel, text=text)
            thread_ts = str(answer["ts"])
            channel = str(answer.get("channel") or channel)
        except (_SlackUnavailable, SlackError, KeyError) as exc:
            log.error("posting the thread's parent message failed; line kept for the next event",
                      deployment_id=self.event.deployment_id, error=str(exc))
            store.release(token, lines=[line])
            return "slack_error", None, None
        try:
            pending = store.complete(token, channel=channel, thread_ts=thread_ts)
        except _store.ClaimLost:
            log.warning("thread claim taken over while posting; replying in the current thread",
                        deployment_id=self.event.deployment_id, orphan_ts=thread_ts)
            current = store.get()
            channel, thread_ts = current.get("channel"), current.get("threadTs")
            if not (channel and thread_ts):
                return "lost", None, None
            return self._reply(store, channel, thread_ts, [line]), channel, thread_ts
        return self._reply(store, channel, thread_ts, pending + [line]), channel, thread_ts

    def _reply(self, store: _store.TimelineStore, channel: str, thread_ts: str, lines: list[str],
               *, flush: bool = False) -> str:
        for index, text in enumerate(lines):
            if not self._post(channel, thread_ts, text):
                store.queue(lines[index:], only_without_thread=False)
                return "slack_error"
        if flush:
            delayed = store.take_pending()
            for index, text in enumerate(delayed):
                if not self._post(channel, thread_ts, f"(delayed) {text}"):
                    store.queue(delayed[index:], only_without_thread=False)
                    return "slack_error"
        return "posted"

    def _post(self, channel: str, thread_ts: str, text: str) -> bool:
        if self._slack_failed:  # one slow/failed Slack call per invocation is enough
            return False
        try:
            self._slack_client().post_message(channel=channel, text=text, thread_ts=thread_ts)
            return True
        except (_SlackUnavailable, SlackError) as exc:
            self._slack_failed = True
            log.error("posting to Slack failed; line kept for the next event", deployment_id=self.event.deployment_id,
                      error=str(exc))
            return False

    def _update_parent(self, channel: str, thread_ts: str, info: Any, domain: str | None) -> None:
        if self._slack_failed:
            return
        text = timeline.parent_text(domain=domain, deployment_id=self.event.deployment_id, deployment=info or None,
                                    requester_slack_id=self._requester_slack_id(info), outcome=self.event.state)
        try:
            self._slack_client().update_message(channel=channel, ts=thread_ts, text=text)
        except (_SlackUnavailable, SlackError) as exc:
            log.warning("updating the parent message failed", deployment_id=self.event.deployment_id, error=str(exc))

    def _slack_client(self) -> SlackClient:
        if self._slack is None:
            try:
                self._slack = self.deps.slack()
            except Exception as exc:  # noqa: BLE001 - secret missing/placeholder/unreadable
                self._slack_failed = True
                raise _SlackUnavailable(f"Slack client unavailable: {type(exc).__name__}") from None
        return self._slack

    # ---------------------------------------------------------------------------------- AWS lookups
    def _deployment(self) -> Any:
        try:
            return self.deps.codedeploy.get_deployment(deploymentId=self.event.deployment_id)["deploymentInfo"]
        except Exception as exc:  # noqa: BLE001
            code = describe_error(exc)
            if code in ("DeploymentDoesNotExistException", "InvalidDeploymentIdException"):
                return _UNKNOWN
            log.warning("GetDeployment failed; posting with what the event carries",
                        deployment_id=self.event.deployment_id, error=code)
            return None

    def _alarms(self, info: Any) -> list[timeline.Alarm]:
        if not info:
            return []
        try:
            group = self.deps.codedeploy.get_deployment_group(
                applicationName=info["applicationName"], deploymentGroupName=info["deploymentGroupName"],
            )["deploymentGroupInfo"]
            names = [a["name"] for a in (group.get("alarmConfiguration") or {}).get("alarms") or [] if a.get("name")]
        except Exception as exc:  # noqa: BLE001
            log.warning("GetDeploymentGroup failed; rollback reason without alarm names",
                        deployment_id=self.event.deployment_id, error=describe_error(exc))
            return []
        if not names:
            return []
        try:
            answer = self.deps.cloudwatch.describe_alarms(AlarmNames=names[:100],
                                                          AlarmTypes=["MetricAlarm", "CompositeAlarm"])
            states = {a["AlarmName"]: a.get("StateValue")
                      for a in answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", [])}
        except Exception as exc:  # noqa: BLE001
            log.warning("DescribeAlarms failed; alarm states unknown", deployment_id=self.event.deployment_id,
                        error=describe_error(exc))
            states = {}
        return [timeline.Alarm(name, states.get(name)) for name in names]

    def _domain_metadata(self, domain: str | None) -> dict[str, Any]:
        if not domain:
            return {}
        value = self._parameter(f"{self.prefix}/domains/{domain}/deployment")
        return value if isinstance(value, dict) else {}

    def _platform_parameter(self) -> dict[str, Any]:
        value = self._parameter(f"{self.prefix}/platform")
        return value if isinstance(value, dict) else {}

    def _parameter(self, name: str) -> Any:
        now = self.deps.clock()
        cached = self.deps.cache.get(name)
        if cached and now - cached[0] < CACHE_TTL_SECONDS:
            return cached[1]
        try:
            value = json.loads(self.deps.ssm.get_parameter(Name=name)["Parameter"]["Value"])
        except Exception as exc:  # noqa: BLE001 - missing metadata only degrades the message
            log.warning("parameter unavailable", parameter=name, error=describe_error(exc))
            value = None
        self.deps.cache[name] = (now, value)
        return value

    def _channel(self, approval: Mapping[str, Any]) -> str | None:
        for candidate in (approval.get("channel"), self.env.get("NOTIFY_CHANNEL"),
                          self._platform_parameter().get("notificationChannel")):
            if isinstance(candidate, str) and candidate.strip():
                return candidate.strip()
        return None

    def _requester_slack_id(self, info: Any) -> str | None:
        requester = timeline.parse_description((info or {}).get("description")).get("requester")
        if not requester:
            return None
        identity_map = self._platform_parameter().get("slackIdentityMap")
        slack_id = identity_map.get(requester) if isinstance(identity_map, dict) else None
        return slack_id if isinstance(slack_id, str) else None
