"""Test doubles for the approval gate: a real local Slack HTTP server, a thread-safe counting
CodeDeploy fake, an events recorder, a clock, signed API Gateway events, and the loader that
imports the Lambda asset `lambdas/approval` without putting it on sys.path.

Plain module (unique name) shared by the tests and `bench/approval_callback.py`.
"""
from __future__ import annotations

import base64
import copy
import importlib.util
import json
import socket
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
APPROVAL_DIR = REPO / "lambdas" / "approval"
LAYER_DIR = REPO / "lambdas" / "layer" / "python"
EVENTS_DIR = Path(__file__).resolve().parent / "events"

PLATFORM = "bluegreen"
DOMAIN = "auth"
TABLE = "bluegreen-deployments"
CHANNEL = "C0APPROVALS"
DEPLOYMENT_ID = "d-ABCDEFGHI"
HOOK_ID = "eyJlbmNyeXB0ZWREYXRhIjoiZmFrZSIsIml2UGFyYW1ldGVyU3BlYyI6IngifQ=="
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token-not-real"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/auth:v2"
T0 = datetime(2030, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


# ---------------------------------------------------------------------------------------------
# loading the Lambda asset under unique module names


def load_approval_modules() -> dict[str, ModuleType]:
    """Import `approval_gate` (package) and the three handlers by file path, once per process.

    The handlers are registered as `approval_handler_request` etc., so they cannot clash with other
    Lambda directories' `handler`/`request` modules; `approval_gate` is unique to this asset.
    """
    if str(LAYER_DIR) not in sys.path and "bgruntime" not in sys.modules:
        sys.path.append(str(LAYER_DIR))
    # no __pycache__ inside the Lambda asset directory (it would end up in the CDK asset)
    previous, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        return _load()
    finally:
        sys.dont_write_bytecode = previous


def _load() -> dict[str, ModuleType]:
    if "approval_gate" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "approval_gate", APPROVAL_DIR / "approval_gate" / "__init__.py",
            submodule_search_locations=[str(APPROVAL_DIR / "approval_gate")])
        package = importlib.util.module_from_spec(spec)
        sys.modules["approval_gate"] = package
        spec.loader.exec_module(package)
    loaded = {}
    for name in ("request", "callback", "expiry"):
        unique = f"approval_handler_{name}"
        if unique not in sys.modules:
            spec = importlib.util.spec_from_file_location(unique, APPROVAL_DIR / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[unique] = module
            spec.loader.exec_module(module)
        loaded[name] = sys.modules[unique]
    return loaded


# ---------------------------------------------------------------------------------------------
# clock


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)

    def epoch(self) -> int:
        return int(self.current.timestamp())


# ---------------------------------------------------------------------------------------------
# Slack: a real HTTP server on 127.0.0.1, port 0


class FakeSlack:
    """Records every Web API call; per-method delays, `ok:false` errors and HTTP errors."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], str]] = []
        self.delays: dict[str, float] = {}
        self.errors: dict[str, str] = {}
        self.http_errors: dict[str, int] = {}
        self.usergroups: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._ts = 1900000000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                method = self.path.rstrip("/").rsplit("/", 1)[-1]
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw or b"{}")
                except ValueError:
                    payload = {"_raw": raw.decode("utf-8", "replace")}
                with fake._lock:
                    fake.calls.append((method, payload, self.headers.get("Authorization", "")))
                delay = fake.delays.get(method, 0)
                if delay:
                    time.sleep(delay)
                status = fake.http_errors.get(method)
                if status:
                    self.send_response(status)
                    self.end_headers()
                    return
                answer = fake.answer(method, payload)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout test)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def answer(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        if method in self.errors:
            return {"ok": False, "error": self.errors[method]}
        if method == "chat.postMessage":
            with self._lock:
                self._ts += 1
                ts = f"{self._ts}.000100"
            return {"ok": True, "channel": payload.get("channel"), "ts": ts, "message": {"text": payload.get("text")}}
        if method == "chat.update":
            return {"ok": True, "channel": payload.get("channel"), "ts": payload.get("ts")}
        if method == "usergroups.users.list":
            group = payload.get("usergroup")
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        if method == "users.info":
            return {"ok": True, "user": {"id": payload.get("user"), "name": "someone", "real_name": "Some One"}}
        return {"ok": False, "error": "unknown_method"}

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [payload for m, payload, _ in self.calls if m == method]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def dead_base_url() -> str:
    """A 127.0.0.1 URL where nothing listens (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


# ---------------------------------------------------------------------------------------------
# CodeDeploy: moto lacks PutLifecycleEventHookExecutionStatus; this fake is thread-safe and counts


def client_error(code: str, operation: str, message: str = "") -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message or code},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)


