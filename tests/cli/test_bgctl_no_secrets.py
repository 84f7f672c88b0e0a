"""bgctl never prints a secret: the GitHub OIDC token, the runner's token request bearer, the AWS secret access key or
session token (see tests/log_secrets.py), whatever happens: success, the deploy API refusing, an unreachable API,
an internal error with BGCTL_DEBUG=1 tracebacks, `--json` output. Everything it writes (its stdout/stderr and the
process's file descriptors) and every record of the project's loggers, at INFO and at DEBUG, is checked.
"""
from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from bgctl_testkit import Cli, Platform
from deploy_api_fake import Scripted
from test_bgctl_decide import DEPLOYMENT, world  # noqa: F401 - the decision world: the real registrar behind SigV4
from tests.log_secrets import (
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, GITHUB_REQUEST_TOKEN, LEVELS, assert_no_secret, capture_logs,
)

GITHUB_OIDC_TOKEN = ".".join(base64.urlsafe_b64encode(part.encode()).decode().rstrip("=") for part in (
    '{"alg":"RS256","typ":"JWT","kid":"1F2AB83404C08EC9EA0BB99DAED02186B091DBF4"}',
    '{"repository":"example-org/domain-services","actor":"alice","run_id":"9203478813","jti":"c7Jq2Wm8Rx4Tz6Vb"}',
    "sigQ3w5E7r9T1y2U4i6O8p0A3s5D7f9G1h3J5k7L9z1X3c5V7b9N1m3"))
SECRETS = {"AWS secret access key": AWS_SECRET_ACCESS_KEY, "AWS session token": AWS_SESSION_TOKEN,
           "GitHub token request bearer": GITHUB_REQUEST_TOKEN}


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", AWS_SESSION_TOKEN)
    monkeypatch.setenv("AWS_SECURITY_TOKEN", AWS_SESSION_TOKEN)  # botocore reads this older name first


@pytest.fixture
def github_token_endpoint() -> Iterator[dict[str, str]]:
    """GitHub's ID-token endpoint for a job with `id-token: write`: the OIDC token for the runner's bearer."""

    class Endpoint(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            ok = self.headers.get("Authorization") == f"bearer {GITHUB_REQUEST_TOKEN}"
            body = json.dumps({"value": GITHUB_OIDC_TOKEN} if ok else {"message": "Bad credentials"}).encode()
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": GITHUB_REQUEST_TOKEN,
           "ACTIONS_ID_TOKEN_REQUEST_URL": f"http://127.0.0.1:{server.server_address[1]}/token?api-version=2.0"}
    server.shutdown()
    server.server_close()


def _printed(results: list[Any], logs: Any, capfd: pytest.CaptureFixture[str]) -> str:
    out, err = capfd.readouterr()
    return "\n".join([*(r.out + r.err for r in results), logs.text(), out, err])


@pytest.mark.parametrize("level", LEVELS)
def test_deploy_in_github_actions_never_prints_a_token_or_a_credential(
        level: str, platform: Platform, deploy_api: Any, cli: Cli, aws_credentials: None,
        github_token_endpoint: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    def deploy(*extra: str, env: dict[str, str] | None = None) -> Any:
        result = cli("deploy", "auth", "--image", platform.image("auth"), "--wait-until", "started", *extra,
                     env={**github_token_endpoint, **(env or {})})
        for deployment_id in platform.codedeploy.list_deployments(applicationName="bluegreen-auth",
                                                                 deploymentGroupName="bluegreen-auth")["deployments"]:
            platform.set_status(deployment_id, "Succeeded")  # done: the next release may start
        return result

    capfd.readouterr()
    with capture_logs(LEVELS[level]) as logs:
        results = [deploy(), deploy("--json")]
        deploy_api.script.append(Scripted(403, {"message": "The security token included in the request is invalid"}))
        results.append(deploy())
        deploy_api.script.append(Scripted(502, raw=b"<html>Bad gateway</html>"))
        results.append(deploy(env={"BGCTL_DEBUG": "1"}))

        def internal_error(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("unexpected answer shape")

        monkeypatch.setattr("bgctl.deploy_api.DeployApi.start_deployment", internal_error)
        results.append(deploy(env={"BGCTL_DEBUG": "1"}))
    assert [r.code for r in results[:2]] == [0, 0] and all(r.code != 0 for r in results[2:])
    assert "Traceback" in results[-1].err
    assert deploy_api.calls[0].body["githubOidcToken"] == GITHUB_OIDC_TOKEN  # the token was in play
    assert deploy_api.calls[0].headers["X-Amz-Security-Token"] == AWS_SESSION_TOKEN
    assert_no_secret(_printed(results, logs, capfd), SECRETS, jwts={"GitHub OIDC token": GITHUB_OIDC_TOKEN},
                     where=f"bgctl deploy at {level}")


@pytest.mark.usefixtures("platform_params")
@pytest.mark.parametrize("level", LEVELS)
def test_approve_and_reject_never_print_a_credential(level: str, aws_credentials: None, cli: Cli, world: Any,
                                                     capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    with capture_logs(LEVELS[level]) as logs:
        results = [cli("approve", DEPLOYMENT, "--reason", "Slack is down"),
                   cli("reject", DEPLOYMENT, "--reason", "changed my mind", "--json"),  # already decided
                   cli("approve", "d-NOSUCH001", "--reason", "typo", env={"BGCTL_DEBUG": "1"})]
        world.server.close()
        results.append(cli("approve", DEPLOYMENT, "--reason", "again", env={"BGCTL_DEBUG": "1"}))  # unreachable
    assert [r.code for r in results][0] == 0 and all(r.code != 0 for r in results[1:])
    [(_, headers, _), *_] = world.server.requests
    assert headers["X-Amz-Security-Token"] == AWS_SESSION_TOKEN  # signed with the session's credentials
    assert_no_secret(_printed(results, logs, capfd), SECRETS, where=f"bgctl approve/reject at {level}")

