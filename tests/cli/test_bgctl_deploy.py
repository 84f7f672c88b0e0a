"""`bgctl deploy`: registration, AppSpec, description, and every bad input / fault before and after AWS."""
from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bgctl_testkit import ACCOUNT, DEPLOY_API_URL, PLATFORM, REGION, Cli, Platform, domain_metadata
from deploy_api_fake import Scripted


def _deployment(platform: Platform, deployment_id: str) -> dict:
    return platform.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]


def _deployment_id(out: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith("created deployment "))
    return line.split()[2]


def _revisions(platform: Platform, domain: str = "auth") -> list[str]:
    return platform.ecs.list_task_definitions(familyPrefix=f"{PLATFORM}-{domain}")["taskDefinitionArns"]


def test_deploy_registers_revision_and_starts_it_through_the_deploy_api(platform: Platform, deploy_api: Any, cli: Cli,
                                                                        tmp_path: Path) -> None:
    outputs = tmp_path / "github_output"
    image = platform.image("auth")
    result = cli("deploy", "auth", "--image", image, "--env", "FEATURE_X=on", "--env", "NEW_FLAG=1",
                 "--wait-until", "started", env={"GITHUB_OUTPUT": str(outputs)})
    assert result.code == 0, result.err
    assert result.err == ""

    new = platform.ecs.describe_task_definition(taskDefinition=f"{PLATFORM}-auth:2", include=["TAGS"])
    definition = new["taskDefinition"]
    app = next(c for c in definition["containerDefinitions"] if c["name"] == "app")
    sidecar = next(c for c in definition["containerDefinitions"] if c["name"] == "appconfig-agent")
    assert app["image"] == image
    assert app["environment"] == [{"name": "LOG_LEVEL", "value": "info"}, {"name": "FEATURE_X", "value": "on"},
                                  {"name": "NEW_FLAG", "value": "1"}]
    assert app["secrets"][0]["name"] == "DB_PASSWORD"
    assert sidecar["image"] == "public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x"
    assert (definition["cpu"], definition["memory"], definition["networkMode"]) == ("512", "1024", "awsvpc")
    assert definition["taskRoleArn"].endswith(f"{PLATFORM}-auth-task")
    assert {t["key"]: t["value"] for t in new["tags"]} == {"platform": PLATFORM, "domain": "auth"}

    # exactly one signed POST /deployments with the contract's body (no hooks, no requester: the API decides)
    [call] = deploy_api.calls
    assert (call.method, call.path) == ("POST", "/v1/deployments")
    assert call.body == {"domain": "auth", "taskDefinitionArn": definition["taskDefinitionArn"], "kind": "release",
                         "reason": "Deploy auth auth:abc123", "source": "bgctl"}
    assert call.headers["Content-Type"] == "application/json"
    assert re.match(rf"AWS4-HMAC-SHA256 Credential=\w+/\d{{8}}/{REGION}/execute-api/aws4_request, "
                    r"SignedHeaders=content-type;host;x-amz-date(;x-amz-security-token)?, Signature=[0-9a-f]{64}$",
                    call.headers["Authorization"])
    deployment_id = _deployment_id(result.out)
    info = _deployment(platform, deployment_id)
    assert json.loads(info["revision"]["appSpecContent"]["content"])["Resources"][0]["TargetService"]["Properties"][
        "TaskDefinition"] == definition["taskDefinitionArn"]
    console = (f"https://{REGION}.console.aws.amazon.com/codesuite/codedeploy/deployments/{deployment_id}"
               f"?region={REGION}")
    assert result.out.splitlines() == [
        f"registered {PLATFORM}-auth:2 (from {PLATFORM}-auth:1) with image {image}",
        f"requesting the release of auth ({PLATFORM}-auth:2) from the deploy API {deploy_api.url}",
        f"created deployment {deployment_id} for auth (requester arn:aws:sts::{ACCOUNT}:assumed-role/deploy/alice "
        "(verified by iam))",
        f"console: {console}",
        f"follow it with: bgctl watch {deployment_id}"]
    assert outputs.read_text() == (f"deployment_id={deployment_id}\n"
                                   f"task_definition={definition['taskDefinitionArn']}\nconsole_url={console}\n")