class FakeCodeDeploy:
    def __init__(self) -> None:
        self.deployments: dict[str, dict[str, Any]] = {}
        self.put_calls: list[dict[str, str]] = []
        self.get_calls = 0
        self.put_error: str | None = None  # e.g. "LifecycleEventAlreadyCompletedException"
        self.put_errors_remaining = 10 ** 9
        self._lock = threading.Lock()

    def add(self, deployment_id: str = DEPLOYMENT_ID, *, domain: str = DOMAIN, status: str = "InProgress",
            description: str | None = None, appspec: dict | str | None = None) -> None:
        name = f"{PLATFORM}-{domain}"
        info: dict[str, Any] = {
            "deploymentId": deployment_id, "applicationName": name, "deploymentGroupName": name,
            "status": status, "creator": "user", "createTime": T0 - timedelta(minutes=7),
            "description": description if description is not None else
            f"Deploy {domain} | requester=github:alice image={IMAGE} source=bgctl",
            "computePlatform": "ECS",
        }
        if appspec is not None:
            content = appspec if isinstance(appspec, str) else json.dumps(appspec)
            info["revision"] = {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}}
        with self._lock:
            self.deployments[deployment_id] = info

    def get_deployment(self, *, deploymentId: str) -> dict[str, Any]:  # noqa: N803 - boto3 names
        with self._lock:
            self.get_calls += 1
            if deploymentId not in self.deployments:
                raise client_error("DeploymentDoesNotExistException", "GetDeployment")
            return {"deploymentInfo": copy.deepcopy(self.deployments[deploymentId])}

    def list_deployments(self, *, applicationName: str, deploymentGroupName: str,  # noqa: N803
                         includeOnlyStatuses: list[str]) -> dict[str, Any]:
        with self._lock:
            if not any(d["applicationName"] == applicationName for d in self.deployments.values()):
                raise client_error("ApplicationDoesNotExistException", "ListDeployments")
            return {"deployments": [d["deploymentId"] for d in self.deployments.values()
                                    if d["applicationName"] == applicationName
                                    and d["deploymentGroupName"] == deploymentGroupName
                                    and d["status"] in includeOnlyStatuses]}

    def batch_get_deployments(self, *, deploymentIds: list[str]) -> dict[str, Any]:  # noqa: N803
        with self._lock:
            return {"deploymentsInfo": [copy.deepcopy(self.deployments[d]) for d in deploymentIds
                                        if d in self.deployments]}

    def put_lifecycle_event_hook_execution_status(self, *, deploymentId: str,  # noqa: N803
                                                  lifecycleEventHookExecutionId: str, status: str) -> dict[str, Any]:
        with self._lock:
            self.put_calls.append({"deploymentId": deploymentId, "hookId": lifecycleEventHookExecutionId,
                                   "status": status})
            if self.put_error and self.put_errors_remaining > 0:
                self.put_errors_remaining -= 1
                raise client_error(self.put_error, "PutLifecycleEventHookExecutionStatus")
            if deploymentId not in self.deployments:
                raise client_error("DeploymentDoesNotExistException", "PutLifecycleEventHookExecutionStatus")
            return {"lifecycleEventHookExecutionId": lifecycleEventHookExecutionId}


class FakeEvents:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        with self._lock:
            self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i, _ in enumerate(Entries)]}

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(e["Detail"]) for e in self.entries if e["DetailType"] == detail_type]


# ---------------------------------------------------------------------------------------------
# Slack interaction payloads and API Gateway events


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())


def block_actions_payload(*, user_id: str = "U0BOB", user_name: str = "bob", action_id: str = "approve",
                          deployment_id: str = DEPLOYMENT_ID, channel: str = CHANNEL,
                          message_ts: str = "1900000001.000100") -> dict[str, Any]:
    payload = load_event("slack_block_actions_payload.json")
    payload["user"].update({"id": user_id, "username": user_name, "name": user_name})
    payload["actions"][0].update({"action_id": action_id, "value": deployment_id})
    payload["container"].update({"channel_id": channel, "message_ts": message_ts})
    payload["channel"]["id"] = channel
    payload["message"]["ts"] = message_ts
    return payload


