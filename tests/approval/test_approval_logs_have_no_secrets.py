"""No secret in any log of the approval Lambdas (request, callback, worker, expiry) and the deploy API.

Each test runs realistic invocations through the Lambda entry points, including the failure paths that log the
most (forged and stale signatures, Slack refusing the token, CodeDeploy throttling, a secret still holding its
placeholder, refused GitHub tokens), with the project's loggers at INFO and at DEBUG, and checks every record
(rendered as the platform writes it) and everything written to stdout/stderr for the secrets of
tests/log_secrets.py and their fragments. Each test also proves the secret was in play (Slack received the bot
token, the signature was made with the signing secret), so a pass is not a capture that saw nothing.
"""
from __future__ import annotations

import json

import pytest

import approval_fakes as fx
import oidc_fakes as oidc
from bgruntime import approvals, secrets
from tests.log_secrets import (
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, LEVELS, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_VERIFICATION_TOKEN,
    assert_no_secret, capture_logs,
)

SECRETS = {"Slack signing secret": SLACK_SIGNING_SECRET, "Slack bot token": SLACK_BOT_TOKEN,
           "Slack verification token": SLACK_VERIFICATION_TOKEN, "AWS secret access key": AWS_SECRET_ACCESS_KEY,
           "AWS session token": AWS_SESSION_TOKEN,
           # whoever holds it (and PutLifecycleEventHookExecutionStatus) can release the deployment
           "CodeDeploy approval hook execution id": fx.HOOK_ID}
RESPONSE_URL = "https://hooks.slack.com/actions/T0TEAM/7003424444444/rspQ2w8Ez5Rt1Yu7Io4Pa9Sd"


@pytest.fixture
def distinct_secrets(aws, monkeypatch):
    """The stacks' Slack secrets hold distinctive values; so do the Lambda's AWS credentials."""
    aws.secretsmanager.put_secret_value(SecretId=aws.signing_secret_arn, SecretString=SLACK_SIGNING_SECRET)
    aws.secretsmanager.put_secret_value(SecretId=aws.bot_token_secret_arn, SecretString=SLACK_BOT_TOKEN)
    secrets.clear_cache()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", AWS_SESSION_TOKEN)
    monkeypatch.setenv("AWS_SECURITY_TOKEN", AWS_SESSION_TOKEN)  # botocore reads this older name first
    return SECRETS


def click(clock, *, user_id="U0BOB", action_id="approve", secret=SLACK_SIGNING_SECRET, timestamp=None):
    payload = fx.block_actions_payload(user_id=user_id, action_id=action_id)
    payload.update(token=SLACK_VERIFICATION_TOKEN, response_url=RESPONSE_URL)
    return fx.apigw_event(fx.form_body(payload), timestamp=clock.epoch() if timestamp is None else timestamp,
                          secret=secret)


def everything(logs, capfd) -> str:
    out, err = capfd.readouterr()
    return "\n".join([logs.text(), out, err])


def slack_saw_the_bot_token(slack) -> bool:
    return any(auth == f"Bearer {SLACK_BOT_TOKEN}" for _, _, auth in slack.calls)


@pytest.mark.parametrize("level", LEVELS)
def test_callback_and_worker_never_log_a_secret(level, handlers, runtime, pending, codedeploy, slack, clock, stream,
                                                distinct_secrets, capfd):
    handlers["callback"].RUNTIME.set(runtime)
    handlers["worker"].RUNTIME.set(runtime)
    capfd.readouterr()
    with capture_logs(LEVELS[level]) as logs:
        handlers["callback"].handler(click(clock, secret="forged-" + SLACK_SIGNING_SECRET[:8]), None)
        handlers["callback"].handler(click(clock, timestamp=clock.epoch() - 3600), None)  # stale
        handlers["callback"].handler(click(clock, user_id="U0MALLORY"), None)  # not an approver
        handlers["callback"].handler(click(clock), None)  # bob approves
        slack.errors["chat.update"] = "invalid_auth"  # Slack refuses the token
        codedeploy.put_error, codedeploy.put_errors_remaining = "ThrottlingException", 1
        first = handlers["worker"].handler(fx.stream_event(stream.feed.pending()), None)
        handlers["worker"].handler(fx.stream_event(stream.feed.pending()), None)  # the retry delivers
        handlers["callback"].handler(click(clock, user_id="U0ALICE"), None)  # too late: decided
        stream()
    text = everything(logs, capfd)
    assert first["batchItemFailures"] and codedeploy.put_calls[-1]["status"] == "Succeeded"
    assert {"rejected unsigned or forged request", "slack click answered", "worker job failed; will be retried",
            "could not update the approval message"} <= set(logs.messages())
    assert slack_saw_the_bot_token(slack)
    assert_no_secret(text, distinct_secrets, where=f"callback + worker at {level}")
    assert RESPONSE_URL not in text


@pytest.mark.parametrize("level", LEVELS)
def test_callback_never_logs_the_signing_secret_when_it_cannot_verify(level, handlers, runtime, pending, clock, aws,
                                                                      distinct_secrets, capfd):
    """The signing secret unavailable (still the placeholder): the callback logs why, not what it read."""
    aws.secretsmanager.put_secret_value(SecretId=aws.signing_secret_arn,
                                        SecretString=f"PLACEHOLDER {SLACK_SIGNING_SECRET}")
    secrets.clear_cache()
    handlers["callback"].RUNTIME.set(runtime)
    capfd.readouterr()
    with capture_logs(LEVELS[level]) as logs:
        answer = handlers["callback"].handler(click(clock), None)
    assert answer["statusCode"] == 401
    assert "signing secret unavailable; see docs/approvals.md 'Slack app set-up'" in logs.messages()
    assert_no_secret(everything(logs, capfd), distinct_secrets, where=f"callback at {level}")


