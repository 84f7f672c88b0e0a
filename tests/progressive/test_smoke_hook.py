"""AfterAllowTestTraffic hook handler: moto for SSM/DynamoDB/EventBridge, Stubber for CodeDeploy."""
from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from progressive_support import (PLATFORM, REGION, TABLE, FakeContext, ManualClock, RecordingWait, capture_events,
                                 load_event, load_lambda, metadata, put_metadata)

hook = load_lambda("smoke_tests", "handler")

EVENT = load_event("codedeploy_hook_after_allow_test_traffic.json")
DEPLOYMENT_ID = EVENT["DeploymentId"]
HOOK_ID = EVENT["LifecycleEventHookExecutionId"]
ENV = {"PLATFORM_NAME": PLATFORM, "SSM_PREFIX": f"/{PLATFORM}", "AUDIT_TABLE": TABLE, "SMOKE_SAFETY_MARGIN_MS": "1000"}


class Hook:
    """Wires the handler to moto clients and a stubbed CodeDeploy client."""

    def __init__(self, aws) -> None:
        self.aws = aws
        self.codedeploy = aws.codedeploy_stubbed
        self.stub = Stubber(self.codedeploy)
        self.events = capture_events(aws, {"source": ["bluegreen.platform"], "detail-type": ["Smoke Checks Completed"]})

    def expect_get_deployment(self, application: str = f"{PLATFORM}-auth", *, error: str | None = None) -> None:
        if error:
            self.stub.add_client_error("get_deployment", service_error_code=error, http_status_code=400,
                                       expected_params={"deploymentId": DEPLOYMENT_ID})
            return
        self.stub.add_response("get_deployment", {"deploymentInfo": {
            "applicationName": application, "deploymentGroupName": application, "deploymentId": DEPLOYMENT_ID,
            "status": "InProgress", "computePlatform": "ECS",
            "description": "Deploy auth | requester=github:alice image=123456789012.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/auth:v2 source=bgctl",
        }}, {"deploymentId": DEPLOYMENT_ID})

    def expect_report(self, status: str, *, error: str | None = None) -> None:
        params = {"deploymentId": DEPLOYMENT_ID, "lifecycleEventHookExecutionId": HOOK_ID, "status": status}
        if error:
            self.stub.add_client_error("put_lifecycle_event_hook_execution_status", service_error_code=error,
                                       http_status_code=400, expected_params=params)
        else:
            self.stub.add_response("put_lifecycle_event_hook_execution_status",
                                   {"lifecycleEventHookExecutionId": HOOK_ID}, params)

    def run(self, *, remaining_ms: float = 30_000, event=None, env=None, context=None, clock=None):
        deps = hook.Deps(codedeploy=self.codedeploy, ssm=self.aws.ssm, events=self.aws.events, table=self.aws.table,
                         **({"clock": clock} if clock else {}))
        with self.stub:
            result = hook.handle(EVENT if event is None else event, context or FakeContext(remaining_ms), deps,
                                 env=ENV if env is None else env)
            self.stub.assert_no_pending_responses()
        return result

    def smoke_item(self):
        return self.aws.table.get_item(Key={"pk": f"SMOKE#{DEPLOYMENT_ID}", "sk": "RESULT"}).get("Item")


@pytest.fixture
def h(aws):
    return Hook(aws)


def test_hook_event_file_is_shaped_as_codedeploy_sends_it():
    assert set(EVENT) == {"DeploymentId", "LifecycleEventHookExecutionId"}


def test_all_checks_pass_reports_succeeded_records_and_publishes(h, domain_server):
    put_metadata(h.aws, metadata(testEndpoint=domain_server.url, smokeChecks=[
        {"name": "health", "kind": "http", "method": "GET", "path": "/health", "headers": {}, "body": None,
         "expectStatus": 200, "expectJson": {"status": "ok"}, "latencyBudgetMs": 1000},
        {"name": "create order", "method": "POST", "path": "/orders", "body": {"sku": "A1"}, "expectStatus": 201,
         "expectJson": {"order.state": "CREATED"}},
    ]))
    h.expect_get_deployment()
    h.expect_report("Succeeded")

    result = h.run()

    assert result["status"] == "Succeeded" and result["reported"] == "OK" and result["domain"] == "auth"
    item = h.smoke_item()
    assert item["status"] == "PASSED" and item["domain"] == "auth" and item["deploymentId"] == DEPLOYMENT_ID
    assert [c["name"] for c in item["checks"]] == ["health", "create order"]
    assert all(c["passed"] for c in item["checks"])
    assert set(item["checks"][0]) == {"name", "passed", "status", "latencyMs", "detail"}
    assert item["finishedAt"].endswith("Z")
    [event] = h.events()
    assert event["source"] == "bluegreen.platform" and event["detail-type"] == "Smoke Checks Completed"
    assert event["detail"]["platform"] == PLATFORM and event["detail"]["domain"] == "auth"
    assert event["detail"]["deploymentId"] == DEPLOYMENT_ID and event["detail"]["status"] == "PASSED"
    assert (event["detail"]["passed"], event["detail"]["total"]) == (2, 2)


