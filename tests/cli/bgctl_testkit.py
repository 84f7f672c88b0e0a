"""Helpers for the bgctl tests: constants, a moto-backed platform, an instant clock, the CLI runner, golden files.

A uniquely named plain module (not conftest) so `from bgctl_testkit import ...` is unambiguous."""
from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REGION = "eu-west-1"
ACCOUNT = "123456789012"
PLATFORM = "bluegreen"
START = datetime(2026, 3, 2, 10, 0, 0, tzinfo=timezone.utc)
GOLDEN = Path(__file__).parent / "golden"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
HOOK_SMOKE = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:CodeDeployHook_{PLATFORM}_smoke-tests"
HOOK_APPROVAL = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:CodeDeployHook_{PLATFORM}_approval-request"
AUDIT_TABLE = f"{PLATFORM}-deployments"
DEPLOY_API_URL = f"https://abc123.execute-api.{REGION}.amazonaws.com/v1/"


class FakeClock:
    """`clock()` returns the current fake time; `sleep(s)` advances it (tests never really sleep)."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.on_sleep: Any = None

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        """Seconds since the start (the retry budget is measured on it)."""
        return (self.now - START).total_seconds()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line]


@dataclass
class Cli:
    clock: FakeClock = field(default_factory=FakeClock)
    overrides: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    width: int = 100
    timer: Any = field(default=lambda seconds, callback: (lambda: None))  # no slow-call notices on a fake clock

    def __call__(self, *argv: str, env: dict[str, str] | None = None, stdout: Any = None) -> Result:
        from bgctl.context import Runtime
        from bgctl.main import main

        out = stdout if stdout is not None else io.StringIO()
        err = io.StringIO()
        merged = dict(os.environ)
        merged.update(self.env)
        merged.update(env or {})
        runtime = Runtime(env=merged, stdout=out, stderr=err, clock=self.clock, sleep=self.clock.sleep,
                          width=self.width, client_overrides=self.overrides, monotonic=self.clock.monotonic,
                          timer=self.timer, rand=lambda: 0.5)
        code = main(list(argv), runtime=runtime)
        return Result(code=code, out=out.getvalue(), err=err.getvalue())




def domain_metadata(domain: str, **overrides: Any) -> dict[str, Any]:
    name = f"{PLATFORM}-{domain}"
    data = {
        "schemaVersion": 1, "platform": PLATFORM, "domain": domain, "region": REGION,
        "cluster": f"{PLATFORM}-cluster", "service": name, "taskDefinitionFamily": name,
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{name}:1",
        "containerName": "app", "containerPort": 8080,
        "codeDeployApplication": name, "deploymentGroup": name,
        "prodListenerArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/x/1/8081",
        "testListenerArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/x/1/9081",
        "targetGroups": [f"{name}-blue", f"{name}-green"],
        "endpoint": f"http://{domain}.{PLATFORM}.internal:8081",
        "testEndpoint": f"http://{domain}.{PLATFORM}.internal:9081",
        "hooks": {"AfterAllowTestTraffic": HOOK_SMOKE, "BeforeAllowTraffic": HOOK_APPROVAL},
        "ecrRepository": f"{REGISTRY}/{PLATFORM}/{domain}",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{name}-task",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{name}-exec",
        "auditTable": AUDIT_TABLE,
        "approval": {"required": True, "channel": "C0123", "approverUserIds": ["U1"], "approverGroupIds": [],
                     "expiryMinutes": 45},
        "smokeChecks": [{"name": "health", "method": "GET", "path": "/health", "headers": {}, "body": None,
                         "expectStatus": 200, "expectJson": {"status": "ok"}, "latencyBudgetMs": 1000,
                         "kind": "http"}],
    }
    data.update(overrides)
    return data


_SESSION: Any = None


def client(service: str) -> Any:
    """A fresh boto3 client for test set-up and Stubbers, from one session per test process (sharing bgctl's
    model loader, so service models are parsed once)."""
    global _SESSION
    if _SESSION is None:
        from bgctl.aws import _new_session

        _SESSION = _new_session(REGION, None)
    return _SESSION.client(service)


def create_audit_table(dynamodb: Any) -> None:
    """The platform's audit table as docs/contracts.md describes it (keys pk/sk, GSI byDomain)."""
    dynamodb.create_table(
        TableName=AUDIT_TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                              for n in ("pk", "sk", "domain", "requestedAt")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "byDomain", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "domain", "KeyType": "HASH"},
                                               {"AttributeName": "requestedAt", "KeyType": "RANGE"}]}])


