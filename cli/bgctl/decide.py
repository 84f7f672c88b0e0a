"""`bgctl approve|reject DEPLOYMENT_ID --reason TEXT`: the break-glass decision.

Goes through `bgruntime.approvals.decide`, the single decision code path shared with the Slack callback
and the expiry Lambda: the first decision wins (conditional write on `status = PENDING`), nothing is
decided after expiry, and only the winner reports to CodeDeploy. The decider is the caller's IAM ARN.
"""
from __future__ import annotations

import logging
from typing import Any, TextIO

from . import inputs
from .errors import DeploymentFailed, PartialDecision, UsageError, one_line
from .identity import caller_arn
from .metadata import load_platform

DECISIONS = {"approve": "APPROVED", "reject": "REJECTED"}


class _OneLineWarnings(logging.Handler):
    """bgruntime logs warnings with tracebacks for Lambda logs; the CLI shows one line instead."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(level=logging.WARNING)
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        self._stream.write(f"bgctl: warning: {one_line(record.getMessage())}\n")


def _quiet_runtime_logs(stream: TextIO) -> None:
    logger = logging.getLogger("bgruntime")
    logger.handlers = [_OneLineWarnings(stream)]
    logger.propagate = False


def run(ctx: Any, args: Any) -> int:
    decision = DECISIONS[args.command]
    deployment_id = inputs.deployment_id(args.deployment_id)
    reason = inputs.reason(args.reason)
    clients = ctx.clients()
    platform = load_platform(clients.client("ssm"), ctx.platform, clients.region)
    arn = caller_arn(clients.client("sts"))
    _quiet_runtime_logs(ctx.stderr)
    from bgruntime import approvals

    outcome = approvals.decide(
        table_name=platform.audit_table, deployment_id=deployment_id, decision=decision,
        decided_by={"iamArn": arn}, decided_via="cli", reason=reason, now=ctx.clock(),
        dynamodb=clients.client("dynamodb"), codedeploy=clients.client("codedeploy"),
        events=clients.client("events"))
    if outcome.code == approvals.CODE_DECIDED:
        ctx.out(outcome.message)
        ctx.out(f"follow the deployment with: bgctl watch {deployment_id}")
        return 0
    if outcome.code == approvals.CODE_NOT_FOUND:
        raise UsageError(f"{outcome.message} (is {deployment_id} waiting at the approval gate? "
                         "see `bgctl approvals`)")
    if outcome.code == approvals.CODE_CODEDEPLOY_ERROR:
        raise PartialDecision(outcome.message)  # exit 9: recorded, CodeDeploy not told
    # already_decided | expired: nothing was recorded
    raise DeploymentFailed(outcome.message)
