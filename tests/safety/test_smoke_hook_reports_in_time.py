"""The smoke hook always reports to CodeDeploy in time: checks get the Lambda's remaining time minus the safety
margin (SMOKE_SAFETY_MARGIN_MS, documented default 10 000 ms), and checks that would start after that deadline
are not run (failed). Clocks and the Lambda context are injected; nothing here waits."""
from __future__ import annotations

import json

import pytest

from bgruntime import smoke_checks
from tests.safety.lambda_modules import smoke_tests

hook = smoke_tests("handler")
runner = smoke_tests("runner")

EVENT = {"DeploymentId": "d-SMOKE0001", "LifecycleEventHookExecutionId": "hook-execution-1"}
STARTED = 1000.0  # the injected monotonic clock never moves


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class CodeDeploy:
    def __init__(self) -> None:
        self.reports: list[dict] = []

    def get_deployment(self, deploymentId):
        return {"deploymentInfo": {"deploymentId": deploymentId, "applicationName": "bluegreen-auth"}}

    def put_lifecycle_event_hook_execution_status(self, **kwargs):
        self.reports.append(kwargs)
        return {"lifecycleEventHookExecutionId": kwargs["lifecycleEventHookExecutionId"]}


class Ssm:
    def get_parameter(self, Name):
        assert Name == "/bluegreen/domains/auth/deployment"
        return {"Parameter": {"Value": json.dumps({
            "testEndpoint": "http://auth.bluegreen.internal:9081",
            "smokeChecks": [{"name": "health", "path": "/health"}]})}}


class Events:
    def put_events(self, Entries):
        return {"FailedEntryCount": 0, "Entries": [{}]}


@pytest.fixture
def deadlines(monkeypatch):
    seen: list[float] = []

    def run_checks(specs, base_url, *, deadline, clock):
        seen.append(deadline)
        return [runner.CheckResult(spec.name, True, 200, 5, "HTTP 200 in 5 ms") for spec in specs]

    monkeypatch.setattr(hook._runner, "run_checks", run_checks)
    return seen


def run(remaining_ms: int, env: dict) -> tuple[dict, CodeDeploy]:
    codedeploy = CodeDeploy()
    deps = hook.Deps(codedeploy=codedeploy, ssm=Ssm(), events=Events(), table=None, clock=lambda: STARTED)
    result = hook.handle(EVENT, Context(remaining_ms), deps, env={"PLATFORM_NAME": "bluegreen", **env})
    return result, codedeploy


@pytest.mark.parametrize(("remaining_ms", "env", "deadline"), [
    (60_000, {}, STARTED + 50.0),                                         # default margin: 10 s
    (900_000, {}, STARTED + 890.0),                                       # the hook's 15-minute maximum
    (30_000, {"SMOKE_SAFETY_MARGIN_MS": "1000"}, STARTED + 29.0),
    (5_000, {}, STARTED),                                                 # less than the margin: run nothing
])
def test_checks_stop_the_safety_margin_before_the_lambda_times_out(deadlines, remaining_ms, env, deadline):
    result, codedeploy = run(remaining_ms, env)
    assert deadlines == [deadline]
    assert result["status"] == "Succeeded"
    assert codedeploy.reports == [{"deploymentId": "d-SMOKE0001", "lifecycleEventHookExecutionId": "hook-execution-1",
                                   "status": "Succeeded"}]


def test_checks_past_the_overall_deadline_are_not_run_and_fail():
    specs = smoke_checks.parse_checks([{"name": "health", "path": "/health"}, {"name": "orders", "path": "/orders"}])
    results = runner.run_checks(specs, "http://127.0.0.1:9", deadline=STARTED, clock=lambda: STARTED)
    assert [(r.name, r.passed, r.status, r.detail) for r in results] == [
        ("health", False, None, "not run: the hook's overall deadline was reached"),
        ("orders", False, None, "not run: the hook's overall deadline was reached")]