def test_requester_is_deprecated_and_ignored(platform: Platform, deploy_api: Any, cli: Cli) -> None:
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "started",
                 "--requester", "ops:bob")
    assert result.code == 0, result.err
    assert result.err_lines == ["bgctl: warning: --requester is deprecated and ignored: the deploy API records your "
                                "verified identity (IAM, plus the GitHub OIDC token in Actions)"]
    assert "requester" not in deploy_api.calls[0].body


def test_github_actions_job_sends_its_oidc_token(platform: Platform, deploy_api: Any, cli: Cli) -> None:
    seen: list[tuple[str, str]] = []

    class TokenEndpoint(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization", "")))
            body = json.dumps({"value": "header.payload.signature"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "started", env={
            "GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-secret",
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"http://127.0.0.1:{server.server_address[1]}/token?api-version=2.0"})
    finally:
        server.shutdown()
        server.server_close()
    assert result.code == 0, result.err
    assert seen == [("/token?api-version=2.0&audience=bluegreen-deploy-api", "bearer runner-secret")]
    body = deploy_api.calls[0].body
    assert (body["githubOidcToken"], body["source"]) == ("header.payload.signature", "github-actions")
    assert "(requester github:alice / arn:aws:sts::123456789012:assumed-role/deploy/alice (verified by " \
           "iam+github-oidc))" in result.out


def test_digest_reference_is_accepted(platform: Platform, cli: Cli) -> None:
    digest = platform.ecr.describe_images(repositoryName=f"{PLATFORM}/auth",
                                          imageIds=[{"imageTag": "v2"}])["imageDetails"][0]["imageDigest"]
    image = f"{platform.image('auth').rsplit(':', 1)[0]}@{digest}"
    result = cli("deploy", "auth", "--image", image, "--wait-until", "started")
    assert result.code == 0, result.err


@pytest.mark.parametrize(("argv", "message"), [
    (["deploy", "auth", "--image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/auth"], "no tag or digest"),
    (["deploy", "auth", "--image", "registry.example.com:5000/auth"], "no tag or digest"),
    (["deploy", "auth", "--image", "repo/auth@sha256:abc"], "digest must be sha256"),
    (["deploy", "auth", "--image", "https://repo/auth:v1"], "drop the scheme"),
    (["deploy", "auth", "--image", "repo/Auth:v1"], "bad repository name"),
    (["deploy", "Auth", "--image", "repo/auth:v1"], "invalid domain"),
    (["deploy", "auth", "--image", "repo/auth:v1", "--env", "NOVALUE"], "expected NAME=VALUE"),
    (["deploy", "auth", "--image", "repo/auth:v1", "--env", "1BAD=x"], "invalid --env name"),
    (["deploy", "auth", "--image", "repo/auth:v1", "--env", "A=1", "--env", "A=2"], "given twice"),
    (["deploy", "auth", "--image", "repo/auth:v1", "--reason", " "], "--reason must not be empty"),
    (["deploy", "auth", "--image", "repo/auth:v1", "--reason", "x" * 301], "keep it under 300"),
    (["deploy", "auth", "--image", "repo/auth:v1", "--read-timeout", "-1"], "must be >= 0"),
    (["deploy", "auth", "--image", "repo/auth:v1", "--timeout", "-1"], "must be >= 0"),
    (["deploy", "auth", "--image", "repo/auth:v1", "--wait-until", "forever"], "invalid choice"),
    (["deploy", "auth"], "required: --image"),
    (["deploy", "auth", "--image", "repo/auth:v1", "--platform", "bad name"], "invalid platform"),
    (["nosuchcommand"], "invalid choice"),
])
def test_bad_input_exits_2_before_any_aws_call(cli: Cli, monkeypatch: pytest.MonkeyPatch, argv: list[str],
                                                message: str) -> None:
    # No credentials, no region: any AWS call would end in exit 7, so exit 2 proves nothing was called.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    result = cli(*argv)
    assert result.code == 2, result.err
    assert len(result.err_lines) == 1 and message in result.err, result.err
    assert result.err.startswith("bgctl: error: ")


def test_unknown_domain_exits_2_and_registers_nothing(platform: Platform, cli: Cli) -> None:
    result = cli("deploy", "payment", "--image", platform.image("auth"))
    assert result.code == 2
    assert result.err_lines == ["bgctl: error: unknown domain 'payment' on platform 'bluegreen' (known: auth, order)"]
    assert len(_revisions(platform)) == 1


def test_env_may_not_shadow_a_secret(platform: Platform, cli: Cli) -> None:
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--env", "DB_PASSWORD=x")
    assert result.code == 2 and "would shadow a secret" in result.err
    assert len(_revisions(platform)) == 1


def test_image_missing_from_ecr_exits_2(platform: Platform, cli: Cli) -> None:
    result = cli("deploy", "auth", "--image", platform.image("auth", "not-pushed"))
    assert result.code == 2 and "not found in ECR repository bluegreen/auth" in result.err
    result = cli("deploy", "auth", "--image", f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/nope/auth:v1")
    assert result.code == 2 and "ECR repository nope/auth does not exist" in result.err
    assert len(_revisions(platform)) == 1


def test_images_outside_this_regions_ecr_are_not_checked(platform: Platform, cli: Cli) -> None:
    result = cli("deploy", "auth", "--image", "ghcr.io/acme/auth:1.2.3", "--wait-until", "started")
    assert result.code == 0, result.err


def test_latest_tag_warns(platform: Platform, cli: Cli) -> None:
    platform.push("auth", "latest")
    result = cli("deploy", "auth", "--image", platform.image("auth", "latest"), "--wait-until", "started")
    assert result.code == 0
    assert result.err_lines == ["bgctl: warning: deploying the mutable tag 'latest': prefer an immutable tag "
                                "(git sha) or a digest"]


def test_missing_domain_metadata_means_stack_not_deployed(platform: Platform, cli: Cli) -> None:
    platform.ssm.put_parameter(Name=f"/{PLATFORM}/platform", Type="String", Overwrite=True, Value=json.dumps({
        "schemaVersion": 1, "platform": PLATFORM, "domains": ["auth", "order", "payment"],
        "auditTable": f"{PLATFORM}-deployments", "deployApiUrl": DEPLOY_API_URL}))
    result = cli("deploy", "payment", "--image", platform.image("auth"))
    assert result.code == 7
    assert result.err_lines == [
        "bgctl: error: metadata parameter /bluegreen/domains/payment/deployment not found: is the 'payment' "
        "domain stack of 'bluegreen' deployed in eu-west-1?"]


def test_missing_platform_parameter_exits_7(platform: Platform, cli: Cli) -> None:
    result = cli("deploy", "auth", "--image", platform.image("auth"), env={"BGCTL_PLATFORM": "other"})
    assert result.code == 7
    assert "metadata parameter /other/platform not found" in result.err and len(result.err_lines) == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"schemaVersion": 2}, "schemaVersion 2"),
    ({"containerPort": "8080"}, "field 'containerPort' is missing or not a int"),
    ({"hooks": {"Install": "arn:x"}}, "unknown hook event(s) Install"),
])
def test_invalid_metadata_exits_7(platform: Platform, cli: Cli, change: dict, message: str) -> None:
    platform.ssm.put_parameter(Name=f"/{PLATFORM}/domains/auth/deployment", Type="String", Overwrite=True,
                               Value=json.dumps(domain_metadata("auth", **change)))
    result = cli("deploy", "auth", "--image", platform.image("auth"))
    assert result.code == 7 and message in result.err and len(result.err_lines) == 1