def test_a_failing_check_reports_failed(h, domain_server):
    put_metadata(h.aws, metadata(testEndpoint=domain_server.url, smokeChecks=[
        {"name": "health", "path": "/health"}, {"name": "payments", "path": "/error"}]))
    h.expect_get_deployment()
    h.expect_report("Failed")

    result = h.run()

    assert result["status"] == "Failed" and result["reason"] == "1 of 2 checks failed: payments"
    item = h.smoke_item()
    assert item["status"] == "FAILED"
    assert [(c["name"], c["passed"], c["status"]) for c in item["checks"]] == [("health", True, 200),
                                                                              ("payments", False, 500)]
    [event] = h.events()
    assert event["detail"]["failedChecks"] == ["payments"]


def test_missing_metadata_reports_failed(h):
    h.expect_get_deployment()
    h.expect_report("Failed")
    result = h.run()
    assert result["status"] == "Failed"
    assert result["reason"] == "deployment metadata /bluegreen/domains/auth/deployment not found; deploy the domain stack first"
    assert h.smoke_item()["status"] == "FAILED" and h.smoke_item()["checks"] == []


def test_zero_checks_reports_failed(h, domain_server):
    put_metadata(h.aws, metadata(testEndpoint=domain_server.url, smokeChecks=[]))
    h.expect_get_deployment()
    h.expect_report("Failed")
    result = h.run()
    assert result["status"] == "Failed" and "declares no smoke checks" in result["reason"]


def test_invalid_check_spec_reports_failed_with_the_field(h, domain_server):
    put_metadata(h.aws, metadata(testEndpoint=domain_server.url, smokeChecks=[{"name": "x", "latencyBudgetMs": -1}]))
    h.expect_get_deployment()
    h.expect_report("Failed")
    result = h.run()
    assert result["status"] == "Failed"
    assert "smokeChecks[0].latencyBudgetMs" in result["reason"]


@pytest.mark.parametrize("document", ["not json", "[1, 2]"])
def test_corrupt_metadata_reports_failed(h, document):
    h.aws.ssm.put_parameter(Name="/bluegreen/domains/auth/deployment", Value=document, Type="String")
    h.expect_get_deployment()
    h.expect_report("Failed")
    assert "is not a JSON object" in h.run()["reason"]


def test_missing_test_endpoint_reports_failed(h):
    document = metadata(smokeChecks=[{"name": "health"}])
    del document["testEndpoint"]
    put_metadata(h.aws, document)
    h.expect_get_deployment()
    h.expect_report("Failed")
    assert h.run()["reason"].endswith("testEndpoint is missing")


def test_application_of_another_platform_reports_failed(h):
    h.expect_get_deployment(application="otherplatform-auth")
    h.expect_report("Failed")
    assert "is not a 'bluegreen' domain" in h.run()["reason"]


def test_unknown_deployment_still_tries_to_report_and_never_raises(h):
    h.expect_get_deployment(error="DeploymentDoesNotExistException")
    h.expect_report("Failed", error="DeploymentDoesNotExistException")
    result = h.run()
    assert result["status"] == "Failed" and result["reported"] == "DeploymentDoesNotExist"
    assert result["reason"] == "GetDeployment failed: DeploymentDoesNotExistException"


def test_already_completed_hook_is_not_an_error(h, domain_server):
    put_metadata(h.aws, metadata(testEndpoint=domain_server.url, smokeChecks=[{"name": "health", "path": "/health"}]))
    h.expect_get_deployment()
    h.expect_report("Succeeded", error="LifecycleEventAlreadyCompletedException")
    assert h.run()["reported"] == "LifecycleEventAlreadyCompleted"


def test_unexpected_exception_still_reports_failed(h, domain_server, monkeypatch):
    put_metadata(h.aws, metadata(testEndpoint=domain_server.url, smokeChecks=[{"name": "health", "path": "/health"}]))

    def explode(*args, **kwargs):
        raise RuntimeError("bug in the runner")

    monkeypatch.setattr(hook._runner, "run_checks", explode)
    h.expect_get_deployment()
    h.expect_report("Failed")
    result = h.run()
    assert result["status"] == "Failed" and result["reported"] == "OK"
    assert result["reason"] == "internal error in the smoke hook: RuntimeError"


