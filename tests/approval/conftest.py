"""Fixtures for the approval gate tests: moto AWS, a local Slack server, fakes and a fixed clock.

Environment first (before boto3 is imported anywhere): a region and fake credentials for moto,
no IMDS probing. The Lambda asset is imported by file path (see `approval_fakes.load_approval_modules`).
"""
from __future__ import annotations

import os

os.environ.update({
    "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
})
for _var in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_var, None)

import threading  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import boto3  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from moto import mock_aws  # noqa: E402

import approval_fakes as fx  # noqa: E402

settings.register_profile("approval", deadline=None, max_examples=100,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile("approval")

MODULES = fx.load_approval_modules()


@pytest.fixture(scope="session")
def handlers() -> dict[str, Any]:
    """{"request": module, "callback": module, "expiry": module} (the real Lambda handler files)."""
    return MODULES


@pytest.fixture(autouse=True)
def _fresh_secret_cache():
    from bgruntime import secrets

    secrets.clear_cache()
    yield
    secrets.clear_cache()
    for module in MODULES.values():
        module.RUNTIME.set(None)


@pytest.fixture()
def clock() -> fx.Clock:
    return fx.Clock()


@pytest.fixture(scope="session")
def slack_server():
    server = fx.FakeSlack()
    yield server
    server.close()


@pytest.fixture()
def slack(slack_server: fx.FakeSlack) -> fx.FakeSlack:
    """The shared local Slack server, reset for this test."""
    slack_server.calls.clear()
    slack_server.delays.clear()
    slack_server.errors.clear()
    slack_server.http_errors.clear()
    slack_server.usergroups.clear()
    slack_server.usergroups["S0RELEASE"] = ["U0CAROL", "U0ALICE"]
    return slack_server


@pytest.fixture()
def codedeploy() -> fx.FakeCodeDeploy:
    fake = fx.FakeCodeDeploy()
    fake.add()
    return fake


@pytest.fixture()
def events() -> fx.FakeEvents:
    return fx.FakeEvents()


@dataclass
class Aws:
    dynamodb: Any
    ssm: Any
    scheduler: Any
    ecs: Any
    secretsmanager: Any
    signing_secret_arn: str
    bot_token_secret_arn: str

    def clients(self) -> dict[str, Any]:
        return {"dynamodb": self.dynamodb, "ssm": self.ssm, "scheduler": self.scheduler, "ecs": self.ecs,
                "secretsmanager": self.secretsmanager}


@pytest.fixture(scope="session")
def aws_clients() -> dict[str, Any]:
    """boto3 clients built once per worker (model loading is the slow part); moto intercepts them
    whenever a `mock_aws` context is active, with fresh state per test."""
    session = boto3.session.Session(region_name="eu-west-1")
    return {name: session.client(name) for name in ("dynamodb", "ssm", "scheduler", "ecs", "secretsmanager")}


@pytest.fixture()
def aws(aws_clients: dict[str, Any]):
    """moto: the audit table, both Slack secrets, the SSM metadata, a schedule group."""
    with mock_aws():
        c = aws_clients
        fx.create_table(c["dynamodb"])
        signing = c["secretsmanager"].create_secret(Name="bluegreen/slack/signing-secret",
                                                    SecretString=fx.SIGNING_SECRET)["ARN"]
        token = c["secretsmanager"].create_secret(Name="bluegreen/slack/bot-token", SecretString=fx.BOT_TOKEN)["ARN"]
        fx.put_parameters(c["ssm"])
        c["scheduler"].create_schedule_group(Name="bluegreen-approvals")
        yield Aws(dynamodb=c["dynamodb"], ssm=c["ssm"], scheduler=c["scheduler"], ecs=c["ecs"],
                  secretsmanager=c["secretsmanager"], signing_secret_arn=signing, bot_token_secret_arn=token)


@pytest.fixture()
def settings_env(aws: Aws, slack: fx.FakeSlack, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The Lambda environment the CDK stack sets (contracts.md), pointing at moto and the local Slack."""
    env = {
        "PLATFORM_NAME": fx.PLATFORM, "SSM_PREFIX": f"/{fx.PLATFORM}", "AUDIT_TABLE": fx.TABLE,
        "SLACK_SIGNING_SECRET_ARN": aws.signing_secret_arn, "SLACK_BOT_TOKEN_SECRET_ARN": aws.bot_token_secret_arn,
        "SLACK_API_BASE_URL": slack.base_url, "SCHEDULE_GROUP": "bluegreen-approvals",
        "EXPIRY_FUNCTION_ARN": "arn:aws:lambda:eu-west-1:123456789012:function:bluegreen-approval-expiry",
        "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/bluegreen-approval-scheduler",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture()
def runtime(settings_env: dict[str, str], aws: Aws, codedeploy: fx.FakeCodeDeploy, events: fx.FakeEvents,
            clock: fx.Clock):
    """A callback-style Runtime: moto for DynamoDB/SSM/Secrets/Scheduler/ECS, fakes for CodeDeploy/events.

    Slack calls time out after 2 s and the 2.5 s click budget is widened to 10 s, so that a loaded
    CI machine cannot turn slowness into refusals; timeouts and the budget have their own tests.
    """
    from approval_gate.runtime import CALLBACK_CLIENT_CONFIG, Runtime, Settings

    return Runtime(Settings.from_env(), clients={**aws.clients(), "codedeploy": codedeploy, "events": events,
                                                 "cloudtrail": fx.FakeCloudTrail()},
                   client_config=CALLBACK_CLIENT_CONFIG, clock=clock, slack_timeout=2.0, ack_budget_seconds=10.0)


@pytest.fixture()
def stream(aws: Aws, runtime):
    """`stream()` runs the decision worker on every record written since the last call."""
    from approval_gate import worker_logic

    feed = fx.Stream(aws.dynamodb)

    def drain() -> dict[str, Any]:
        return feed.drain(runtime, worker_logic)

    drain.feed = feed  # type: ignore[attr-defined]
    return drain


@pytest.fixture()
def pending(aws: Aws, clock: fx.Clock, slack: fx.FakeSlack):
    """A PENDING approval request with its recorded Slack message; returns a reader of the derived view."""
    from bgruntime import approvals

    fx.seed_request(aws.dynamodb, clock)

    def read(deployment_id: str = fx.DEPLOYMENT_ID) -> dict[str, Any] | None:
        return approvals.get_approval(table_name=fx.TABLE, deployment_id=deployment_id, dynamodb=aws.dynamodb)

    return read


@pytest.fixture()
def atomic_moto_writes(monkeypatch: pytest.MonkeyPatch):
    """Serialize moto's DynamoDB writes like the real service does per item.

    moto evaluates a ConditionExpression and applies the update as separate Python steps without
    a lock, so two threads can both see `status = PENDING`. Real DynamoDB conditional writes are
    atomic per item; this lock restores that property for the concurrency tests.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("update_item", "put_item", "get_item", "transact_write_items", "query"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)
    return lock


@pytest.fixture()
def cloudtrail() -> fx.FakeCloudTrail:
    return fx.FakeCloudTrail()


@pytest.fixture()
def hook_runtime(settings_env, aws, codedeploy, events, clock, cloudtrail):
    """The request hook's Runtime: deployment d-ABCDEFGHI of auth (AppSpec naming a registered task definition,
    a description claiming a requester the gate never reads) and d-ORDER0001 of order."""
    from approval_gate.runtime import Runtime, Settings

    task_def = aws.ecs.register_task_definition(family="bluegreen-auth", containerDefinitions=[
        {"name": "app", "image": fx.IMAGE, "memory": 512},
        {"name": "appconfig-agent", "image": "public.ecr.aws/aws-appconfig/aws-appconfig-agent:2.x", "memory": 128},
    ])["taskDefinition"]["taskDefinitionArn"]
    appspec = {"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
        "TaskDefinition": task_def, "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080}}}}]}
    codedeploy.add(description="Deploy auth | requester=github:bob source=bgctl", appspec=appspec)
    codedeploy.add("d-ORDER0001", domain="order")
    return Runtime(Settings.from_env(), clients={**aws.clients(), "codedeploy": codedeploy, "events": events,
                                                 "cloudtrail": cloudtrail}, clock=clock, slack_timeout=0.5)