def test_missing_credentials_exit_7(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = cli("deploy", "auth", "--image", "repo/auth:v1")
    assert result.code == 7
    assert result.err_lines == ["bgctl: error: no AWS credentials found: set AWS_PROFILE or "
                                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (in GitHub Actions: "
                                "aws-actions/configure-aws-credentials)"]


def test_missing_region_exits_7(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = cli("deploy", "auth", "--image", "repo/auth:v1")
    assert result.code == 7
    assert result.err_lines == ["bgctl: error: no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION) "
                                "or pass --region"]


def test_deployment_already_in_progress_exits_7(platform: Platform, cli: Cli) -> None:
    first = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "started")
    assert first.code == 0
    running = _deployment_id(first.out)
    second = cli("deploy", "auth", "--image", platform.image("auth", "v2"), "--wait-until", "started")
    assert second.code == 7
    assert second.err_lines == [f"bgctl: error: deployment {running} is already in progress for 'auth': follow it "
                                f"with `bgctl watch {running}` or stop it with `bgctl rollback auth`"]
    assert len(_revisions(platform)) == 2  # the refused deploy registered nothing


IN_FLIGHT_RACE = {"error": {"code": "deployment_in_flight", "message": "d-OTHER0001 is in flight"},
                  "deploymentId": "d-OTHER0001"}


@pytest.mark.parametrize(("answer", "code", "expected"), [
    (Scripted(400, {"error": {"code": "bad_request", "message": "reason is longer than 300 characters"}}), 2,
     "deploy API refused the release of auth (400 bad_request): reason is longer than 300 characters; nothing "
     "started: fix the request"),
    (Scripted(404, {"error": {"code": "unknown_domain", "message": "no domain 'auth'"}}), 2,
     "deploy API refused the release of auth (404 unknown_domain): no domain 'auth'; nothing started: check the "
     "domain name and --platform"),
    (Scripted(403, {"error": {"code": "forbidden", "message": "role deploy-x may not deploy auth"}}), 7,
     "deploy API refused the release of auth (403 forbidden): role deploy-x may not deploy auth; nothing started: "
     "this identity may not deploy this domain: check the role's execute-api:Invoke permission and the "
     "registrar's allow-list"),
    (Scripted(409, IN_FLIGHT_RACE), 7,
     "deploy API refused the release of auth (409 deployment_in_flight): d-OTHER0001 is in flight; nothing "
     "started: follow it with `bgctl watch d-OTHER0001` or stop it with `bgctl rollback auth`"),
    (Scripted(502, {"error": {"code": "codedeploy_error", "message": "InvalidRoleException: cannot assume"}}), 7,
     "deploy API refused the release of auth (502 codedeploy_error): InvalidRoleException: cannot assume; nothing "
     "started: CodeDeploy refused the deployment; nothing started"),
    (Scripted(403, {"message": "The security token included in the request is expired"}), 7,
     "deploy API rejected the credentials (403: The security token included in the request is expired): refresh "
     "them and rerun; nothing started"),
    (Scripted(403, {"message": "User: arn:aws:sts::1:assumed-role/x is not authorized to perform: "
                               "execute-api:Invoke"}), 7,
     "deploy API refused the request (403: User: arn:aws:sts::1:assumed-role/x is not authorized to perform: "
     "execute-api:Invoke): the identity needs execute-api:Invoke on the deploy API; nothing started"),
    (Scripted(500, {"message": "Internal server error"}), 8,
     "deploy API failed with HTTP 500 (Internal server error): the release of auth may or may not have started; "
     "check with: bgctl status auth"),
    (Scripted(504, raw=b"<!DOCTYPE html><html><head><title>504 Gateway Time-out</title></head></html>"), 8,
     "deploy API failed with HTTP 504 (HTTP 504 HTML error page \"504 Gateway Time-out\" (answered by a proxy or an "
     "AWS front end, not the service)): the release of auth may or may not have started; check with: bgctl status "
     "auth"),
])
def test_every_deploy_api_error_has_its_exit_code(platform: Platform, deploy_api: Any, cli: Cli, answer: Scripted,
                                                  code: int, expected: str) -> None:
    deploy_api.script.append(answer)
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "started", "--json")
    assert result.code == code
    assert result.err_lines[-1] == f"bgctl: error: {expected}"
    record = json.loads(result.out)
    assert (record["exitCode"], record["error"], record["deployment"]["kind"]) == (code, expected, "release")


def test_deploy_api_throttling_is_retried_visibly(platform: Platform, deploy_api: Any, cli: Cli) -> None:
    deploy_api.script.append(Scripted(429, {"message": "Too Many Requests"}))
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "started")
    assert result.code == 0, result.err
    assert result.err_lines == [
        "[2026-03-02T10:00:00Z] bgctl: deploy API POST /deployments: attempt 1 failed (HTTP 429 (throttled or "
        "unavailable; not processed)); retrying in 0.5 s, giving up 28 s after the first attempt",
        "[2026-03-02T10:00:00Z] bgctl: deploy API POST /deployments: answered on attempt 2"]
    assert len(deploy_api.calls) == 2


