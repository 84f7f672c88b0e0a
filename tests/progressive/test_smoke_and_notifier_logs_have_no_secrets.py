"""No secret in any log of the smoke-test hook and the deployment notifier (see tests/log_secrets.py).

The smoke hook sends a credential a domain put in its smoke checks' headers, through passing and failing checks;
the notifier reads the Slack bot token from Secrets Manager through its real `default_deps` and posts while Slack
answers, fails and recovers. Both at INFO and at DEBUG; every record and stdout/stderr are checked.
"""
from __future__ import annotations

import boto3
import pytest

from progressive_support import load_event, load_lambda, metadata, put_metadata
from tests.log_secrets import (
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, LEVELS, SLACK_BOT_TOKEN, SMOKE_CHECK_BEARER, assert_no_secret,
    capture_logs,
)

AWS_SECRETS = {"AWS secret access key": AWS_SECRET_ACCESS_KEY, "AWS session token": AWS_SESSION_TOKEN}


@pytest.fixture
def aws_credentials(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", AWS_SESSION_TOKEN)
    monkeypatch.setenv("AWS_SECURITY_TOKEN", AWS_SESSION_TOKEN)  # botocore reads this older name first


def everything(logs, capfd) -> str:
    out, err = capfd.readouterr()
    return "\n".join([logs.text(), out, err])


@pytest.mark.parametrize("level", LEVELS)
def test_smoke_hook_never_logs_the_credentials_of_a_smoke_check(level, aws, domain_server, aws_credentials, capfd):
    from test_smoke_hook import Hook

    h = Hook(aws)
    auth = {"Authorization": SMOKE_CHECK_BEARER}
    put_metadata(aws, metadata(testEndpoint=domain_server.url, smokeChecks=[
        {"name": "health", "path": "/health", "headers": auth},
        {"name": "broken", "path": "/error", "headers": auth},
        {"name": "degraded", "path": "/wrong", "headers": auth, "expectJson": {"status": "ok"}}]))
    h.expect_get_deployment()
    h.expect_report("Failed")
    capfd.readouterr()
    with capture_logs(LEVELS[level]) as logs:
        result = h.run()
    assert result["status"] == "Failed" and "smoke hook reported" in logs.messages()
    assert {headers["Authorization"] for _, _, headers in domain_server.server.seen} == {SMOKE_CHECK_BEARER}
    assert_no_secret(everything(logs, capfd), {"smoke check credential": SMOKE_CHECK_BEARER, **AWS_SECRETS},
                     where=f"smoke hook at {level}")


@pytest.mark.parametrize("level", LEVELS)
def test_notifier_never_logs_the_bot_token(level, aws, slack, monkeypatch, aws_credentials, capfd):
    from test_notifier import Env

    notifier = load_lambda("deployment_notifier", "handler")
    n = Env(aws, slack)
    secret = boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
        Name="bluegreen/slack/bot-token", SecretString=SLACK_BOT_TOKEN)["ARN"]
    for key, value in {"PLATFORM_NAME": "bluegreen", "SSM_PREFIX": "/bluegreen",
                       "TIMELINE_TABLE": "bluegreen-deployments", "NOTIFY_CHANNEL": "C0PLATFORM",
                       "SLACK_BOT_TOKEN_SECRET_ARN": secret, "SLACK_API_BASE_URL": slack.url}.items():
        monkeypatch.setenv(key, value)
    from bgruntime import secrets

    secrets.clear_cache()
    monkeypatch.setattr(notifier, "_DEPS", notifier.default_deps())  # the real wiring: token from Secrets Manager
    capfd.readouterr()
    with capture_logs(LEVELS[level]) as logs:
        slack.set_mode("http500")
        notifier.handler(n.event("codedeploy_state_start.json"), None)
        slack.set_mode("ok")
        for name in ("platform_smoke_checks_completed.json", "platform_approval_requested.json",
                     "codedeploy_state_failure.json"):
            notifier.handler(n.event(name), None)
        notifier.handler(load_event("codedeploy_state_start.json", application="other-auth"), None)
    assert {"posting the thread's parent message failed; line kept for the next event",
            "timeline event handled"} <= set(logs.messages())
    assert set(slack._server.server.auth) == {f"Bearer {SLACK_BOT_TOKEN}"}  # the token was in play
    assert_no_secret(everything(logs, capfd), {"Slack bot token": SLACK_BOT_TOKEN, **AWS_SECRETS},
                     where=f"notifier at {level}")
