"""`bgctl approve|reject`: the break-glass decision through the deploy API, under the Slack rules.

The deploy API runs as a real HTTP server on 127.0.0.1 that checks the request's SigV4 signature
(re-signed with botocore and compared) and hands the request, shaped as API Gateway with AWS_IAM
authorization would, to the real registrar (moto DynamoDB/SSM, a counting CodeDeploy fake)."""
from __future__ import annotations

import importlib.util
import json
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bgctl_testkit import ACCOUNT, AUDIT_TABLE, PLATFORM, START, Cli, client, create_audit_table

DEPLOYMENT = "d-APPROVE01"
REPO = Path(__file__).resolve().parents[2]
#: moto's STS identity for the "testing" access key, as API Gateway would report it
CALLER = f"arn:aws:iam::{ACCOUNT}:user/bob"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
pytestmark = pytest.mark.usefixtures("platform_params")


def _registrar() -> Any:
    if "registrar" not in sys.modules:
        spec = importlib.util.spec_from_file_location("registrar", REPO / "lambdas" / "deploy_api" / "registrar.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["registrar"] = module
        spec.loader.exec_module(module)
    return sys.modules["registrar"]


class CountingCodeDeploy:
    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.errors: list[str] = []

    def put_lifecycle_event_hook_execution_status(self, **kwargs: str) -> dict[str, str]:
        self.calls.append(kwargs)
        if self.errors:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": self.errors.pop(0), "Message": "x"}},
                              "PutLifecycleEventHookExecutionStatus")
        return {"lifecycleEventHookExecutionId": kwargs["lifecycleEventHookExecutionId"]}


class DeployApi:
    """127.0.0.1 stand-in for API Gateway + AWS_IAM: verifies SigV4, then invokes the registrar."""

    def __init__(self, ctx: Any, caller_arn: str) -> None:
        self.ctx, self.caller_arn, self.requests = ctx, caller_arn, []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, body = api.handle(self.path, dict(self.headers.items()), raw)
                data = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        self.requests.append((path, headers, raw))
        import boto3

        headers = {k.lower(): v for k, v in headers.items()}
        auth = headers.get("authorization", "")
        frozen = boto3.Session().get_credentials().get_frozen_credentials()  # the caller's (moto's) credentials
        if not auth.startswith(f"AWS4-HMAC-SHA256 Credential={frozen.access_key}/") or \
                "/eu-west-1/execute-api/aws4_request" not in auth:
            return 403, {"message": "Missing Authentication Token"}
        resigned = AWSRequest(method="POST", url=f"http://{headers['host']}{path}", data=raw, headers={
            "Content-Type": headers["content-type"], "X-Amz-Date": headers["x-amz-date"],
            "X-Amz-Security-Token": headers.get("x-amz-security-token", "")})
        resigned.context["timestamp"] = headers["x-amz-date"]  # the client's own signing time
        signer = SigV4Auth(Credentials(frozen.access_key, frozen.secret_key, frozen.token), "execute-api",
                           "eu-west-1")
        expected = signer.signature(signer.string_to_sign(resigned, signer.canonical_request(resigned)), resigned)
        if expected != auth.split("Signature=")[1]:
            return 403, {"message": "The request signature we calculated does not match"}
        deployment_id = path.split("/")[3]
        event = {"resource": "/deployments/{deploymentId}/decisions", "httpMethod": "POST", "body": raw.decode(),
                 "isBase64Encoded": False, "pathParameters": {"deploymentId": deployment_id},
                 "requestContext": {"identity": {"userArn": self.caller_arn, "accountId": ACCOUNT,
                                                 "caller": "AIDAEXAMPLE"}}}
        answer = _registrar().handle(event, self.ctx)
        return answer["statusCode"], answer["body"]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def world(cli: Cli, clock: Any) -> Any:
    from bgruntime import approvals

    dynamodb, ssm = client("dynamodb"), client("ssm")
    create_audit_table(dynamodb)
    now = START - timedelta(minutes=5)
    approvals.put_record(table_name=AUDIT_TABLE, dynamodb=dynamodb, record=approvals.record(
        DEPLOYMENT, "APPROVAL", "request", now, domain="auth", hookExecutionId="hook-exec-1",
        applicationName="bluegreen-auth", requester="github:alice", requesterSlackId="U0ALICE",
        requestedAt=approvals.iso(now), expiresAt=approvals.iso(START + timedelta(minutes=40)),
        expiresAtEpoch=int((START + timedelta(minutes=40)).timestamp()), status="PENDING",
        approverUserIds=["U0BOB", "U0ALICE"], approverGroupIds=[], requiredApprovals=1))
    codedeploy = CountingCodeDeploy()
    ctx = _registrar().Context(platform=PLATFORM, table=AUDIT_TABLE, region="eu-west-1", ssm=ssm, dynamodb=dynamodb,
                               codedeploy=codedeploy, jwks=None, clock=clock)
    server = DeployApi(ctx, CALLER)
    platform = json.loads(ssm.get_parameter(Name=f"/{PLATFORM}/platform")["Parameter"]["Value"])
    platform.update(deployApiUrl=server.url, slackIdentityMap={f"iam:{CALLER}": "U0BOB", f"iam:{ALICE}": "U0ALICE"})
    ssm.put_parameter(Name=f"/{PLATFORM}/platform", Type="String", Overwrite=True, Value=json.dumps(platform))

    class World:
        pass

    w = World()
    w.dynamodb, w.codedeploy, w.server = dynamodb, codedeploy, server
    w.state = lambda: approvals.load_state(table_name=AUDIT_TABLE, deployment_id=DEPLOYMENT, dynamodb=dynamodb)
    yield w
    server.close()


