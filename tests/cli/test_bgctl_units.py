"""Pure pieces of bgctl: input parsing, backoff, error translation, AppSpec, task definitions, snapshots."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import botocore.session
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

from bgctl import appspec, description, inputs, taskdef
from bgctl.aws import retry_settings
from bgctl.backoff import Backoff, is_retryable
from bgctl.errors import UsageError, translate_aws_error
from bgctl.progress import Snapshot, snapshot_from
from bgruntime.deployments import parse_description_tokens


def _client_error(code: str, operation: str = "GetDeployment") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, operation)


@pytest.mark.parametrize(("uri", "registry", "repository", "tag", "digest", "ecr"), [
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/auth:4f2c1ab", "123456789012.dkr.ecr.eu-west-1"
     ".amazonaws.com", "bluegreen/auth", "4f2c1ab", None, ("123456789012", "eu-west-1")),
    ("localhost:5000/auth:dev", "localhost:5000", "auth", "dev", None, (None, None)),
    ("nginx:1.27", None, "nginx", "1.27", None, (None, None)),
    ("ghcr.io/acme/auth@sha256:" + "a" * 64, "ghcr.io", "acme/auth", None, "sha256:" + "a" * 64, (None, None)),
    ("ghcr.io/acme/auth:v1@sha256:" + "b" * 64, "ghcr.io", "acme/auth", "v1", "sha256:" + "b" * 64, (None, None)),
])
def test_image_references(uri: str, registry: str | None, repository: str, tag: str | None, digest: str | None,
                          ecr: tuple) -> None:
    ref = inputs.image(uri)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert (ref.ecr_account, ref.ecr_region) == ecr


@pytest.mark.parametrize("uri", ["", "auth", "registry.example.com/auth", "localhost:5000/auth", "a b:1",
                                 "auth:", "auth:-bad", "auth@sha256:XYZ", "Auth:1", "https://x/auth:1"])
def test_bad_image_references(uri: str) -> None:
    with pytest.raises(UsageError):
        inputs.image(uri)


def test_env_pairs_keep_order_and_allow_equals_in_values() -> None:
    assert inputs.env_pairs(["B=2", "A=x=y", "EMPTY="]) == {"B": "2", "A": "x=y", "EMPTY": ""}


def test_backoff_retries_throttling_with_full_jitter() -> None:
    sleeps: list[float] = []
    calls = iter([_client_error("ThrottlingException"), _client_error("Throttling"), "ok"])

    def flaky() -> str:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    backoff = Backoff(sleep=sleeps.append, base=1.0, cap=30.0, rand=lambda: 0.5)
    assert backoff.call(flaky) == "ok"
    assert sleeps == [0.5, 1.0]  # 0.5 * min(30, 1 * 2**n)


def test_backoff_caps_the_delay_and_gives_up() -> None:
    sleeps: list[float] = []
    backoff = Backoff(sleep=sleeps.append, attempts=8, base=1.0, cap=10.0, rand=lambda: 1.0)

    def always() -> None:
        raise _client_error("TooManyRequestsException")

    with pytest.raises(ClientError):
        backoff.call(always)
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_backoff_does_not_retry_other_errors() -> None:
    sleeps: list[float] = []

    def denied() -> None:
        raise _client_error("AccessDeniedException")

    with pytest.raises(ClientError):
        Backoff(sleep=sleeps.append).call(denied)
    assert sleeps == []
    assert is_retryable(EndpointConnectionError(endpoint_url="https://x"))
    assert not is_retryable(ValueError("x"))


def test_retry_settings_default_and_env_override() -> None:
    assert retry_settings({}) == {"mode": "standard", "total_max_attempts": 1}  # bgctl retries, visibly
    assert retry_settings({"AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "4"}) == {"mode": "adaptive",
                                                                                       "total_max_attempts": 4}
    with pytest.raises(UsageError):
        retry_settings({"AWS_MAX_ATTEMPTS": "many"})


@pytest.mark.parametrize(("exc", "text"), [
    (NoCredentialsError(), "no AWS credentials found"),
    (NoRegionError(), "no AWS region configured"),
    (_client_error("ExpiredTokenException"), "AWS rejected the credentials (ExpiredTokenException)"),
    (_client_error("AccessDeniedException", "GetParameter"), "access denied for GetParameter"),
    (_client_error("InvalidDeploymentIdException"), "AWS GetDeployment failed: InvalidDeploymentIdException"),
    (EndpointConnectionError(endpoint_url="https://codedeploy.xx-1.amazonaws.com"), "cannot reach AWS"),
])
def test_aws_errors_become_one_line_exit_7(exc: Exception, text: str) -> None:
    error = translate_aws_error(exc)
    assert error is not None and error.exit_code == 7
    assert text in error.message and "\n" not in error.message
    assert translate_aws_error(ValueError("not aws")) is None


def test_appspec_orders_hooks_and_skips_nulls() -> None:
    spec = appspec.build(task_definition_arn="arn:td:3", container_name="app", container_port=8080,
                         hooks={"BeforeAllowTraffic": "arn:approval", "AfterAllowTestTraffic": "arn:smoke",
                                "AfterAllowTraffic": None})
    assert spec["Hooks"] == [{"AfterAllowTestTraffic": "arn:smoke"}, {"BeforeAllowTraffic": "arn:approval"}]
    revision = appspec.revision(spec)
    assert json.loads(revision["appSpecContent"]["content"]) == spec
    assert appspec.task_definition_of(revision) == "arn:td:3"
    assert appspec.task_definition_of({"appSpecContent": {"content": "version: 0.0"}}) is None
    assert "Hooks" not in appspec.build(task_definition_arn="x", container_name="app", container_port=1, hooks={})


def test_registerable_fields_match_the_api() -> None:
    model = botocore.session.get_session().get_service_model("ecs")
    accepted = set(model.operation_model("RegisterTaskDefinition").input_shape.members)
    assert set(taskdef.REGISTERABLE_FIELDS) <= accepted
    assert accepted - set(taskdef.REGISTERABLE_FIELDS) == {"tags"}  # tags come from DescribeTaskDefinition(TAGS)


def test_registration_request_drops_read_only_fields() -> None:
    current = {
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:1:task-definition/f:3", "revision": 3, "status": "ACTIVE",
        "requiresAttributes": [{"name": "x"}], "compatibilities": ["EC2", "FARGATE"], "registeredAt": datetime.now(),
        "registeredBy": "arn:me", "family": "f", "cpu": "256", "memory": "512", "networkMode": "awsvpc",
        "containerDefinitions": [{"name": "app", "image": "old:1", "environment": [{"name": "A", "value": "1"}]},
                                 {"name": "sidecar", "image": "agent:2"}],
    }
    request = taskdef.registration_request(current, [], container_name="app", image="new:2", env={"A": "9", "B": "2"})
    assert set(request) == {"family", "cpu", "memory", "networkMode", "containerDefinitions"}
    assert request["containerDefinitions"][0] == {"name": "app", "image": "new:2", "environment": [
        {"name": "A", "value": "9"}, {"name": "B", "value": "2"}]}
    assert request["containerDefinitions"][1] == {"name": "sidecar", "image": "agent:2"}
    assert current["containerDefinitions"][0]["image"] == "old:1"  # the input is not mutated


def test_description_tokens_round_trip_through_the_hook_parser() -> None:
    text = description.build("Deploy auth | odd", {"requester": "github:alice", "image": "r/auth:1",
                                                   "source": "bgctl"})
    assert text == "Deploy auth / odd | requester=github:alice image=r/auth:1 source=bgctl"
    assert parse_description_tokens(text) == description.tokens(text) == {
        "requester": "github:alice", "image": "r/auth:1", "source": "bgctl"}
    with pytest.raises(ValueError):
        description.build("x", {"requester": "two words"})


def _snap(status: str = "InProgress", **events: str) -> Snapshot:
    target = {"lifecycleEvents": [{"lifecycleEventName": n, "status": s} for n, s in events.items()]}
    return snapshot_from({"deploymentId": "d-1", "status": status}, target if events else None, domain="auth")


def test_stages_and_phases() -> None:
    assert _snap("Created").phase == "queued" and _snap("Created").reached("started")
    waiting = _snap(BeforeInstall="Succeeded", Install="Succeeded", AfterInstall="Succeeded",
                    AllowTestTraffic="Succeeded", AfterAllowTestTraffic="Succeeded", BeforeAllowTraffic="InProgress",
                    AllowTraffic="Pending", AfterAllowTraffic="Pending")
    assert waiting.phase == "approval" and waiting.reached("approval") and not waiting.reached("traffic-shifted")
    assert waiting.step_state("install") == "done" and waiting.step_state("shift") == "pending"
    assert _snap("Succeeded").reached("complete")
    assert not _snap("Failed").reached("started") and _snap("Failed").failure().exit_code == 3
    stopped = snapshot_from({"deploymentId": "d-1", "status": "Stopped",
                             "rollbackInfo": {"rollbackDeploymentId": "d-2"}}, None, domain="auth")
    assert stopped.failure().exit_code == 4
    assert snapshot_from({"deploymentId": "d-1", "status": "Stopped"}, None, domain="auth").failure().exit_code == 5


def test_snapshot_reads_audit_items_and_times() -> None:
    snap = snapshot_from({"deploymentId": "d-1", "status": "InProgress",
                          "createTime": datetime(2026, 1, 1, tzinfo=timezone.utc)}, None, domain="auth",
                         audit_items=[{"sk": "APPROVAL", "status": "APPROVED", "decidedBy": {"iamArn":
                                       "arn:aws:sts::1:assumed-role/Admin/eve"}, "decidedAt": "2026-01-01T10:00:00Z"},
                                      {"sk": "SMOKE", "status": "FAILED", "checks": [
                                          {"name": "a", "passed": True}, {"name": "b", "passed": False}]}])
    assert snap.approval.decided_by == "assumed-role/Admin/eve"
    assert snap.approval.decided_at == datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
    assert (snap.smoke.passed, snap.smoke.total, snap.smoke.failed) == (1, 2, ("b",))


def test_plain_renderer_prints_audit_details_without_lifecycle_events() -> None:
    import io

    from bgctl.render import PlainRenderer

    out = io.StringIO()
    moment = datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
    renderer = PlainRenderer(out, lambda: moment)
    renderer.update(snapshot_from({"deploymentId": "d-1", "status": "InProgress"}, None, domain="auth", audit_items=[
        {"sk": "SMOKE", "status": "PASSED", "checks": [{"name": "a", "passed": True}]},
        {"sk": "APPROVAL", "status": "PENDING", "slackChannel": "C1", "expiresAt": "2026-01-01T10:30:00Z"}]))
    assert out.getvalue().splitlines() == [
        "[2026-01-01T10:00:00Z] status InProgress",
        "[2026-01-01T10:00:00Z] smoke PASSED 1/1",
        "[2026-01-01T10:00:00Z] approval PENDING in Slack C1, expires 10:30:00Z (30m left) (break-glass: bgctl "
        "approve d-1 --reason ...)"]