_DECISION_FIELDS = ("status", "decidedBy", "decidedVia", "decidedAt", "reason", "rule")


def audit_records(deployment_id: str, *, approval: dict[str, Any] | None,
                  smoke: dict[str, Any] | None, domain: str = "auth") -> list[dict[str, Any]]:
    """What the platform writes for a scenario's approval and smoke result (docs/approvals.md): the
    append-only APPROVAL request (stays PENDING), a DECISION record once decided, and the smoke
    hook's `SMOKE#<id>` / `RESULT` record in its own key space."""
    records: list[dict[str, Any]] = []
    base = {"domain": domain, "deploymentId": deployment_id}
    if approval:
        request = {k: v for k, v in approval.items() if k not in _DECISION_FIELDS}
        records.append({"pk": f"DEPLOYMENT#{deployment_id}", "sk": "APPROVAL", **base, **request,
                        "status": "PENDING"})
        if approval.get("status", "PENDING") != "PENDING":
            decision = {k: approval[k] for k in _DECISION_FIELDS if k in approval}
            records.append({"pk": f"DEPLOYMENT#{deployment_id}", "sk": "DECISION", **base, **decision})
    if smoke:
        records.append({"pk": f"SMOKE#{deployment_id}", "sk": "RESULT", **base, **smoke})
    return records


def put_audit_item(dynamodb: Any, item: dict[str, Any]) -> None:
    from bgruntime.approvals import to_attr

    dynamodb.put_item(TableName=AUDIT_TABLE, Item={k: to_attr(v) for k, v in item.items()})