def test_deploy_api_that_never_answers_is_lost_contact_not_resent(platform: Platform, deploy_api: Any,
                                                                  cli: Cli) -> None:
    deploy_api.script.append(Scripted(0, hang=True))
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--read-timeout", "0.3", "--json")
    assert result.code == 8
    assert result.err_lines[-1] == (
        "bgctl: error: the deploy API received POST /deployments but did not answer (no answer within the read "
        "timeout (0.3 s)): the release of auth may or may not have started; check with: bgctl status auth")
    assert len(deploy_api.calls) == 1  # a POST that may have worked is never sent twice
    assert json.loads(result.out)["outcome"] == "lost_contact"


def test_unreachable_deploy_api_gives_up_within_the_budget(aws: Any, cli: Cli) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    platform = Platform(deploy_api_url=f"http://127.0.0.1:{port}/v1/")
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "started")
    assert result.code == 7
    retries = [line for line in result.err_lines if "attempt" in line and "failed" in line]
    assert [line.split("] ", 1)[1] for line in retries] == [
        f"bgctl: deploy API POST /deployments: attempt {n} failed (connection refused); retrying in {pause} s, "
        "giving up 28 s after the first attempt" for n, pause in ((1, "0.5"), (2, "1.0"), (3, "2.0"), (4, "4.0"),
                                                                  (5, "4.0"))]
    assert result.err_lines[-1] == ("bgctl: error: gave up on deploy API POST /deployments after 6 attempts in 12 s: "
                                    "connection refused (retry budget 28 s: --retry-budget to wait longer)")
    assert cli.clock.monotonic() == 11.5  # pauses only: every next attempt could still finish within 28 s


