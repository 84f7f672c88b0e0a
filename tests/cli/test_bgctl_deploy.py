"""`bgctl deploy`: registration, AppSpec, description, and every bad input / fault before and after AWS."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from botocore.stub import Stubber

from bgctl_testkit import ACCOUNT, HOOK_APPROVAL, HOOK_SMOKE, PLATFORM, REGION, Cli, Platform, client, domain_metadata


def _deployment(platform: Platform, deployment_id: str) -> dict:
    return platform.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]


def _deployment_id(out: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith("created deployment "))
    return line.split()[2]


def _revisions(platform: Platform, domain: str = "auth") -> list[str]:
    return platform.ecs.list_task_definitions(familyPrefix=f"{PLATFORM}-{domain}")["taskDefinitionArns"]


def test_deploy_registers_revision_and_creates_deployment(platform: Platform, cli: Cli, tmp_path: Path) -> None:
    outputs = tmp_path / "github_output"
    image = platform.image("auth")
    result = cli("deploy", "auth", "--image", image, "--env", "FEATURE_X=on", "--env", "NEW_FLAG=1",
                 "--wait-until", "started", env={"GITHUB_ACTOR": "alice", "GITHUB_OUTPUT": str(outputs)})
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

    deployment_id = _deployment_id(result.out)
    info = _deployment(platform, deployment_id)
    assert (info["applicationName"], info["deploymentGroupName"]) == (f"{PLATFORM}-auth", f"{PLATFORM}-auth")
    assert info["description"] == f"Deploy auth auth:abc123 | requester=github:alice image={image} source=bgctl"
    content = info["revision"]["appSpecContent"]["content"]
    assert info["revision"]["revisionType"] == "AppSpecContent"
    assert info["revision"]["appSpecContent"]["sha256"] == hashlib.sha256(content.encode()).hexdigest()
    spec = json.loads(content)
    properties = spec["Resources"][0]["TargetService"]["Properties"]
    assert spec["Resources"][0]["TargetService"]["Type"] == "AWS::ECS::Service"
    assert properties["TaskDefinition"] == definition["taskDefinitionArn"]
    assert properties["LoadBalancerInfo"] == {"ContainerName": "app", "ContainerPort": 8080}
    assert spec["Hooks"] == [{"AfterAllowTestTraffic": HOOK_SMOKE}, {"BeforeAllowTraffic": HOOK_APPROVAL}]

    assert f"registered {PLATFORM}-auth:2 (from {PLATFORM}-auth:1)" in result.out
    assert f"follow it with: bgctl watch {deployment_id}" in result.out
    assert outputs.read_text() == (f"deployment_id={deployment_id}\n"
                                   f"task_definition={definition['taskDefinitionArn']}\n")


def test_requester_defaults_to_sts_identity_and_can_be_given(platform: Platform, cli: Cli) -> None:
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "started")
    assert result.code == 0, result.err
    description = _deployment(platform, _deployment_id(result.out))["description"]
    assert f"requester=arn:aws:sts::{ACCOUNT}:user/moto " in description

    platform.add_domain("order")
    result = cli("deploy", "order", "--image", platform.image("order"), "--wait-until", "started",
                 "--requester", "ops:bob", env={"GITHUB_ACTOR": "alice"})
    assert result.code == 0, result.err
    assert "requester=ops:bob " in _deployment(platform, _deployment_id(result.out))["description"]


def test_null_hooks_are_left_out_of_the_appspec(platform: Platform, cli: Cli) -> None:
    metadata = domain_metadata("auth", hooks={"AfterAllowTestTraffic": HOOK_SMOKE, "BeforeAllowTraffic": None})
    platform.ssm.put_parameter(Name=f"/{PLATFORM}/domains/auth/deployment", Value=json.dumps(metadata),
                               Type="String", Overwrite=True)
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "started")
    assert result.code == 0, result.err
    spec = json.loads(_deployment(platform, _deployment_id(result.out))["revision"]["appSpecContent"]["content"])
    assert spec["Hooks"] == [{"AfterAllowTestTraffic": HOOK_SMOKE}]


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
    (["deploy", "auth", "--image", "repo/auth:v1", "--requester", "two words"], "invalid requester"),
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
        "auditTable": f"{PLATFORM}-deployments"}))
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


def _stubbed_codedeploy(error_code: str, message: str) -> tuple:
    codedeploy = client("codedeploy")
    stubber = Stubber(codedeploy)
    stubber.add_response("list_deployments", {"deployments": []})
    stubber.add_client_error("create_deployment", service_error_code=error_code, service_message=message,
                             http_status_code=400)
    stubber.activate()
    return codedeploy, stubber


@pytest.mark.parametrize(("code", "message", "expected"), [
    ("DeploymentLimitExceededException", "The Deployment Group already has an active Deployment",
     "bgctl: error: a deployment is already in progress for 'auth' (CodeDeploy refused a second one): see "
     "`bgctl status auth`"),
    ("InvalidRoleException", "The service role cannot be assumed",
     "bgctl: error: AWS CreateDeployment failed: InvalidRoleException: The service role cannot be assumed"),
    ("AccessDeniedException", "not authorized to perform codedeploy:CreateDeployment",
     "bgctl: error: access denied for CreateDeployment: not authorized to perform codedeploy:CreateDeployment "
     "(see docs/cli.md 'IAM permissions')"),
])
def test_codedeploy_errors_exit_7_in_one_line(platform: Platform, cli: Cli, code: str, message: str,
                                              expected: str) -> None:
    client, stubber = _stubbed_codedeploy(code, message)
    cli.overrides["codedeploy"] = client
    result = cli("deploy", "auth", "--image", platform.image("auth"))
    assert result.code == 7
    assert result.err_lines == [expected]
    stubber.assert_no_pending_responses()


def test_ctrl_c_while_waiting_leaves_the_deployment_running(platform: Platform, cli: Cli) -> None:
    def interrupt(count: int) -> None:
        if count == 2:
            raise KeyboardInterrupt

    cli.clock.on_sleep = interrupt
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "complete")
    deployment_id = _deployment_id(result.out)
    assert result.code == 130
    assert result.err_lines == [f"bgctl: interrupted: deployment {deployment_id} continues in "
                                f"CodeDeploy; resume with: bgctl watch {deployment_id}"]
    assert _deployment(platform, deployment_id)["status"] == "Created"  # nothing was stopped


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
