"""How long one release of a domain can take, from its published metadata.

The deploy workflow sizes its AWS credentials (`role-duration-seconds`) and bgctl's `--timeout` from this,
so the job's credentials outlive the wait: start + test checks, the approval window, the traffic shift,
the blue termination wait, the deregistration delay, and a margin (build, push, polling).
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping

START_MINUTES = 15  # green task set start and test-traffic checks
MARGIN_MINUTES = 15  # image build and push, polling, clock skew
MIN_ROLE_SESSION_SECONDS = 900  # STS minimum
MAX_ROLE_SESSION_SECONDS = 43200  # IAM maximum role session (12 h)
_CONFIG = re.compile(r"ECS(?P<style>Canary|Linear)(?P<percent>\d+)Percent(?:Every)?(?P<minutes>\d+)Minutes?$")


def shift_minutes(config_name: str | None) -> int | None:
    """Minutes CodeDeploy takes to move all traffic for an ECS deployment config name (None: unknown name).

    `CodeDeployDefault.ECSAllAtOnce` -> 0, `...ECSCanary10Percent15Minutes` -> 15,
    `P-ECSLinear20PercentEvery2Minutes` -> 8 (4 more steps after the first 20 %).
    """
    if not config_name:
        return None
    if config_name.endswith("ECSAllAtOnce"):
        return 0
    match = _CONFIG.search(config_name)
    if not match:
        return None
    percent, minutes = int(match["percent"]), int(match["minutes"])
    if match["style"] == "Canary":
        return minutes
    return (math.ceil(100 / percent) - 1) * minutes


def release_window(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """`{"minutes": 165, "roleDurationSeconds": 9900, "parts": {...}}` for one domain's metadata document."""
    approval = metadata.get("approval") or {}
    drain = metadata.get("drain") or {}
    traffic = metadata.get("traffic") or {}
    approval_minutes = int(approval.get("expiryMinutes") or 0) if approval.get("required", True) else 0
    published = traffic.get("shiftMinutes")  # the platform publishes it; older metadata: parse the config name
    shift = published if isinstance(published, int) and not isinstance(published, bool) and published >= 0 \
        else shift_minutes(traffic.get("deploymentConfig"))
    parts = {
        "startAndTestMinutes": START_MINUTES,
        "approvalMinutes": approval_minutes,
        "trafficShiftMinutes": shift if shift is not None else 60,  # unknown custom config: assume an hour
        "terminationWaitMinutes": int(drain.get("terminationWaitMinutes") or 0),
        "deregistrationDelayMinutes": math.ceil(int(drain.get("deregistrationDelaySeconds") or 0) / 60),
        "marginMinutes": MARGIN_MINUTES,
    }
    minutes = sum(parts.values())
    seconds = min(MAX_ROLE_SESSION_SECONDS, max(MIN_ROLE_SESSION_SECONDS, minutes * 60))
    return {"minutes": minutes, "roleDurationSeconds": seconds, "parts": parts,
            "trafficConfigKnown": shift is not None}