@pytest.mark.parametrize(("command", "decision", "cd_status"), [("approve", "APPROVED", "Succeeded"),
                                                                ("reject", "REJECTED", "Failed")])
def test_decision_goes_through_the_signed_deploy_api(cli: Cli, world: Any, command: str, decision: str,
                                                     cd_status: str) -> None:
    result = cli(command, DEPLOYMENT, "--reason", "  Slack is down;  INC-7  ")
    assert result.code == 0, result.err
    state = world.state()
    assert state.decision["status"] == decision
    assert state.decision["decidedBy"] == {"slackUserId": "U0BOB", "iamArn": CALLER, "name": "bob"}
    assert (state.decision["decidedVia"], state.decision["reason"]) == ("cli", "Slack is down; INC-7")
    assert state.decision["decidedAt"] == "2026-03-02T10:00:00Z"
    assert world.codedeploy.calls == [{"deploymentId": DEPLOYMENT, "lifecycleEventHookExecutionId": "hook-exec-1",
                                       "status": cd_status}]
    assert f"follow the deployment with: bgctl watch {DEPLOYMENT}" in result.out and result.err == ""
    [(path, headers, _)] = world.server.requests
    assert path == f"/v1/deployments/{DEPLOYMENT}/decisions" and headers["Authorization"].startswith("AWS4-HMAC")
    forged = {**headers, "Authorization": headers["Authorization"][:-4] + "0000"}
    assert world.server.handle(path, forged, b"{}")[0] == 403  # the stand-in really checks the signature


def test_the_requester_cannot_approve_from_the_cli(cli: Cli, world: Any) -> None:
    world.server.caller_arn = ALICE
    result = cli("approve", DEPLOYMENT, "--reason", "it's fine")
    assert result.code == 3 and "you cannot approve it" in result.err and "[self_approval]" in result.err
    assert world.state().decision is None and world.codedeploy.calls == []
    [refused] = world.state().events
    assert (refused["code"], refused["via"], refused["actor"]["iamArn"]) == ("self_approval", "cli", ALICE)
    assert cli("reject", DEPLOYMENT, "--reason", "withdrawn").code == 0  # rejecting your own is allowed


