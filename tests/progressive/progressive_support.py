"""Helpers shared by the tests in this directory (fixtures live in conftest.py).

Named uniquely (not imported as `conftest`) because several test directories have their own
top-level conftest.py.

Lambda modules are imported from their asset directories under unique package names, because
every Lambda directory has its own `handler.py`.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
LAMBDAS = ROOT / "lambdas"
EVENTS = Path(__file__).resolve().parent / "events"
PLATFORM = "bluegreen"
TABLE = "bluegreen-deployments"
REGION = "eu-west-1"


def load_lambda(directory: str, module: str) -> types.ModuleType:
    """Import `lambdas/<directory>/<module>.py` as `_bg_lambda_<directory>.<module>`."""
    package = f"_bg_lambda_{directory}"
    if package not in sys.modules:
        path = str(LAMBDAS / directory)
        spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
        spec.submodule_search_locations = [path]
        pkg = importlib.util.module_from_spec(spec)
        pkg.__path__ = [path]
        sys.modules[package] = pkg
    return importlib.import_module(f"{package}.{module}")


def load_event(name: str, **detail: Any) -> dict[str, Any]:
    event = json.loads((EVENTS / name).read_text())
    if detail:
        event = json.loads(json.dumps(event))
        event["detail"].update(detail)
    return event


def metadata(domain: str = "auth", **overrides: Any) -> dict[str, Any]:
    document = {
        "schemaVersion": 1, "platform": PLATFORM, "domain": domain, "region": REGION,
        "codeDeployApplication": f"{PLATFORM}-{domain}", "deploymentGroup": f"{PLATFORM}-{domain}",
        "endpoint": "http://auth.bluegreen.internal:8081", "testEndpoint": "http://auth.bluegreen.internal:9081",
        "auditTable": TABLE,
        "approval": {"required": True, "channel": None, "approverUserIds": ["U0BOB"], "approverGroupIds": [],
                     "expiryMinutes": 45},
        "smokeChecks": [],
    }
    document.update(overrides)
    return document


def put_metadata(aws: Any, document: dict[str, Any], domain: str = "auth") -> None:
    aws.ssm.put_parameter(Name=f"/{PLATFORM}/domains/{domain}/deployment", Value=json.dumps(document),
                          Type="String", Overwrite=True)


def capture_events(aws: Any, pattern: dict[str, Any]) -> Callable[[], list[dict[str, Any]]]:
    """Route events matching `pattern` on the default bus to an SQS queue; return a reader."""
    queue_url = aws.sqs.create_queue(QueueName=f"capture-{time.monotonic_ns()}")["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"capture-{time.monotonic_ns()}"
    aws.events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    aws.events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])

    def read() -> list[dict[str, Any]]:
        messages = aws.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return read


class FakeContext:
    """The part of the Lambda context the handlers use; its remaining time runs on `clock`."""

    def __init__(self, remaining_ms: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._deadline = clock() + remaining_ms / 1000.0
        self.aws_request_id = "req-1"
        self.function_name = "CodeDeployHook_bluegreen_smoke-tests"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(round((self._deadline - self._clock()) * 1000)))


class ManualClock:
    """Monotonic seconds that move only when `advance` is called."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingWait:
    """The smoke runner's `wait`: records every wait the runner asks for (seconds) and its worker threads.

    `join=True` waits for the worker for real (the check really ran that long without finishing);
    `join=False` returns at once and moves `clock` by the whole wait, as if the check had used all of it.
    Either way the test asserts what the runner asked for, never how long it took.
    """

    def __init__(self, *, join: bool, clock: ManualClock | None = None) -> None:
        self.join = join
        self.clock = clock
        self.seconds: list[float] = []
        self.threads: list[Any] = []

    def __call__(self, thread: Any, seconds: float) -> None:
        self.seconds.append(seconds)
        self.threads.append(thread)
        if self.join:
            thread.join(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)
