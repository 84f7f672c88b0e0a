"""bgruntime.deploy_api_client against a real HTTP server on 127.0.0.1: SigV4 headers, typed errors, timeouts."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.credentials import Credentials

import approval_fakes as fx  # noqa: F401 - puts the layer on sys.path
from bgruntime import deploy_api_client as api

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")
TASK_DEF = "arn:aws:ecs:eu-west-1:123456789012:task-definition/bluegreen-auth:8"


class Server:
    def __init__(self) -> None:
        self.answers: list[tuple[int, Any, float]] = []
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status, answer, delay = server.answers.pop(0) if server.answers else (200, {}, 0.0)
                time.sleep(delay)
                data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    running = Server()
    yield running
    running.close()


def client(server: Server, timeout: float = 5.0) -> api.DeployApiClient:
    return api.DeployApiClient(base_url=server.url, region="eu-west-1", credentials=CREDENTIALS, timeout=timeout)


def test_start_deployment_is_signed_for_execute_api(server):
    server.answers.append((201, {"deploymentId": "d-ABCDEFGHI", "requester": {"principalArn": "arn:x"},
                                 "consoleUrl": "https://console"}, 0.0))
    started = client(server).start_deployment(domain="auth", task_definition_arn=TASK_DEF, reason="cdk deploy",
                                              source="cloudformation", stack_id="arn:stack")
    assert (started.deployment_id, started.console_url) == ("d-ABCDEFGHI", "https://console")
    [(path, headers, body)] = server.requests
    assert path == "/v1/deployments"
    assert body == {"domain": "auth", "taskDefinitionArn": TASK_DEF, "kind": "release", "reason": "cdk deploy",
                    "source": "cloudformation", "stackId": "arn:stack"}
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in headers["authorization"]
    assert headers["x-amz-security-token"] == "session-token" and headers["content-type"] == "application/json"


@pytest.mark.parametrize(("status", "kind", "code"), [
    (400, api.BadRequest, "bad_request"), (403, api.Forbidden, "forbidden"), (404, api.NotFound, "unknown_domain"),
    (409, api.Conflict, "deployment_in_flight"), (502, api.UpstreamError, "codedeploy_error"),
    (500, api.UpstreamError, "internal_error")])
def test_errors_are_typed(server, status, kind, code):
    server.answers.append((status, {"error": {"code": code, "message": "one line"}, "deploymentId": "d-RUNNING01"},
                           0.0))
    with pytest.raises(kind) as error:
        client(server).start_deployment(domain="auth", task_definition_arn=TASK_DEF, reason="x", source="bgctl")
    assert (error.value.status, error.value.code, error.value.message) == (status, code, "one line")
    if kind is api.Conflict:
        assert error.value.deployment_id == "d-RUNNING01"


def test_api_gateway_own_403_without_our_error_shape(server):
    server.answers.append((403, {"message": "Missing Authentication Token"}, 0.0))
    with pytest.raises(api.Forbidden) as error:
        client(server).decide("d-ABCDEFGHI", decision="APPROVED", reason="x")
    assert (error.value.code, error.value.message) == ("http_403", "Missing Authentication Token")


def test_decide_and_partial(server):
    server.answers.append((200, {"code": "decided", "message": "ok", "status": "APPROVED",
                                 "codeDeployResult": "ERROR:ThrottlingException"}, 0.0))
    answer = client(server).decide("d-ABCDEFGHI", decision="APPROVED", reason="why", resend=False)
    assert answer.partial and answer.status == "APPROVED"
    assert server.requests[0][0] == "/v1/deployments/d-ABCDEFGHI/decisions"
    assert server.requests[0][2] == {"decision": "APPROVED", "reason": "why", "resend": False}


def test_timeout_and_unreachable(server):
    server.answers.append((200, {}, 2.0))
    with pytest.raises(api.Unreachable):
        client(server, timeout=0.3).decide("d-ABCDEFGHI", decision="APPROVED", reason="x")
    dead = api.DeployApiClient(base_url=fx.dead_base_url(), region="eu-west-1", credentials=CREDENTIALS)
    with pytest.raises(api.Unreachable):
        dead.decide("d-ABCDEFGHI", decision="APPROVED", reason="x")


def test_answer_that_is_not_json(server):
    server.answers.append((200, "<html>", 0.0))
    with pytest.raises(api.UpstreamError, match="not JSON"):
        client(server).decide("d-ABCDEFGHI", decision="APPROVED", reason="x")


def test_only_https_or_loopback():
    with pytest.raises(ValueError, match="https"):
        api.DeployApiClient(base_url="http://example.com/v1/", region="eu-west-1", credentials=CREDENTIALS)
