"""Fixtures for the bgctl tests: fake AWS credentials and region, moto, an instant clock, the CLI runner."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bgctl_testkit import REGION, Cli, FakeClock, Platform

_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN", "AWS_RETRY_MODE",
            "AWS_MAX_ATTEMPTS", "GITHUB_ACTOR", "GITHUB_ACTIONS", "GITHUB_OUTPUT", "CI", "BGCTL_PLATFORM",
            "BGCTL_DEBUG", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and a region; nothing from the developer's ~/.aws leaks in."""
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cli(clock: FakeClock) -> Cli:
    return Cli(clock=clock)


@pytest.fixture
def aws() -> Any:
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def deploy_api(aws: Any) -> Any:
    """The deploy API on 127.0.0.1, registering deployments in moto's CodeDeploy."""
    from deploy_api_fake import DeployApiFake, moto_registrar

    fake = DeployApiFake(registrar=moto_registrar())
    yield fake
    fake.close()


@pytest.fixture
def platform(aws: Any, deploy_api: Any) -> Platform:
    return Platform(deploy_api_url=deploy_api.url)


@pytest.fixture
def platform_params(aws: Any) -> None:
    """Only the SSM metadata (for commands whose other AWS calls are stubbed)."""
    import json

    from bgctl_testkit import AUDIT_TABLE, DEPLOY_API_URL, PLATFORM, client, domain_metadata

    ssm = client("ssm")
    ssm.put_parameter(Name=f"/{PLATFORM}/platform", Type="String", Value=json.dumps({
        "schemaVersion": 1, "platform": PLATFORM, "domains": ["auth", "order"], "auditTable": AUDIT_TABLE,
        "deployApiUrl": DEPLOY_API_URL}))
    for domain in ("auth", "order"):
        ssm.put_parameter(Name=f"/{PLATFORM}/domains/{domain}/deployment", Type="String",
                          Value=json.dumps(domain_metadata(domain)))
