"""Producer/consumer contracts: what the synthesized templates publish, fed unchanged to the code that reads it.

Never real AWS: fake credentials and a fixed region before any boto3 client exists; moto and local fakes.
The shared helpers of the approval and progressive test directories (plain modules with unique names) are
reused, not copied.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.update({"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                   "AWS_EC2_METADATA_DISABLED": "true"})
os.environ.pop("AWS_PROFILE", None)

_TESTS = Path(__file__).resolve().parents[1]
for _helpers in (_TESTS / "approval", _TESTS / "progressive", _TESTS / "cli"):
    if str(_helpers) not in sys.path:
        sys.path.append(str(_helpers))

import json  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any, Iterator  # noqa: E402

import pytest  # noqa: E402

from tests.contracts.published import PLATFORM, Deployed  # noqa: E402

DOMAINS = ("auth", "order", "payment", "voice")
TABLE = f"{PLATFORM}-deployments"


@pytest.fixture(scope="session")
def deployed(default_app) -> Deployed:
    """The default app as deployed (intrinsics resolved); see published.py."""
    return Deployed(default_app)


@pytest.fixture(scope="session")
def aws_clients() -> dict[str, Any]:
    """boto3 clients built once per worker; moto intercepts them while `mock_aws` is active."""
    import moto  # noqa: F401 - before the clients, so its hook is installed
    import boto3

    session = boto3.session.Session(region_name="eu-west-1")
    return {name: session.client(name) for name in ("dynamodb", "ssm", "scheduler", "ecs", "secretsmanager", "ecr",
                                                    "codedeploy")}


@dataclass
class Aws:
    clients: dict[str, Any]
    bot_token_secret_arn: str
    signing_secret_arn: str

    def __getattr__(self, name: str) -> Any:
        return self.clients[name]


@pytest.fixture
def aws(aws_clients: dict[str, Any], deployed: Deployed) -> Iterator[Aws]:
    """moto with what the stacks create outside the app's control (the audit table, the Slack secrets' values,
    the schedule group) and, in SSM, exactly what the templates publish."""
    import approval_fakes as fx
    from moto import mock_aws

    with mock_aws():
        c = aws_clients
        fx.create_table(c["dynamodb"])
        bot = c["secretsmanager"].create_secret(Name="bluegreen/slack/bot-token", SecretString=fx.BOT_TOKEN)["ARN"]
        signing = c["secretsmanager"].create_secret(Name="bluegreen/slack/signing-secret",
                                                    SecretString=fx.SIGNING_SECRET)["ARN"]
        c["scheduler"].create_schedule_group(Name="bluegreen-approvals")
        for domain in DOMAINS:
            c["ssm"].put_parameter(Name=f"/{PLATFORM}/domains/{domain}/deployment", Type="String",
                                   Value=json.dumps(deployed.domain_metadata(domain)))
        c["ssm"].put_parameter(Name=f"/{PLATFORM}/platform", Type="String",
                               Value=json.dumps(deployed.platform_parameter()))
        yield Aws(clients=c, bot_token_secret_arn=bot, signing_secret_arn=signing)


@pytest.fixture(scope="session")
def slack_server():
    import approval_fakes as fx

    server = fx.FakeSlack()
    yield server
    server.close()


@pytest.fixture
def slack(slack_server):
    for store in (slack_server.calls, slack_server.delays, slack_server.errors, slack_server.http_errors,
                  slack_server.usergroups):
        store.clear()
    slack_server.usergroups["S0RELEASERS"] = ["U0CAROL"]
    return slack_server


@pytest.fixture(scope="session")
def domain_service() -> Iterator[Any]:
    """services/shared-app (what every default domain first runs) on 127.0.0.1, recording each request."""
    import importlib.util

    path = _TESTS.parent / "services" / "shared-app" / "server.py"
    spec = importlib.util.spec_from_file_location("contracts_shared_app_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    requests: list[dict[str, Any]] = []
    server = module.make_server(port=0, host="127.0.0.1", domain="contract", version="v1", log=requests.append)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    server.requests = requests
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def test_listeners(domain_service, monkeypatch) -> list[tuple[str, int]]:
    """Name resolution for the test: every `*.bluegreen.internal` address (the domains' test listeners, as
    Route 53 would resolve them) reaches the local domain service. Returns the addresses asked for."""
    asked: list[tuple[str, int]] = []
    real = socket.create_connection
    local = domain_service.server_address[:2]

    def create_connection(address, *args, **kwargs):
        host, port = address[0], address[1]
        if str(host).endswith(f".{PLATFORM}.internal"):
            asked.append((host, port))
            return real(local, *args, **kwargs)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    domain_service.requests.clear()
    return asked
