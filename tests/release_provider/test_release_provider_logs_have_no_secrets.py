"""No secret in any log of the release provider (onEvent and the isComplete waiter), see tests/log_secrets.py.

The provider signs its deploy API calls with the Lambda's AWS credentials (SigV4) and receives CloudFormation
events carrying a presigned response URL. Here the real `provider.on_event`/`is_complete` entry points run with
distinctive credentials against a deploy API on 127.0.0.1 that refuses, then accepts; what they log, and what
the Lambda runtime would log for the exception they raise, never contains a credential or the URL's signature.
"""
from __future__ import annotations

import sys
import traceback
import urllib.parse
from pathlib import Path

import pytest

from tests.log_secrets import AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, LEVELS, assert_no_secret, capture_logs

sys.path.append(str(Path(__file__).resolve().parents[1] / "cli"))  # deploy_api_fake: the deploy API on 127.0.0.1

RESPONSE_SIGNATURE = "9c1e7a3f5b2d8e4c6a0f1b3d5e7a9c2e4f6a8b0d"
RESPONSE_URL = ("https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/"
                "arn%3Aaws%3Acloudformation%3Aeu-west-1%3A111122223333%3Astack/P-Domain-shop/1%7CRelease%7Cr-1"
                "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20300501%2Feu-west-1%2Fs3%2Faws4_request"
                f"&X-Amz-Security-Token={urllib.parse.quote(AWS_SESSION_TOKEN, safe='')}"
                f"&X-Amz-Signature={RESPONSE_SIGNATURE}")
SECRETS = {"AWS secret access key": AWS_SECRET_ACCESS_KEY, "AWS session token": AWS_SESSION_TOKEN,
           "CloudFormation response URL signature": RESPONSE_SIGNATURE}


@pytest.mark.parametrize("level", LEVELS)
def test_release_provider_never_logs_credentials_or_the_response_url(level, monkeypatch, capfd):
    from botocore.credentials import Credentials

    import provider
    from bgruntime.deploy_api_client import DeployApiClient
    from deploy_api_fake import DeployApiFake
    from test_deployment_trigger import World, event, props

    world = World()
    answers = [(403, {"error": {"code": "forbidden", "message": "source cloudformation is only accepted from the "
                                                                "role bluegreen-release-provider"}})]

    def registrar(body: dict) -> tuple[int, dict]:
        if answers:
            return answers.pop(0)
        deployment_id = world.codedeploy.add("Created", f"release {body['domain']} via the deploy API "
                                                        f"(cloudformation): {body['reason']}", minutes=60)
        return 201, {"deploymentId": deployment_id, "requester": {"principalArn": "arn:aws:sts::111122223333:"
                                                                                  "assumed-role/p-release-provider/x"}}

    api = DeployApiFake(registrar=registrar)
    credentials = Credentials("ASIAEXAMPLEKEYID", AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
    clients = {"deploy_api": DeployApiClient(base_url=api.url, region="eu-west-1", credentials=credentials),
               "codedeploy": world.codedeploy, "ecs": world.ecs}
    monkeypatch.setattr(provider, "_client", clients.__getitem__)
    rev2 = world.ecs.add("p-shop", 2, "repo/shop:2")
    update = {**event("Update", props(rev2, "repo/shop:2"), props(world.rev1)), "ResponseURL": RESPONSE_URL}
    runtime_log: list[str] = []  # what the Lambda runtime prints for an invocation that raises
    capfd.readouterr()
    try:
        with capture_logs(LEVELS[level]) as logs:
            try:
                provider.on_event(update)
            except Exception:  # noqa: BLE001 - the refusal: the stack update fails with its reason
                runtime_log.append(traceback.format_exc())
            started = provider.on_event(update)
            provider.is_complete({**update, **started})  # the waiter: still in progress
            world.codedeploy.set_status(started["Data"]["DeploymentId"], "Succeeded")
            world.ecs.live = rev2
            provider.is_complete({**update, **started})  # done: logged
    finally:
        api.close()
    out, err = capfd.readouterr()
    assert runtime_log and "forbidden" in runtime_log[0] and started["Data"]["DeploymentId"]
    assert [c.headers.get("X-Amz-Security-Token") for c in api.calls] == [AWS_SESSION_TOKEN] * 2  # in play
    assert any(m.startswith("onEvent ") for m in logs.messages())
    assert any(m.startswith("isComplete ") for m in logs.messages())
    assert_no_secret("\n".join([logs.text(), out, err, *runtime_log]), SECRETS, where=f"release provider at {level}")