class Platform:
    """A deployed platform in moto: SSM metadata, ECS service, ECR image, CodeDeploy group, audit table.

    All `domains` are listed in the platform parameter; only `deployed` ones get their stack resources
    (`add_domain` deploys another one later).
    """

    def __init__(self, domains: tuple[str, ...] = ("auth", "order"), deployed: tuple[str, ...] = ("auth",),
                 deploy_api_url: str | None = DEPLOY_API_URL) -> None:
        self.domains = domains
        self.ssm = client("ssm")
        self.ecs = client("ecs")
        self.ecr = client("ecr")
        self.codedeploy = client("codedeploy")
        self.dynamodb = client("dynamodb")
        self.ssm.put_parameter(Name=f"/{PLATFORM}/platform", Type="String", Value=json.dumps({
            "schemaVersion": 1, "platform": PLATFORM, "domains": list(domains), "auditTable": AUDIT_TABLE,
            "slackIdentityMap": {"github:alice": "U0ALICE"}, "notificationChannel": "C0PLATFORM",
            **({"deployApiUrl": deploy_api_url} if deploy_api_url else {})}))
        self.ecs.create_cluster(clusterName=f"{PLATFORM}-cluster")
        create_audit_table(self.dynamodb)
        self.task_definitions: dict[str, str] = {}
        for domain in deployed:
            self.add_domain(domain)

    def add_domain(self, domain: str) -> None:
        name = f"{PLATFORM}-{domain}"
        self.ssm.put_parameter(Name=f"/{PLATFORM}/domains/{domain}/deployment", Type="String",
                               Value=json.dumps(domain_metadata(domain)))
        arn = self.register(domain, image=f"{REGISTRY}/{PLATFORM}/{domain}:v1")
        self.ecs.create_service(cluster=f"{PLATFORM}-cluster", serviceName=name, taskDefinition=arn, desiredCount=2,
                                deploymentController={"type": "CODE_DEPLOY"}, launchType="FARGATE")
        self.ecs.create_task_set(cluster=f"{PLATFORM}-cluster", service=name, taskDefinition=arn,
                                 launchType="FARGATE")
        self.ecr.create_repository(repositoryName=f"{PLATFORM}/{domain}")
        for tag in ("v2", "abc123"):
            self.push(domain, tag)
        self.codedeploy.create_application(applicationName=name, computePlatform="ECS")
        self.codedeploy.create_deployment_group(
            applicationName=name, deploymentGroupName=name, serviceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/cd",
            deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
            ecsServices=[{"serviceName": name, "clusterName": f"{PLATFORM}-cluster"}])
        self.task_definitions[domain] = arn

    def register(self, domain: str, *, image: str, env: list[dict[str, str]] | None = None) -> str:
        name = f"{PLATFORM}-{domain}"
        answer = self.ecs.register_task_definition(
            family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512", memory="1024",
            taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}-task",
            executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}-exec",
            containerDefinitions=[
                {"name": "app", "image": image, "essential": True, "portMappings": [{"containerPort": 8080}],
                 "environment": env if env is not None else [{"name": "LOG_LEVEL", "value": "info"},
                                                              {"name": "FEATURE_X", "value": "off"}],
                 "secrets": [{"name": "DB_PASSWORD", "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:"
                                                                  "secret:db-AbCdEf"}]},
                {"name": "appconfig-agent", "image": "public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x",
                 "essential": False, "portMappings": [{"containerPort": 2772}]},
            ],
            tags=[{"key": "platform", "value": PLATFORM}, {"key": "domain", "value": domain}])
        return str(answer["taskDefinition"]["taskDefinitionArn"])

    def push(self, domain: str, tag: str) -> None:
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                               "config": {"digest": f"sha256:{tag}"}, "layers": []})
        self.ecr.put_image(repositoryName=f"{PLATFORM}/{domain}", imageManifest=manifest, imageTag=tag)

    def image(self, domain: str, tag: str = "abc123") -> str:
        return f"{REGISTRY}/{PLATFORM}/{domain}:{tag}"

    def set_status(self, deployment_id: str, status: str) -> None:
        """moto keeps deployments `Created`; tests move them on."""
        from moto.codedeploy.models import codedeploy_backends

        codedeploy_backends[ACCOUNT][REGION].deployments[deployment_id].status = status




def golden(name: str, text: str) -> None:
    """Compare with tests/cli/golden/<name>; BGCTL_UPDATE_GOLDEN=1 (re)writes the file instead."""
    path = GOLDEN / name
    if os.environ.get("BGCTL_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8", newline="")
        return
    assert path.exists(), f"golden/{name} is missing: run with BGCTL_UPDATE_GOLDEN=1 and review it"
    with path.open(encoding="utf-8", newline="") as handle:
        expected = handle.read()
    assert text == expected, f"output differs from golden/{name} (BGCTL_UPDATE_GOLDEN=1)"


class AwsJsonEndpoint:
    """A real HTTP server speaking the AWS JSON protocol (X-Amz-Target) on 127.0.0.1, for what neither moto nor
    Stubber can show: real sockets, real botocore parsing of odd answers (HTML error pages), timeouts.

    `handlers[operation](body) -> (status, dict | bytes)`; point a service at it with AWS_ENDPOINT_URL_<SERVICE>.
    """

    def __init__(self, handlers: dict[str, Any]) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        endpoint = self
        self.handlers = handlers
        self.calls: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = str(self.headers.get("X-Amz-Target", "")).rsplit(".", 1)[-1]
                endpoint.calls.append(operation)
                handler = endpoint.handlers.get(operation)
                status, answer = handler(json.loads(body or b"{}")) if handler else (
                    400, {"__type": "UnknownOperationException", "message": operation})
                raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if isinstance(answer, bytes)
                                 else "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
