"""A deploy API (docs/deploy-api.md) on 127.0.0.1 for the bgctl tests: a real HTTP server that checks the
SigV4 Authorization header, then acts as the registrar (builds the AppSpec from the published metadata and
creates the deployment in moto's CodeDeploy, or asks a simulator), or answers what a test scripted."""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

SIGV4 = re.compile(r"^AWS4-HMAC-SHA256 Credential=(?P<key>[A-Z0-9]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/"
                   r"(?P<service>[a-z-]+)/aws4_request, SignedHeaders=(?P<headers>[a-z0-9;-]+), "
                   r"Signature=(?P<signature>[0-9a-f]{64})$")


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class Scripted:
    status: int
    document: Any = None
    raw: bytes | None = None
    hang: bool = False


@dataclass
class DeployApiFake:
    """`url` for the platform parameter; `calls` as received; `script` answers first, else `registrar(body)`."""

    region: str = "eu-west-1"
    registrar: Callable[[dict[str, Any]], tuple[int, Any]] | None = None
    calls: list[Call] = field(default_factory=list)
    script: list[Scripted] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, document: Any = None, raw: bytes | None = None) -> None:
                body = raw if raw is not None else json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if raw is None else "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                fake.calls.append(Call("POST", self.path, dict(self.headers), body))
                problem = fake.signature_problem(dict(self.headers))
                if problem:
                    self._answer(403, {"message": problem})
                    return
                if fake.script:
                    step = fake.script.pop(0)
                    if step.hang:
                        fake.release.wait(30)
                        return
                    self._answer(step.status, step.document, step.raw)
                    return
                if fake.registrar is None or not self.path.endswith("/deployments"):
                    self._answer(404, {"error": {"code": "not_found", "message": self.path}})
                    return
                status, document = fake.registrar(body or {})
                self._answer(status, document)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1/"

    def signature_problem(self, headers: dict[str, str]) -> str | None:
        """What API Gateway's AWS_IAM authorization would reject, as its message (None: well-formed)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        match = SIGV4.match(lowered.get("authorization", ""))
        if not match:
            return "Missing Authentication Token"
        if (match["service"], match["region"]) != ("execute-api", self.region):
            return f"Credential should be scoped to correct service/region: {match['service']}/{match['region']}"
        signed = match["headers"].split(";")
        if not {"host", "x-amz-date", "content-type"} <= set(signed) or "x-amz-date" not in lowered:
            return "Signature must cover host, content-type and x-amz-date"
        if not re.fullmatch(r"\d{8}T\d{6}Z", lowered["x-amz-date"]) or lowered["x-amz-date"][:8] != match["date"]:
            return "X-Amz-Date is malformed"
        return None

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def moto_registrar(platform: str = "bluegreen", region: str = "eu-west-1") -> Callable[[dict[str, Any]], tuple[int, Any]]:
    """The registrar's behaviour over moto: AppSpec from SSM metadata, one deployment per group in flight."""
    from bgctl import appspec, description
    from bgctl.progress import IN_FLIGHT_STATUSES
    from bgctl_testkit import client

    def register(body: dict[str, Any]) -> tuple[int, Any]:
        domain = body.get("domain")
        ssm, codedeploy = client("ssm"), client("codedeploy")
        try:
            metadata = json.loads(ssm.get_parameter(Name=f"/{platform}/domains/{domain}/deployment")["Parameter"]["Value"])
        except Exception:  # noqa: BLE001
            return 404, {"error": {"code": "unknown_domain", "message": f"no domain {domain!r}"}}
        family = metadata["taskDefinitionFamily"]
        if f"task-definition/{family}:" not in str(body.get("taskDefinitionArn")):
            return 400, {"error": {"code": "bad_request", "message": f"taskDefinitionArn is not a revision of {family}"}}
        running = codedeploy.list_deployments(applicationName=metadata["codeDeployApplication"],
                                              deploymentGroupName=metadata["deploymentGroup"],
                                              includeOnlyStatuses=list(IN_FLIGHT_STATUSES))["deployments"]
        if running:
            return 409, {"error": {"code": "deployment_in_flight", "message": f"{running[0]} is in flight"},
                         "deploymentId": running[0]}
        spec = appspec.build(task_definition_arn=body["taskDefinitionArn"], container_name=metadata["containerName"],
                             container_port=metadata["containerPort"], hooks=metadata.get("hooks") or {})
        deployment_id = codedeploy.create_deployment(
            applicationName=metadata["codeDeployApplication"], deploymentGroupName=metadata["deploymentGroup"],
            revision=appspec.revision(spec),
            description=description.build(str(body.get("reason") or "deploy"),
                                           {"kind": str(body.get("kind")), "source": str(body.get("source"))}),
        )["deploymentId"]
        return 201, {"deploymentId": deployment_id,
                     "requester": {"principalArn": "arn:aws:sts::123456789012:assumed-role/deploy/alice",
                                   "githubActor": "alice" if body.get("githubOidcToken") else None,
                                   "verifiedBy": ["iam", "github-oidc"] if body.get("githubOidcToken") else ["iam"]},
                     "consoleUrl": f"https://{region}.console.aws.amazon.com/codesuite/codedeploy/deployments/"
                                   f"{deployment_id}?region={region}"}

    return register
