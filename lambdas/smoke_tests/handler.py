"""AfterAllowTestTraffic hook: run the domain's smoke checks against its test listener.

Invoked by CodeDeploy with `{"DeploymentId": ..., "LifecycleEventHookExecutionId": ...}`.

1. GetDeployment -> application `P-D` -> domain `D`.
2. SSM `/P/domains/D/deployment` -> `testEndpoint`, `smokeChecks` (camelCase, docs/contracts.md).
3. Run the checks in order, each bounded by its latency budget, all bounded by an overall deadline
   = the Lambda's remaining time minus SMOKE_SAFETY_MARGIN_MS (time kept for steps 4-6).
4. Audit table record `SMOKE#<id>` / `RESULT` (written once, before reporting, so the approval hook
   that runs next can show the results).
5. EventBridge `Smoke Checks Completed` (source `bluegreen.platform`).
6. PutLifecycleEventHookExecutionStatus: Succeeded only when there is at least one check and all
   passed; Failed otherwise (missing/invalid metadata, invalid check spec, zero checks, any failed
   check, deadline reached, any unexpected error). The handler never raises and always reports.

Env: PLATFORM_NAME, SSM_PREFIX (default `/PLATFORM_NAME`), AUDIT_TABLE, EVENT_BUS_NAME (optional,
default bus), SMOKE_SAFETY_MARGIN_MS (default 10000).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

try:  # package import (tests) or top-level modules (Lambda asset root)
    from bgruntime import smoke_checks as _checks
    from . import runner as _runner
except ImportError:  # pragma: no cover - exercised in Lambda
    from bgruntime import smoke_checks as _checks  # type: ignore[no-redef]
    import runner as _runner  # type: ignore[no-redef]

from bgruntime import event_patterns
from bgruntime.deployments import describe_error, report_hook_status
from bgruntime.log import get_logger

log = get_logger("smoke_tests")

EVENT_SOURCE = event_patterns.PLATFORM_SOURCE
EVENT_DETAIL_TYPE = event_patterns.SMOKE_CHECKS_COMPLETED
DEFAULT_SAFETY_MARGIN_MS = 10_000
DEFAULT_REMAINING_MS = 60_000  # when invoked without a Lambda context (local runs)
MIN_TIME_FOR_BOOKKEEPING_S = 4.0  # below this, skip audit + event and report straight away


@dataclass
class Deps:
    codedeploy: Any
    ssm: Any
    events: Any
    table: Any  # boto3 DynamoDB Table resource, or None when AUDIT_TABLE is unset
    clock: Callable[[], float] = time.monotonic
    utcnow: Callable[[], _dt.datetime] = lambda: _dt.datetime.now(_dt.timezone.utc)


@dataclass
class Outcome:
    passed: bool
    reason: str
    domain: str | None = None
    test_endpoint: str | None = None
    results: list[_runner.CheckResult] = field(default_factory=list)


def default_deps() -> Deps:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})
    table_name = os.environ.get("AUDIT_TABLE")
    table = boto3.resource("dynamodb", config=config).Table(table_name) if table_name else None
    return Deps(codedeploy=boto3.client("codedeploy", config=config), ssm=boto3.client("ssm", config=config),
                events=boto3.client("events", config=config), table=table)


_DEPS: Deps | None = None


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point (`handler.handler`). Clients are reused across invocations."""
    global _DEPS
    started = time.monotonic()
    try:
        if _DEPS is None:
            _DEPS = default_deps()
    except Exception:  # noqa: BLE001 - still try to release the hook with Failed
        log.exception("smoke hook could not create its AWS clients")
        return _report_failed_without_deps(event)
    return handle(event, context, _DEPS, started=started)


def _report_failed_without_deps(event: Any) -> dict[str, Any]:
    deployment_id, hook_execution_id = _hook_ids(event)
    reported = "ERROR:clients"
    if deployment_id and hook_execution_id:
        try:
            import boto3

            reported = report_hook_status(boto3.client("codedeploy"), deployment_id, hook_execution_id, "Failed")
        except Exception:  # noqa: BLE001
            log.exception("could not report Failed", deployment_id=deployment_id)
    return {"deploymentId": deployment_id, "status": "Failed", "reported": reported,
            "reason": "the smoke hook could not create its AWS clients"}