def test_platform_without_deploy_api_is_refused_before_registering(aws: Any, cli: Cli) -> None:
    platform = Platform(deploy_api_url=None)
    result = cli("deploy", "auth", "--image", platform.image("auth"))
    assert result.code == 7
    assert result.err_lines == ["bgctl: error: platform parameter /bluegreen/platform has no deployApiUrl: this "
                                "platform predates the deploy API (docs/deploy-api.md); update the platform stack, "
                                "then rerun"]
    assert len(_revisions(platform)) == 1


def test_ctrl_c_while_waiting_leaves_the_deployment_running(platform: Platform, cli: Cli) -> None:
    def interrupt(count: int) -> None:
        if count == 2:
            raise KeyboardInterrupt

    cli.clock.on_sleep = interrupt
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "complete")
    deployment_id = _deployment_id(result.out)
    assert result.code == 130
    assert result.err_lines == [f"bgctl: interrupted: deployment {deployment_id} continues in "
                                f"CodeDeploy; resume with: bgctl watch {deployment_id} (console: https://{REGION}."
                                f"console.aws.amazon.com/codesuite/codedeploy/deployments/{deployment_id}?region="
                                f"{REGION})"]
    assert _deployment(platform, deployment_id)["status"] == "Created"  # nothing was stopped