def test_audit_and_event_failures_do_not_block_the_report(h, domain_server):
    put_metadata(h.aws, metadata(testEndpoint=domain_server.url, smokeChecks=[{"name": "health", "path": "/health"}]))
    h.aws.table.delete()  # PutItem now fails (ResourceNotFound)
    h.expect_get_deployment()
    h.expect_report("Succeeded")
    result = h.run(env={**ENV, "EVENT_BUS_NAME": "no-such-bus"})
    assert result["status"] == "Succeeded" and result["reported"] == "OK"


def test_overall_deadline_from_the_lambda_context_is_respected(h, domain_server, monkeypatch):
    """The Lambda has 2.5 s left and keeps a 1.0 s safety margin (ENV): the checks get 1.5 s of the hook's clock,
    and the hook reports while the "Lambda" still has time. Every slow check uses all the time it is given
    (the injected wait moves the clock), so no wall-clock time is measured."""
    put_metadata(h.aws, metadata(testEndpoint=domain_server.url, smokeChecks=[
        {"name": f"slow-{i}", "path": "/slow", "latencyBudgetMs": 5000} for i in range(20)]))
    clock = ManualClock()
    wait = RecordingWait(join=False, clock=clock)
    real_run_checks = hook._runner.run_checks
    monkeypatch.setattr(hook._runner, "run_checks", lambda *a, **kw: real_run_checks(*a, **kw, wait=wait))
    h.expect_get_deployment()
    h.expect_report("Failed")
    context = FakeContext(2500, clock=clock)
    result = h.run(context=context, clock=clock)
    assert wait.seconds == [1.5, 0.2]  # the first check is cut to the 1.5 s left, then the abort grace
    assert context.get_remaining_time_in_millis() == 800  # reported with 0.8 s to spare
    assert result["status"] == "Failed" and result["reported"] == "OK"
    details = [c["detail"] for c in result["checks"]]
    assert details[0] == "timed out after 1500 ms (cut short by the hook's overall deadline; budget 5000 ms)"
    assert details[1:] == ["not run: the hook's overall deadline was reached"] * 19


def test_not_a_hook_event_is_ignored_without_calls(h):
    result = h.run(event={"foo": "bar"})
    assert result["status"] == "Ignored"


def test_lambda_entry_point_builds_real_clients(aws, monkeypatch):
    """`handler.handler` wires boto3 itself; with moto and no metadata it reports Failed (stubbed)."""
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    codedeploy = boto3.client("codedeploy", region_name=REGION)
    stub = Stubber(codedeploy)
    stub.add_client_error("get_deployment", "DeploymentDoesNotExistException", http_status_code=400)
    stub.add_response("put_lifecycle_event_hook_execution_status", {"lifecycleEventHookExecutionId": HOOK_ID},
                      {"deploymentId": DEPLOYMENT_ID, "lifecycleEventHookExecutionId": HOOK_ID, "status": "Failed"})
    real_default = hook.default_deps

    def deps_with_stub():
        deps = real_default()
        deps.codedeploy = codedeploy
        return deps

    monkeypatch.setattr(hook, "default_deps", deps_with_stub)
    monkeypatch.setattr(hook, "_DEPS", None)
    with stub:
        result = hook.handler(EVENT, FakeContext(20_000))
    assert result["status"] == "Failed" and result["reported"] == "OK"
    assert json.loads(json.dumps(result))  # JSON-serialisable return value


def test_entry_point_reports_failed_even_when_its_clients_cannot_be_built(monkeypatch):
    def broken():
        raise RuntimeError("no region")

    codedeploy_calls = []

    class FakeCodeDeploy:
        def put_lifecycle_event_hook_execution_status(self, **kwargs):
            codedeploy_calls.append(kwargs)

    import boto3 as real_boto3

    monkeypatch.setattr(hook, "default_deps", broken)
    monkeypatch.setattr(hook, "_DEPS", None)
    monkeypatch.setattr(real_boto3, "client", lambda service, **kw: FakeCodeDeploy())
    result = hook.handler(EVENT, FakeContext(20_000))
    assert result["status"] == "Failed" and result["reported"] == "OK"
    assert codedeploy_calls == [{"deploymentId": DEPLOYMENT_ID, "lifecycleEventHookExecutionId": HOOK_ID,
                                 "status": "Failed"}]