def form_body(payload: Any) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return urllib.parse.urlencode({"payload": text})


def sign(body: bytes | str, timestamp: int | str, secret: str = SIGNING_SECRET) -> str:
    from bgruntime.slack_signature import compute_signature

    return compute_signature(secret, timestamp, body)


def apigw_event(body: str | bytes | None, *, timestamp: int | None, secret: str | None = SIGNING_SECRET,
                base64_body: bool = False, signature: str | None = None,
                drop_headers: tuple[str, ...] = ()) -> dict[str, Any]:
    """An API Gateway REST proxy event as API Gateway sends it, signed like Slack signs it."""
    event = load_event("apigw_slack_interaction.json")
    raw = body.encode() if isinstance(body, str) else body
    headers = event["headers"]
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = str(timestamp)
        headers["X-Slack-Signature"] = signature or sign(raw or b"", timestamp, secret or SIGNING_SECRET)
    elif signature is not None:
        headers["X-Slack-Signature"] = signature
    for name in drop_headers:
        headers.pop(name, None)
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    if raw is not None:
        headers["Content-Length"] = str(len(raw))
    if base64_body:
        event["body"] = base64.b64encode(raw or b"").decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = raw.decode("utf-8", "surrogateescape") if raw is not None else None
        event["isBase64Encoded"] = False
    return event


def click_event(clock: Clock, **payload_args: Any) -> dict[str, Any]:
    return apigw_event(form_body(block_actions_payload(**payload_args)), timestamp=clock.epoch())


def response_json(response: dict[str, Any]) -> dict[str, Any]:
    return json.loads(response["body"])


# ---------------------------------------------------------------------------------------------
# AWS fixtures (inside mock_aws)

METADATA = {
    "schemaVersion": 1, "platform": PLATFORM, "domain": DOMAIN, "region": "eu-west-1",
    "cluster": "bluegreen-cluster", "service": "bluegreen-auth", "taskDefinitionFamily": "bluegreen-auth",
    "containerName": "app", "containerPort": 8080, "codeDeployApplication": "bluegreen-auth",
    "deploymentGroup": "bluegreen-auth", "endpoint": "http://auth.bluegreen.internal:8081",
    "testEndpoint": "http://auth.bluegreen.internal:9081", "auditTable": TABLE,
    "approval": {"required": True, "channel": CHANNEL, "approverUserIds": ["U0BOB", "U0ALICE"],
                 "approverGroupIds": ["S0RELEASE"], "expiryMinutes": 45},
    "smokeChecks": [],
}
PLATFORM_META = {"schemaVersion": 1, "platform": PLATFORM, "domains": ["auth", "order", "payment"],
                 "auditTable": TABLE, "slackIdentityMap": {"github:alice": "U0ALICE"},
                 "notificationChannel": "C0PLATFORM"}


def create_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "domain", "requestedAt")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "byDomain", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "domain", "KeyType": "HASH"},
                                               {"AttributeName": "requestedAt", "KeyType": "RANGE"}]}])


def put_parameters(ssm: Any, metadata: dict | None = None, platform_meta: dict | None = None) -> None:
    ssm.put_parameter(Name=f"/{PLATFORM}/domains/{DOMAIN}/deployment", Type="String", Overwrite=True,
                      Value=json.dumps(metadata or METADATA))
    ssm.put_parameter(Name=f"/{PLATFORM}/platform", Type="String", Overwrite=True,
                      Value=json.dumps(platform_meta or PLATFORM_META))


def pending_item(clock: Clock, deployment_id: str = DEPLOYMENT_ID, **overrides: Any) -> dict[str, Any]:
    """Arguments for `approvals.create_pending` (as the request hook would record them)."""
    args = dict(table_name=TABLE, deployment_id=deployment_id, hook_execution_id=HOOK_ID, domain=DOMAIN,
                application_name=f"{PLATFORM}-{DOMAIN}", deployment_group_name=f"{PLATFORM}-{DOMAIN}",
                requester="github:alice", requester_slack_id="U0ALICE", image=IMAGE,
                requested_at=clock(), expires_at=clock() + timedelta(minutes=45),
                approver_user_ids=["U0BOB", "U0ALICE"], approver_group_ids=["S0RELEASE"])
    args.update(overrides)
    return args
