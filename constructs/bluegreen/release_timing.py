"""How long a release can take, worst case, and how long CloudFormation waits for one.

A config change released by `cdk deploy` keeps the stack update open until CodeDeploy finishes, so that the
stack never reports success while production runs something else. CloudFormation gives one custom resource
at most an hour (`ServiceTimeout` 1..3600 s), so the wait is a chain: the trigger, then waiters, each waiting
`WAIT_BUDGET_MINUTES` before handing over.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bluegreen.config.model import DomainSpec

# Green task set start + health checks (~5 min) and the AfterAllowTestTraffic smoke-check hook (<= 5 min).
INSTALL_AND_TEST_MINUTES = 15
WAIT_BUDGET_MINUTES = 50  # of the hour CloudFormation allows one custom resource
MAX_WAITING_RESOURCES = 8  # the trigger + 7 waiters: at most 400 minutes of waiting in one stack update


def worst_case_release_minutes(spec: "DomainSpec") -> int:
    """Install + test checks + the whole approval window + every traffic step + the blue termination wait + the
    blue targets' deregistration delay (CodeDeploy reports success once the original task set is gone)."""
    approval = spec.approval.expiry_minutes if spec.approval.required else 0
    drain = math.ceil(spec.drain.deregistration_delay_seconds / 60)
    return (INSTALL_AND_TEST_MINUTES + approval + spec.traffic.total_shift_minutes
            + spec.drain.termination_wait_minutes + drain)


def waiting_resources(spec: "DomainSpec") -> int:
    """The trigger plus the waiters that follow it."""
    return max(1, math.ceil(worst_case_release_minutes(spec) / WAIT_BUDGET_MINUTES))


def max_release_minutes() -> int:
    return MAX_WAITING_RESOURCES * WAIT_BUDGET_MINUTES
