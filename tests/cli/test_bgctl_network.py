"""Real sockets on 127.0.0.1: a dead endpoint (connection refused), an endpoint that accepts and never answers,
and SIGTERM to a real `bgctl watch` process. What the operator sees, how many attempts, and the exit code.

The retry budget is measured on the injected clock (pauses advance it; an attempt's own real duration does
not), so the number of attempts is deterministic; no test asserts a wall-clock duration."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from bgctl_scenario import INSTALLED, State, deployment_info, ecs_target
from bgctl_testkit import AUDIT_TABLE, DEPLOY_API_URL, PLATFORM, REGION, AwsJsonEndpoint, Cli, domain_metadata

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = f"https://{REGION}.console.aws.amazon.com/codesuite/codedeploy/deployments/d-GOLDEN001?region={REGION}"


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and reads requests, never answers (a hung load balancer or proxy)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.mark.usefixtures("platform_params")
def test_dead_codedeploy_endpoint_while_resuming_is_lost_contact(cli: Cli, closed_port: int,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CODEDEPLOY", f"http://127.0.0.1:{closed_port}")
    result = cli("watch", "d-GOLDEN001", "--progress", "plain", "--json")
    assert result.code == 8
    attempts = [line.split("] ", 1)[1] for line in result.err_lines if line.startswith("[")]
    assert attempts[0] == (f"bgctl: codedeploy GetDeployment: attempt 1 failed (connection refused "
                           f"(http://127.0.0.1:{closed_port}/)); retrying in 0.5 s, giving up 28 s after the first "
                           "attempt")
    assert len(attempts) == 5
    record = json.loads(result.out)
    assert (record["outcome"], record["resume"]) == ("lost_contact", "bgctl watch d-GOLDEN001")
    assert record["error"].startswith("lost contact while watching: gave up on codedeploy GetDeployment after 6 "
                                      "attempts in 12 s: connection refused")
    assert record["error"].endswith(f"resume with: bgctl watch d-GOLDEN001 (console: {CONSOLE})")


@pytest.mark.usefixtures("platform_params")
def test_endpoint_that_never_answers_is_announced_then_given_up(cli: Cli, silent_server: int,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from bgctl.retry import start_timer

    monkeypatch.setenv("AWS_ENDPOINT_URL_CODEDEPLOY", f"http://127.0.0.1:{silent_server}")
    cli.timer = start_timer  # the real slow-call notice
    result = cli("rollback", "auth", "--progress", "plain", "--read-timeout", "1", "--connect-timeout", "0.3",
                 "--retry-budget", "2")
    assert result.code == 7  # nothing changed: we never got as far as asking for a stop
    lines = [line.split("] ", 1)[-1] for line in result.err_lines]
    assert lines[0] == ("bgctl: waiting for codedeploy ListDeployments (attempt 1; no answer yet, read timeout 1 s, "
                        "giving up after 2 s)")
    assert lines[1] == ("bgctl: codedeploy ListDeployments: attempt 1 failed (connected, but no answer before the "
                        "read timeout); retrying in 0.5 s, giving up 2 s after the first attempt")
    assert lines[-1] == ("bgctl: error: gave up on codedeploy ListDeployments after 2 attempts in 0 s: connected, but "
                         "no answer before the read timeout (retry budget 2 s: --retry-budget to wait longer)")


def test_tty_notices_are_redrawn_in_place_and_cleared(cli: Cli) -> None:
    import io

    from bgctl.retry import Notices, Retrier, Timeouts
    from botocore.exceptions import EndpointConnectionError

    stream = io.StringIO()
    calls = iter([EndpointConnectionError(endpoint_url="https://x/"), "ok"])

    def flaky() -> str:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    retrier = Retrier(timeouts=Timeouts(), notices=Notices(stream, mode="tty", clock=cli.clock),
                      monotonic=cli.clock.monotonic, sleep=cli.clock.sleep, rand=lambda: 1.0,
                      timer=lambda seconds, callback: (lambda: None))
    assert retrier.call("ssm GetParameter", flaky) == "ok"
    assert stream.getvalue() == (
        "\r\x1b[Kbgctl: ssm GetParameter: attempt 1 failed (cannot connect (https://x/)); retrying in 1.0 s, giving up "
        "28 s after the first attempt\r\x1b[Kbgctl: ssm GetParameter: answered on attempt 2\r\x1b[K")


def _aws_for_watch() -> AwsJsonEndpoint:
    """SSM + CodeDeploy + DynamoDB answers for a `bgctl watch` in another process."""
    state = State(events=INSTALLED, green=(0.0, 2, 2))
    platform = {"schemaVersion": 1, "platform": PLATFORM, "domains": ["auth"], "auditTable": AUDIT_TABLE,
                "deployApiUrl": DEPLOY_API_URL}

    def parameter(body: dict[str, Any]) -> tuple[int, Any]:
        value = platform if body["Name"].endswith("/platform") else domain_metadata("auth")
        return 200, {"Parameter": {"Name": body["Name"], "Type": "String", "Value": json.dumps(value)}}

    def plain(value: Any) -> Any:
        return json.loads(json.dumps(value, default=lambda moment: moment.timestamp()))

    return AwsJsonEndpoint({
        "GetParameter": parameter,
        "GetDeployment": lambda body: (200, {"deploymentInfo": plain(deployment_info(state))}),
        "ListDeploymentTargets": lambda body: (200, {"targetIds": ["t1"]}),
        "GetDeploymentTarget": lambda body: (200, {"deploymentTarget": {"ecsTarget": plain(ecs_target(state))}}),
        "GetDeploymentGroup": lambda body: (200, {"deploymentGroupInfo": {"alarmConfiguration": {"enabled": False}}}),
        "Query": lambda body: (200, {"Items": []}),
    })


def test_sigterm_to_a_real_watch_prints_the_resume_command_and_exits_143(tmp_path: Path) -> None:
    endpoint = _aws_for_watch()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "AWS_ENDPOINT_URL_SSM": endpoint.url, "AWS_ENDPOINT_URL_CODEDEPLOY": endpoint.url,
           "AWS_ENDPOINT_URL_DYNAMODB": endpoint.url,
           # the same import roots as this test (make mutants runs the suite on a scratch copy through PYTHONPATH)
           **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}
    process = subprocess.Popen([sys.executable, "-m", "bgctl.main", "watch", "d-GOLDEN001", "--json"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()  # progress goes to stderr under --json
        assert first.rstrip().endswith(f"watching deployment d-GOLDEN001 (auth); console: {CONSOLE}"), first
        while "status InProgress" not in process.stderr.readline():
            pass
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        endpoint.close()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143
    assert err.splitlines()[-1] == (f"bgctl: terminated (SIGTERM): deployment d-GOLDEN001 continues in CodeDeploy; "
                                    f"resume with: bgctl watch d-GOLDEN001 (console: {CONSOLE})")
    record = json.loads(out)
    assert (record["exitCode"], record["outcome"], record["resume"]) == (143, "terminated", "bgctl watch d-GOLDEN001")


def test_sigterm_before_a_deployment_exists_says_nothing_to_resume(cli: Cli, aws: Any) -> None:
    from bgctl.errors import TerminateSignal
    from bgctl_testkit import Platform

    platform = Platform(deploy_api_url="http://127.0.0.1:9/v1/")  # port 9 (discard): refused

    def terminate(count: int) -> None:
        raise TerminateSignal()

    cli.clock.on_sleep = terminate
    result = cli("deploy", "auth", "--image", platform.image("auth"), "--json")
    assert result.code == 143
    assert result.err_lines[-1] == "bgctl: terminated (SIGTERM) before any deployment started; nothing to resume"
    assert json.loads(result.out)["deployment"]["taskDefinition"].endswith(":2")  # registered, never deployed