def test_ctrl_c_before_a_deployment_exists_exits_130(cli: Cli, aws: Any) -> None:
    """Ctrl-C outside the watch (here: while the deploy API is retried) is 130 too, never 0."""
    platform = Platform(deploy_api_url="http://127.0.0.1:9/v1/")  # port 9 (discard): refused

    def interrupt(count: int) -> None:
        raise KeyboardInterrupt

    cli.clock.on_sleep = interrupt
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--json")
    assert result.code == 130
    assert result.err_lines[-1] == "bgctl: interrupted before any deployment started; nothing to resume"
    record = json.loads(result.out)
    assert (record["exitCode"], record["outcome"], record["resume"]) == (130, "interrupted", None)


def test_ctrl_c_after_the_deployment_started_outside_the_watch_exits_130(platform: Platform, cli: Cli,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C right after the deploy API started the deployment (before any watch): 130 and the resume command."""
    import bgctl.deploy

    def interrupt(env: Any, values: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(bgctl.deploy, "write_github_output", interrupt)
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "started")
    assert result.code == 130
    [deployment_id] = platform.codedeploy.list_deployments()["deployments"]
    assert _deployment(platform, deployment_id)["status"] == "Created"  # started, and left running
    assert result.err_lines == [f"bgctl: interrupted: deployment {deployment_id} continues in "
                                f"CodeDeploy; resume with: bgctl watch {deployment_id} (console: https://{REGION}."
                                f"console.aws.amazon.com/codesuite/codedeploy/deployments/{deployment_id}?region="
                                f"{REGION})"]


def test_wait_timeout_exits_6(platform: Platform, cli: Cli) -> None:
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--timeout", "1", "--progress", "plain")
    deployment_id = _deployment_id(result.out)
    assert result.code == 6
    assert result.err_lines == [f"bgctl: error: timed out after 1 min waiting for 'complete': deployment "
                                f"{deployment_id} is Created (queued) and continues; resume with: "
                                f"bgctl watch {deployment_id}"]
    assert sum(cli.clock.sleeps) == 60


def test_unexpected_errors_are_one_line_without_traceback(platform: Platform, cli: Cli,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import bgctl.deploy

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("something\nbroke")

    monkeypatch.setattr(bgctl.deploy.taskdef, "register_revision", boom)
    result = cli("deploy", "auth", "--image", platform.image("auth"))
    assert result.code == 1
    assert result.err_lines == ["bgctl: internal error: RuntimeError: something broke (rerun with BGCTL_DEBUG=1 "
                                "for a traceback)"]
    debug = cli("deploy", "auth", "--image", platform.image("auth"), env={"BGCTL_DEBUG": "1"})
    assert "Traceback" in debug.err


@pytest.mark.parametrize(("headers", "problem"), [
    ({}, "Missing Authentication Token"),
    ({"Authorization": "Bearer abc"}, "Missing Authentication Token"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260302/eu-west-1/lambda/aws4_request, "
                       "SignedHeaders=content-type;host;x-amz-date, Signature=" + "a" * 64, "X-Amz-Date": "20260302T100000Z"},
     "Credential should be scoped to correct service/region: lambda/eu-west-1"),
    ({"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260302/eu-west-1/execute-api/aws4_request, "
                       "SignedHeaders=host, Signature=" + "a" * 64}, "Signature must cover host, content-type and x-amz-date"),
])
def test_the_fake_deploy_api_rejects_what_api_gateway_would(deploy_api: Any, headers: dict[str, str],
                                                            problem: str) -> None:
    """The SigV4 check of the test server is itself tested: a request bgctl did not sign is refused."""
    assert deploy_api.signature_problem(headers) == problem