def test_unmapped_caller_is_not_an_approver(cli: Cli, world: Any) -> None:
    world.server.caller_arn = f"arn:aws:iam::{ACCOUNT}:user/mallory"
    result = cli("approve", DEPLOYMENT, "--reason", "trust me")
    assert result.code == 3 and "[unauthorized]" in result.err and world.codedeploy.calls == []


def test_second_decision_changes_nothing(cli: Cli, world: Any) -> None:
    assert cli("approve", DEPLOYMENT, "--reason", "first").code == 0
    result = cli("reject", DEPLOYMENT, "--reason", "second")
    assert result.code == 3 and len(result.err_lines) == 1 and "was already approved" in result.err
    assert world.state().status == "APPROVED" and len(world.codedeploy.calls) == 1


def test_partial_exits_9_and_resend_delivers(cli: Cli, world: Any) -> None:
    world.codedeploy.errors = ["ThrottlingException"]
    result = cli("approve", DEPLOYMENT, "--reason", "go")
    assert result.code == 9 and "--resend" in result.err and "ERROR:ThrottlingException" in result.err
    assert world.state().status == "APPROVED" and not world.state().delivered
    again = cli("approve", DEPLOYMENT, "--reason", "go", "--resend")
    assert again.code == 0 and "told Succeeded" in again.out
    assert world.state().delivered and len(world.codedeploy.calls) == 2


def test_unknown_deployment_is_a_usage_error(cli: Cli, world: Any) -> None:
    result = cli("approve", "d-NOTFOUND1", "--reason", "x")
    assert result.code == 2 and "No approval request exists" in result.err


def test_expired_request(cli: Cli, world: Any, clock: Any) -> None:
    clock.now += timedelta(minutes=41)
    result = cli("approve", DEPLOYMENT, "--reason", "late")
    assert result.code == 3 and "[expired]" in result.err and world.codedeploy.calls == []


def test_unreachable_api_is_an_aws_error(cli: Cli, world: Any) -> None:
    world.server.close()
    result = cli("approve", DEPLOYMENT, "--reason", "x")
    assert result.code == 7 and "deploy API" in result.err


def test_missing_deploy_api_url(cli: Cli, world: Any) -> None:
    ssm = client("ssm")
    ssm.put_parameter(Name=f"/{PLATFORM}/platform", Type="String", Overwrite=True, Value=json.dumps({
        "schemaVersion": 1, "platform": PLATFORM, "domains": ["auth"], "auditTable": AUDIT_TABLE}))
    result = cli("approve", DEPLOYMENT, "--reason", "x")
    assert result.code == 7 and "no deployApiUrl" in result.err


@pytest.mark.parametrize("argv", [("approve", DEPLOYMENT), ("approve", "DEPLOYMENT#x", "--reason", "x"),
                                  ("approve", DEPLOYMENT, "--reason", "")])
def test_bad_arguments(cli: Cli, world: Any, argv: tuple[str, ...]) -> None:
    assert cli(*argv).code == 2 and world.server.requests == []


def test_history_shows_the_whole_story(cli: Cli, world: Any) -> None:
    world.server.caller_arn = ALICE
    cli("approve", DEPLOYMENT, "--reason", "mine")
    world.server.caller_arn = CALLER
    cli("approve", DEPLOYMENT, "--reason", "reviewed")
    result = cli("approvals", "--history", DEPLOYMENT)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    records = [line.split()[1] for line in lines[1:]]
    assert records[0] == "APPROVAL" and sorted(records[1:]) == ["CODEDEPLOY", "DECISION", "EVENT", "VOTE"]
    assert "refused approved: self_approval" in result.out and "CodeDeploy told Succeeded: OK" in result.out
    as_json = json.loads(cli("approvals", "--history", DEPLOYMENT, "--json").out)["data"]
    assert [r["sk"].split("#")[0] for r in as_json].count("VOTER") == 1
    assert cli("approvals", "--history", "d-NOTHING01").code == 2
