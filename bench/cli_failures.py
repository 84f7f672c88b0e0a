"""What the operator sees when things go wrong, measured: for each failure situation, bgctl's first line, the
seconds until it appears, the seconds until bgctl ends, and the exit code (prints figures; never asserts).

    .venv/bin/python bench/cli_failures.py

Real time, real sockets and real sleeps (default timeouts: connect 3 s, read 10 s, retry budget 28 s), in one
process: moto for SSM/ECS/ECR/DynamoDB, the deploy API and dead/silent AWS endpoints as servers on 127.0.0.1,
CodeDeploy simulated on a real botocore client (tests/cli/codedeploy_sim.py). Retry pauses are jittered, so
the figures vary from run to run within the budget.
"""
from __future__ import annotations

import io
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cli"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "eu-west-1", "AWS_EC2_METADATA_DISABLED": "true"}.items():
    os.environ.setdefault(name, value)
for name in ("AWS_PROFILE", "GITHUB_ACTIONS", "CI", "AWS_ENDPOINT_URL"):
    os.environ.pop(name, None)

from _machine import print_machine, print_result  # noqa: E402


class TimedStream(io.StringIO):
    """Remembers when each write arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        if text.strip():
            self.writes.append((time.monotonic(), text))
        return super().write(text)

    def first_after(self, origin: float) -> tuple[float, str] | None:
        return next(((at, text) for at, text in self.writes if at >= origin), None)


@dataclass
class Measured:
    situation: str
    first_line: str
    first_seconds: float
    end_seconds: float
    code: int


def run(situation: str, argv: list[str], *, overrides: dict[str, Any] | None = None,
        env: dict[str, str] | None = None, from_event: Callable[[], float | None] | None = None,
        during: Callable[[], None] | None = None) -> Measured:
    """Run bgctl in this process with the real clock; times count from the start, or from the failure event."""
    from bgctl.context import Runtime
    from bgctl.main import main

    started = time.monotonic()
    err, out = TimedStream(), TimedStream()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        if during is not None:
            threading.Thread(target=during, daemon=True).start()
        code = main(argv + ["--progress", "plain"], runtime=Runtime(env=dict(os.environ), stdout=out, stderr=err,
                                                                     client_overrides=overrides or {}))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    ended = time.monotonic()
    origin = (from_event() if from_event else None) or started
    first = err.first_after(origin) or (ended, "(nothing)")
    text = next((line for line in first[1].splitlines() if line.strip()), "")
    return Measured(situation, text.split("] ", 1)[-1].strip()[:140], first[0] - origin, ended - origin, code)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def silent_port() -> int:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held = []

    def accept() -> None:
        while True:
            connection, _ = server.accept()
            held.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    return int(server.getsockname()[1])


def main() -> int:
    from moto import mock_aws

    print_machine("bgctl: failure situations -> what the operator sees")
    rows: list[Measured] = []
    with mock_aws():
        from bgctl_scenario import PENDING, SMOKE_PASSED, TESTED, State
        from bgctl_testkit import Platform
        from codedeploy_sim import CodeDeploySim, registrar_for
        from deploy_api_fake import DeployApiFake, Scripted

        watching = [State(events={"BeforeInstall": "Succeeded", "Install": "InProgress"}, green=(0.0, 0, 2)),
                    State(events={**TESTED, "BeforeAllowTraffic": "InProgress"}, green=(0.0, 2, 2),
                          smoke=SMOKE_PASSED, approval=PENDING, repeat=1000)]
        sim = CodeDeploySim()
        api = DeployApiFake(registrar=registrar_for(sim, {"release": watching, "rollback": watching},
                                                    [f"d-BENCH{n:04d}" for n in range(100)]))
        platform = Platform(deploy_api_url=api.url)
        cd = {"codedeploy": sim.client}
        image = platform.image("auth", "v2")

        rows.append(run("image without tag or digest (deploy)", ["deploy", "auth", "--image", "repo/auth"]))
        rows.append(run("AWS endpoint refuses connections (status)", ["status"],
                        env={"AWS_ENDPOINT_URL_SSM": f"http://127.0.0.1:{closed_port()}"}))
        rows.append(run("AWS endpoint accepts, never answers (status)", ["status"],
                        env={"AWS_ENDPOINT_URL_SSM": f"http://127.0.0.1:{silent_port()}"}))
        rows.append(_deploy_api_dead(platform, image, cd))
        api.script.append(Scripted(0, hang=True))
        rows.append(run("deploy API accepts, never answers (deploy)",
                        ["deploy", "auth", "--image", image, "--wait-until", "started"], overrides=cd))
        api.script.append(Scripted(409, {"error": {"code": "deployment_in_flight", "message": "d-X is in flight"},
                                         "deploymentId": "d-X"}))
        rows.append(run("a deployment is already in flight (deploy API 409)",
                        ["deploy", "auth", "--image", image, "--wait-until", "started"], overrides=cd))

        # the network drops 7 s into a watch
        dropped: dict[str, float] = {}

        def drop() -> None:
            time.sleep(7)
            dropped["at"] = time.monotonic()
            sim.network_down = True

        rows.append(run("network drops during watch (deploy), after the drop", ["deploy", "auth", "--image", image],
                        overrides=cd, during=drop, from_event=lambda: dropped.get("at")))
        sim.network_down = False
        running = next(iter(d for d in sim.deployments.values() if d.state.status == "InProgress"))

        from botocore.exceptions import ClientError

        expired: dict[str, float] = {}

        def expire_later() -> None:
            time.sleep(7)
            expired["at"] = time.monotonic()
            sim.fault = lambda op: ClientError({"Error": {"Code": "ExpiredTokenException", "Message": "expired"},
                                               "ResponseMetadata": {"HTTPStatusCode": 400}}, op)

        rows.append(run("credentials expire mid-watch (watch), after expiry", ["watch", running.deployment_id], overrides=cd,
                        during=expire_later, from_event=lambda: expired.get("at")))
        sim.fault = None
        sim.stop_error = ("AccessDeniedException", "not authorized to perform codedeploy:StopDeployment")
        rows.append(run("StopDeployment refused (rollback)", ["rollback", "auth"], overrides=cd))
        sim.stop_error = None

        rows.append(_stop_html_502())

        terminated: dict[str, float] = {}

        def sigterm_later() -> None:
            time.sleep(7)
            terminated["at"] = time.monotonic()
            os.kill(os.getpid(), signal.SIGTERM)

        rows.append(run("SIGTERM while watching (cancelled CI job), after the signal", ["watch", running.deployment_id],
                        overrides=cd, during=sigterm_later, from_event=lambda: terminated.get("at")))
        rows.append(run("wait timeout reached (watch --timeout 0.2)", ["watch", running.deployment_id,
                                                                      "--timeout", "0.2"], overrides=cd))
        running.timeline = running.timeline[: running.position] + [State(
            status="Stopped", events={**TESTED, "BeforeAllowTraffic": "Succeeded", "AllowTraffic": "Failed"},
            rollback_id="d-ROLLBACK1", alarms={}, error=("ALARM_ACTIVE", "One or more alarms have been activated"))]
        running.polls_in_state = 0
        rows.append(run("alarm rolls the release back (watch)", ["watch", running.deployment_id], overrides=cd))
        api.close()

    print("| situation | first line the operator sees (stderr) | s to first line | s to exit | exit |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row.situation} | `{row.first_line}` | {row.first_seconds:.1f} | {row.end_seconds:.1f} | "
              f"{row.code} |")
    print()
    print_result([{"metric": f"{r.situation}: seconds to first line", "value": round(r.first_seconds, 1),
                   "unit": "s"} for r in rows] + [{"metric": f"{r.situation}: exit code", "value": r.code,
                                                   "unit": "code"} for r in rows])
    return 0


def _deploy_api_dead(platform: Any, image: str, cd: dict[str, Any]) -> Measured:
    import json

    from bgctl_testkit import PLATFORM

    parameter = f"/{PLATFORM}/platform"
    original = platform.ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    data = json.loads(original)
    data["deployApiUrl"] = f"http://127.0.0.1:{closed_port()}/v1/"
    platform.ssm.put_parameter(Name=parameter, Value=json.dumps(data), Type="String", Overwrite=True)
    try:
        return run("deploy API refuses connections (deploy)", ["deploy", "auth", "--image", image,
                                                              "--wait-until", "started"], overrides=cd)
    finally:
        platform.ssm.put_parameter(Name=parameter, Value=original, Type="String", Overwrite=True)


def _stop_html_502() -> Measured:
    import json

    from bgctl_scenario import INSTALLED, State, deployment_info
    from bgctl_testkit import AwsJsonEndpoint

    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>502</body></html>"
    endpoint = AwsJsonEndpoint({
        "ListDeployments": lambda body: (200, {"deployments": ["d-GOLDEN001"]}),
        "GetDeployment": lambda body: (200, {"deploymentInfo": json.loads(json.dumps(
            deployment_info(State(events=INSTALLED)), default=str))}),
        "StopDeployment": lambda body: (502, page)})
    try:
        return run("StopDeployment answered by an HTML 502 page (rollback)", ["rollback", "auth"],
                   env={"AWS_ENDPOINT_URL_CODEDEPLOY": endpoint.url})
    finally:
        endpoint.close()


if __name__ == "__main__":
    sys.exit(main())
