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
DEPLOY_API_DIR = REPO / "lambdas" / "deploy_api"
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
TEAM = "T0TEAM"
APP_ID = "A0APPROVAL"
MESSAGE_TS = "1900000001.000100"


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
    for name in ("request", "callback", "expiry", "worker"):
        unique = f"approval_handler_{name}"
        if unique not in sys.modules:
            spec = importlib.util.spec_from_file_location(unique, APPROVAL_DIR / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[unique] = module
            spec.loader.exec_module(module)
        loaded[name] = sys.modules[unique]
    return loaded


def load_registrar() -> ModuleType:
    """`lambdas/deploy_api/registrar.py` as module `registrar` (unique in the repository)."""
    load_approval_modules()  # puts the layer on sys.path
    if "registrar" not in sys.modules:
        spec = importlib.util.spec_from_file_location("registrar", DEPLOY_API_DIR / "registrar.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["registrar"] = module
        spec.loader.exec_module(module)
    return sys.modules["registrar"]


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
            return {"ok": True, "channel": payload.get("channel"), "ts": ts,
                    "message": {"text": payload.get("text"), "team": TEAM, "app_id": APP_ID, "bot_id": "B0BOT"}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": "1900000099.000100"}
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
        self.create_calls: list[dict[str, Any]] = []
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

    def create_deployment(self, **request: Any) -> dict[str, Any]:
        with self._lock:
            self.create_calls.append(request)
            deployment_id = f"d-NEW{len(self.create_calls):06d}"
        domain = request["applicationName"].split("-", 1)[1]
        self.add(deployment_id, domain=domain, status="InProgress", description=request.get("description", ""),
                 appspec=request["revision"]["appSpecContent"]["content"])
        with self._lock:
            self.deployments[deployment_id]["creator"] = "user"
            if request.get("deploymentConfigName"):
                self.deployments[deployment_id]["deploymentConfigName"] = request["deploymentConfigName"]
        return {"deploymentId": deployment_id}

    def get_deployment(self, *, deploymentId: str) -> dict[str, Any]:  # noqa: N803 - boto3 names
        with self._lock:
            self.get_calls += 1
            if deploymentId not in self.deployments:
                raise client_error("DeploymentDoesNotExistException", "GetDeployment")
            return {"deploymentInfo": copy.deepcopy(self.deployments[deploymentId])}

    def list_deployments(self, *, applicationName: str, deploymentGroupName: str,  # noqa: N803
                         includeOnlyStatuses: list[str], nextToken: str | None = None) -> dict[str, Any]:
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


def request_record(clock: Clock, deployment_id: str = DEPLOYMENT_ID, **overrides: Any) -> dict[str, Any]:
    """The `APPROVAL` record as the request hook writes it (alice requested; bob, alice and S0RELEASE approve)."""
    from bgruntime import approvals

    now = clock()
    expires = now + timedelta(minutes=45)
    attrs: dict[str, Any] = dict(
        domain=DOMAIN, hookExecutionId=HOOK_ID, applicationName=f"{PLATFORM}-{DOMAIN}",
        deploymentGroupName=f"{PLATFORM}-{DOMAIN}", requester="github:alice", requesterSlackId="U0ALICE",
        requesterSource="registrar", image=IMAGE, requestedAt=approvals.iso(now), expiresAt=approvals.iso(expires),
        expiresAtEpoch=int(expires.timestamp()), status="PENDING", approverUserIds=["U0BOB", "U0ALICE"],
        approverGroupIds=["S0RELEASE"], requiredApprovals=1, blocked=False, channel=CHANNEL)
    attrs.update(overrides)
    return approvals.record(deployment_id, approvals.APPROVAL_SK, "request", now,
                            **{k: v for k, v in attrs.items() if v is not None})


def registration_record(clock: Clock, deployment_id: str = DEPLOYMENT_ID, *, github_actor: str | None = "alice",
                        principal: str = "arn:aws:sts::123456789012:assumed-role/bluegreen-deploy-org-app/run-1",
                        source: str = "github-actions", kind: str = "release", **overrides: Any) -> dict[str, Any]:
    """The deploy API's `REGISTERED` record (default: a GitHub Actions run by alice, token verified)."""
    from bgruntime import approvals

    requester: dict[str, Any] = {"principalArn": principal, "accountId": "123456789012",
                                 "verifiedBy": ["iam", "github-oidc"] if github_actor else ["iam"]}
    if github_actor:
        requester.update(githubActor=github_actor, githubRepository="org/app", githubRunId="42")
    attrs: dict[str, Any] = dict(domain=DOMAIN, kind=kind, requestedAt=approvals.iso(clock()), requester=requester,
                                 source=source, reason="release v2",
                                 taskDefinitionArn="arn:aws:ecs:eu-west-1:123456789012:task-definition/bluegreen-auth:2")
    attrs.update(overrides)
    return approvals.record(deployment_id, approvals.REGISTERED_SK, "registration", clock(),
                            **{k: v for k, v in attrs.items() if v is not None})


def message_record(clock: Clock, deployment_id: str = DEPLOYMENT_ID, **overrides: Any) -> dict[str, Any]:
    from bgruntime import approvals

    attrs = dict(channel=CHANNEL, ts=MESSAGE_TS, team=TEAM, appId=APP_ID)
    attrs.update(overrides)
    return approvals.record(deployment_id, approvals.MESSAGE_SK, "message", clock(),
                            **{k: v for k, v in attrs.items() if v is not None})


def seed_request(dynamodb: Any, clock: Clock, deployment_id: str = DEPLOYMENT_ID, *, message: bool = True,
                 **overrides: Any) -> None:
    from bgruntime import approvals

    approvals.put_record(table_name=TABLE, record=request_record(clock, deployment_id, **overrides), dynamodb=dynamodb)
    if message:
        approvals.put_record(table_name=TABLE, record=message_record(clock, deployment_id), dynamodb=dynamodb)


def all_records(dynamodb: Any, deployment_id: str = DEPLOYMENT_ID) -> list[dict[str, Any]]:
    from bgruntime import approvals

    answer = dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :pk", ConsistentRead=True,
                            ExpressionAttributeValues={":pk": {"S": f"DEPLOYMENT#{deployment_id}"}})
    return [approvals.from_item(i) for i in answer["Items"]]


def records_of(dynamodb: Any, prefix: str, deployment_id: str = DEPLOYMENT_ID) -> list[dict[str, Any]]:
    return [r for r in all_records(dynamodb, deployment_id) if str(r["sk"]).startswith(prefix)]


def stream_event(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A DynamoDB stream batch (INSERTs, NEW_IMAGE) as the event source mapping delivers it."""
    from bgruntime import approvals

    return {"Records": [{"eventID": str(n), "eventName": "INSERT", "eventSource": "aws:dynamodb",
                         "dynamodb": {"Keys": {"pk": {"S": i["pk"]}, "sk": {"S": i["sk"]}},
                                      "NewImage": approvals.to_item(i), "SequenceNumber": f"{n:021d}",
                                      "StreamViewType": "NEW_IMAGE"}} for n, i in enumerate(items, 1)]}


class Stream:
    """Feeds every record written since the last call to the worker, in write order (a stand-in for the
    table's stream + event source mapping)."""

    def __init__(self, dynamodb: Any) -> None:
        self.dynamodb = dynamodb
        self.seen: set[tuple[str, str]] = set()

    def pending(self) -> list[dict[str, Any]]:
        from bgruntime import approvals

        items = [approvals.from_item(i) for i in self.dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]]
        fresh = [i for i in items if (i["pk"], i["sk"]) not in self.seen]
        return sorted(fresh, key=lambda i: (str(i.get("recordedAt", "")), i["sk"]))

    def drain(self, runtime: Any, worker: Any) -> dict[str, Any]:
        items = self.pending()
        self.seen.update((i["pk"], i["sk"]) for i in items)
        return worker.handle(stream_event(items), runtime) if items else {"batchItemFailures": []}


class FakeCloudTrail:
    """LookupEvents answers: events keyed by resource name (moto has no event history)."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[dict[str, Any]] = []

    def add_stack_update(self, resource_name: str, *, arn: str, at: datetime, event_name: str = "ExecuteChangeSet",
                         identity_type: str = "AssumedRole") -> None:
        detail = {"eventName": event_name, "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "userIdentity": {"type": identity_type, "arn": arn}}
        self.events.setdefault(resource_name, []).append(
            {"EventName": event_name, "EventTime": at, "CloudTrailEvent": json.dumps(detail)})

    def lookup_events(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        name = kwargs["LookupAttributes"][0]["AttributeValue"]
        return {"Events": [e for e in self.events.get(name, [])
                           if kwargs["StartTime"] <= e["EventTime"] <= kwargs["EndTime"]]}
