"""Private CodeDeploy helpers for the smoke-check hook.

Stand-in until `bgruntime.deployments` (load_deployment / report_hook_status) is available in the
layer; same contract, so switching is a one-line import change.
"""
from __future__ import annotations

import re
from typing import Any

_DOMAIN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")

_RESULT_BY_CODE = {
    "LifecycleEventAlreadyCompletedException": "LifecycleEventAlreadyCompleted",
    "DeploymentDoesNotExistException": "DeploymentDoesNotExist",
}


def report_hook_status(codedeploy: Any, deployment_id: str, hook_execution_id: str, status: str) -> str:
    """PutLifecycleEventHookExecutionStatus; never raises.

    Returns `OK`, `LifecycleEventAlreadyCompleted`, `DeploymentDoesNotExist` or `ERROR:<code>`
    (the `codeDeployResult` vocabulary of docs/contracts.md).
    """
    if status not in ("Succeeded", "Failed"):
        raise ValueError(f"status must be Succeeded or Failed, got {status!r}")
    try:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=hook_execution_id, status=status)
        return "OK"
    except Exception as exc:  # noqa: BLE001 - the caller logs; the hook must never raise
        response = getattr(exc, "response", None)
        code = (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None
        if code in _RESULT_BY_CODE:
            return _RESULT_BY_CODE[code]
        return f"ERROR:{code or type(exc).__name__}"


def domain_from_application(application_name: Any, platform: str) -> str | None:
    """`bluegreen-auth` -> `auth` for platform `bluegreen`; None when it is not this platform's."""
    prefix = f"{platform}-"
    if not isinstance(application_name, str) or not application_name.startswith(prefix):
        return None
    domain = application_name[len(prefix):]
    return domain if _DOMAIN.match(domain) else None
