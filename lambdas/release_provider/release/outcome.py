"""What a handler returns to the Provider framework, and the two ways a resource fails."""
from __future__ import annotations

from typing import Any

NONE = "none"


class Refused(Exception):
    """Nothing was changed; the message says why and what to do (shown as the CloudFormation event reason)."""


class ReleaseFailed(Exception):
    """CodeDeploy did not release the revision; production runs the previous one."""


def on_event_result(physical_id: str, *, action: str, deployment_id: str = NONE, started_at: float = 0.0,
                    **data: Any) -> dict[str, Any]:
    """`Data` values are strings: CloudFormation hands them to `Fn::GetAtt` as such."""
    values = {"Action": action, "DeploymentId": deployment_id, "StartedAt": f"{started_at:.0f}", **data}
    return {"PhysicalResourceId": physical_id, "Data": {k: str(v) for k, v in values.items()}}


def complete(data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"IsComplete": True, "Data": {k: str(v) for k, v in (data or {}).items()}}


def waiting() -> dict[str, Any]:
    return {"IsComplete": False}