def handle(event: Any, context: Any, deps: Deps, *, env: Mapping[str, str] | None = None,
           started: float | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    started = deps.clock() if started is None else started
    deployment_id, hook_execution_id = _hook_ids(event)
    if not deployment_id or not hook_execution_id:
        log.error("not a CodeDeploy lifecycle hook invocation; nothing to report", event_keys=_keys(event))
        return {"status": "Ignored", "reason": "missing DeploymentId or LifecycleEventHookExecutionId"}

    remaining_s = _remaining_seconds(context)
    margin_s = _int_env(env, "SMOKE_SAFETY_MARGIN_MS", DEFAULT_SAFETY_MARGIN_MS) / 1000.0
    deadline = started + max(0.0, remaining_s - margin_s)
    started_at = deps.utcnow()

    try:
        outcome = evaluate(deployment_id, deps, env=env, deadline=deadline)
    except Exception as exc:  # noqa: BLE001 - an unexpected error must still report Failed
        log.exception("smoke hook failed unexpectedly", deployment_id=deployment_id)
        outcome = Outcome(passed=False, reason=f"internal error in the smoke hook: {type(exc).__name__}")

    status = "Succeeded" if outcome.passed else "Failed"
    if hasattr(context, "get_remaining_time_in_millis"):
        time_left = _remaining_seconds(context)
    else:
        time_left = DEFAULT_REMAINING_MS / 1000.0 - (deps.clock() - started)
    if time_left >= MIN_TIME_FOR_BOOKKEEPING_S:
        _record(deps, env, deployment_id, outcome, started_at)
        _publish(deps, env, deployment_id, outcome)
    else:
        log.error("too little time left; skipping audit record and event", deployment_id=deployment_id,
                  seconds_left=round(time_left, 2))
    reported = report_hook_status(deps.codedeploy, deployment_id, hook_execution_id, status)
    log_fn = log.info if reported in ("OK", "LifecycleEventAlreadyCompleted") else log.error
    log_fn("smoke hook reported", deployment_id=deployment_id, domain=outcome.domain, status=status,
           reported=reported, reason=outcome.reason,
           failed_checks=[r.name for r in outcome.results if not r.passed])
    return {"deploymentId": deployment_id, "domain": outcome.domain, "status": status, "reported": reported,
            "reason": outcome.reason, "checks": [r.to_item() for r in outcome.results]}


def evaluate(deployment_id: str, deps: Deps, *, env: Mapping[str, str], deadline: float) -> Outcome:
    """Steps 1-3. Expected problems become a failed Outcome; only bugs raise."""
    platform = env.get("PLATFORM_NAME", "")
    if not platform:
        return Outcome(False, "PLATFORM_NAME is not set on the smoke hook function")
    prefix = (env.get("SSM_PREFIX") or f"/{platform}").rstrip("/")

    try:
        info = deps.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    except Exception as exc:  # noqa: BLE001
        return Outcome(False, f"GetDeployment failed: {describe_error(exc)}")
    application = info.get("applicationName")
    domain = domain_from_application(application, platform)
    if domain is None:
        return Outcome(False, f"application {application!r} is not a {platform!r} domain (expected '{platform}-<domain>')")

    parameter = f"{prefix}/domains/{domain}/deployment"
    try:
        raw = deps.ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except Exception as exc:  # noqa: BLE001
        code = describe_error(exc)
        if code == "ParameterNotFound":
            return Outcome(False, f"deployment metadata {parameter} not found; deploy the domain stack first", domain)
        return Outcome(False, f"reading {parameter} failed: {code}", domain)
    try:
        metadata = json.loads(raw)
        if not isinstance(metadata, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        return Outcome(False, f"deployment metadata {parameter} is not a JSON object ({exc})", domain)

    endpoint = metadata.get("testEndpoint")
    try:
        _runner.parse_base_url(endpoint)
    except _runner.EndpointError as exc:
        return Outcome(False, f"{parameter}: {exc}", domain)
    try:
        specs = _checks.parse_checks(metadata.get("smokeChecks"))
    except _checks.CheckSpecError as exc:
        return Outcome(False, f"invalid smoke check in {parameter}: {exc}", domain, endpoint)
    if not specs:
        return Outcome(False, f"domain {domain!r} declares no smoke checks; traffic only moves after at least "
                              "one passing check (add smoke_checks to the domain config)", domain, endpoint)

    results = _runner.run_checks(specs, endpoint, deadline=deadline, clock=deps.clock)
    failed = [r.name for r in results if not r.passed]
    if failed:
        reason = f"{len(failed)} of {len(results)} checks failed: {', '.join(failed)}"
        return Outcome(False, _clip(reason, 500), domain, endpoint, results)
    return Outcome(True, f"all {len(results)} checks passed", domain, endpoint, results)


# ------------------------------------------------------------------------------------------ bookkeeping
def _record(deps: Deps, env: Mapping[str, str], deployment_id: str, outcome: Outcome,
            started_at: _dt.datetime) -> None:
    if deps.table is None:
        log.warning("AUDIT_TABLE is not set; smoke results not recorded", deployment_id=deployment_id)
        return
    item: dict[str, Any] = {
        "pk": f"SMOKE#{deployment_id}",  # its own key space: the smoke role cannot touch approval records
        "sk": "RESULT",
        "deploymentId": deployment_id,
        "status": "PASSED" if outcome.passed else "FAILED",
        "checks": [r.to_item() for r in outcome.results],
        "reason": outcome.reason,
        "startedAt": _iso(started_at),
        "finishedAt": _iso(deps.utcnow()),
    }
    if outcome.domain:
        item["domain"] = outcome.domain
    if outcome.test_endpoint:
        item["testEndpoint"] = outcome.test_endpoint
    try:
        deps.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")  # append-only
    except Exception as exc:  # noqa: BLE001 - the verdict does not depend on the audit write
        log.error("recording smoke results failed", deployment_id=deployment_id, error=describe_error(exc))


def _publish(deps: Deps, env: Mapping[str, str], deployment_id: str, outcome: Outcome) -> None:
    detail = {
        "platform": env.get("PLATFORM_NAME", ""),
        "domain": outcome.domain,
        "deploymentId": deployment_id,
        "status": "PASSED" if outcome.passed else "FAILED",
        "passed": sum(1 for r in outcome.results if r.passed),
        "total": len(outcome.results),
        "failedChecks": [r.name for r in outcome.results if not r.passed],
        "reason": outcome.reason,
        "checks": [r.to_item() for r in outcome.results],
    }
    entry: dict[str, Any] = {"Source": EVENT_SOURCE, "DetailType": EVENT_DETAIL_TYPE, "Detail": json.dumps(detail)}
    if env.get("EVENT_BUS_NAME"):
        entry["EventBusName"] = env["EVENT_BUS_NAME"]
    try:
        answer = deps.events.put_events(Entries=[entry])
        if answer.get("FailedEntryCount"):
            log.error("publishing smoke event failed", deployment_id=deployment_id, entries=answer.get("Entries"))
    except Exception as exc:  # noqa: BLE001
        log.error("publishing smoke event failed", deployment_id=deployment_id, error=describe_error(exc))


# ---------------------------------------------------------------------------------------------- helpers
_DOMAIN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")


def domain_from_application(application_name: Any, platform: str) -> str | None:
    """`bluegreen-auth` -> `auth` for platform `bluegreen`; None when it is not this platform's."""
    prefix = f"{platform}-"
    if not isinstance(application_name, str) or not application_name.startswith(prefix):
        return None
    domain = application_name[len(prefix):]
    return domain if _DOMAIN.match(domain) else None


def _hook_ids(event: Any) -> tuple[str | None, str | None]:
    if not isinstance(event, dict):
        return None, None
    deployment_id = event.get("DeploymentId")
    hook_execution_id = event.get("LifecycleEventHookExecutionId")
    return (deployment_id if isinstance(deployment_id, str) and deployment_id else None,
            hook_execution_id if isinstance(hook_execution_id, str) and hook_execution_id else None)


def _remaining_seconds(context: Any) -> float:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if getter is None:
        return DEFAULT_REMAINING_MS / 1000.0
    try:
        return max(0.0, float(getter()) / 1000.0)
    except Exception:  # noqa: BLE001
        return DEFAULT_REMAINING_MS / 1000.0


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return max(0, int(env.get(name, default)))
    except (TypeError, ValueError):
        return default




def _keys(event: Any) -> list[str]:
    return sorted(str(k) for k in event)[:10] if isinstance(event, dict) else [type(event).__name__]


def _iso(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