@pytest.mark.parametrize("level", LEVELS)
def test_request_hook_never_logs_a_secret(level, handlers, hook_runtime, aws, slack, clock, distinct_secrets, capfd):
    handlers["request"].RUNTIME.set(hook_runtime)
    approvals.put_record(table_name=fx.TABLE, record=fx.registration_record(clock), dynamodb=aws.dynamodb)
    aws.ssm.put_parameter(Name="/bluegreen/domains/order/deployment", Type="String", Value=json.dumps(
        {**fx.METADATA, "domain": "order", "codeDeployApplication": "bluegreen-order",
         "deploymentGroup": "bluegreen-order"}))
    event = fx.load_event("codedeploy_before_allow_traffic.json")
    capfd.readouterr()
    with capture_logs(LEVELS[level]) as logs:
        slack.errors["usergroups.users.list"] = "invalid_auth"
        slack.errors["chat.postMessage"] = "invalid_auth"  # the token is refused: the request stays PENDING
        first = handlers["request"].handler(event, None)
        slack.errors.clear()
        aws.secretsmanager.put_secret_value(SecretId=aws.bot_token_secret_arn,
                                            SecretString=f"PLACEHOLDER {SLACK_BOT_TOKEN}")
        secrets.clear_cache()
        second = handlers["request"].handler({**event, "DeploymentId": "d-ORDER0001"}, None)  # no usable token
    assert first["result"] == "pending" and not first["slackPosted"]
    assert second["result"] == "pending" and not second["slackPosted"]
    assert "could not post the approval request to Slack; the request stays PENDING (bgctl approve|reject works) " \
           "and expires at expiresAt" in logs.messages()
    assert slack_saw_the_bot_token(slack)
    assert_no_secret(everything(logs, capfd), distinct_secrets, where=f"request hook at {level}")


@pytest.mark.parametrize("level", LEVELS)
def test_expiry_never_logs_a_secret(level, handlers, runtime, pending, codedeploy, clock, distinct_secrets, capfd):
    handlers["expiry"].RUNTIME.set(runtime)
    clock.advance(minutes=45)
    capfd.readouterr()
    with capture_logs(LEVELS[level]) as logs:
        codedeploy.put_error, codedeploy.put_errors_remaining = "ThrottlingException", 1
        with pytest.raises(RuntimeError, match="ERROR:ThrottlingException"):
            handlers["expiry"].handler(fx.load_event("scheduler_expiry.json"), None)  # retried by the scheduler
        result = handlers["expiry"].handler(fx.load_event("scheduler_expiry.json"), None)
    assert result["codeDeployRetry"] == "OK" and logs.records
    assert_no_secret(everything(logs, capfd), distinct_secrets, where=f"expiry at {level}")


@pytest.mark.parametrize("level", LEVELS)
def test_deploy_api_never_logs_the_github_token(level, aws, clock, distinct_secrets, capfd):
    """Accepted, tampered, expired and foreign-repository GitHub OIDC tokens: the reason is logged, never the JWT."""
    from bgruntime.github_oidc import JwksCache

    registrar = fx.load_registrar()
    key = oidc.SigningKey()
    fx.put_parameters(aws.ssm, metadata=fx.METADATA, platform_meta={**fx.PLATFORM_META, "githubDeployers": ["org/app"]})
    ctx = registrar.Context(platform="bluegreen", table=fx.TABLE, region="eu-west-1", ssm=aws.ssm,
                            dynamodb=aws.dynamodb, codedeploy=fx.FakeCodeDeploy(), clock=clock,
                            jwks=JwksCache(fetch=lambda url, timeout: json.dumps({"keys": [key.jwk()]}).encode()))
    now = clock().timestamp()
    tokens = {"valid GitHub OIDC token": key.sign(oidc.claims(now)),
              "expired GitHub OIDC token": key.sign(oidc.claims(now - 3600)),
              "foreign GitHub OIDC token": key.sign(oidc.claims(now, repository="evil/app", sub="repo:evil/app:ref:x"))}
    tampered = tokens["valid GitHub OIDC token"][:-6] + "AAAAAA"

    def start(token: str, domain: str = "auth") -> int:
        event = fx.load_event("apigw_deploy_api_start.json")
        event["body"] = json.dumps({"domain": domain, "source": "github-actions", "githubOidcToken": token,
                                    "taskDefinitionArn": f"arn:aws:ecs:eu-west-1:123456789012:task-definition/"
                                                         f"bluegreen-{domain}:8"})
        return registrar.handle(event, ctx)["statusCode"]

    capfd.readouterr()
    with capture_logs(LEVELS[level]) as logs:
        statuses = [start(tokens["expired GitHub OIDC token"]), start(tampered),
                    start(tokens["foreign GitHub OIDC token"]), start(tokens["valid GitHub OIDC token"]),
                    start(tokens["valid GitHub OIDC token"], domain="nope")]
    assert statuses == [403, 403, 403, 201, 404]
    assert {"GitHub OIDC token refused", "deployment registered", "deploy API answered"} <= set(logs.messages())
    assert_no_secret(everything(logs, capfd), distinct_secrets, jwts={**tokens, "tampered GitHub OIDC token": tampered},
                     where=f"deploy API at {level}")
