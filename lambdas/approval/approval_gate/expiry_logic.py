"""Expiry: the one-shot EventBridge Scheduler target fired at `expiresAt` with `{"deploymentId": ...}`.

No decision yet -> the platform records EXPIRED (conditional put of `DECISION`, first writer wins)
and tells CodeDeploy **Failed** itself (`deliveredBy: writer`: the expiry runs close to CodeDeploy's
60-minute deadline, so it does not wait for the worker). Already decided but CodeDeploy never got it
(no final `CODEDEPLOY#` answer) -> the safety net re-sends the recorded decision. Otherwise nothing.
The Slack message is updated by the worker when the DECISION record appears.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from approval_gate.runtime import Runtime
from bgruntime import approvals
from bgruntime.log import get_logger

_DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{6,32}$")
_log = get_logger("approval.expiry")
EXPIRY_ACTOR = approvals.Actor(via="expiry", name="approval expiry")


def handle(event: Any, rt: Runtime) -> dict[str, Any]:
    deployment_id = event.get("deploymentId") if isinstance(event, Mapping) else None
    if not isinstance(deployment_id, str) or not _DEPLOYMENT_ID.match(deployment_id):
        _log.error("expiry event without a valid deploymentId; ignored",
                   event_keys=sorted(map(str, event)) if isinstance(event, Mapping) else type(event).__name__)
        return {"result": "ignored"}
    settings = rt.settings
    now = rt.now()
    verdict, state = approvals.attempt(
        table_name=settings.table, deployment_id=deployment_id, actor=EXPIRY_ACTOR, action=approvals.EXPIRED,
        now=now, dynamodb=rt.dynamodb, is_approver=lambda _: True, delivered_by=approvals.DELIVERED_BY_WRITER,
        record_refusal=False)
    if verdict.accepted:
        state = approvals.load_state(table_name=settings.table, deployment_id=deployment_id, dynamodb=rt.dynamodb)
        delivery = approvals.deliver(state, table_name=settings.table, now=now, delivered_by="expiry",
                                     dynamodb=rt.dynamodb, codedeploy=rt.codedeploy)
        _log.info("approval expired", deployment_id=deployment_id, codedeploy_result=delivery.result)
        if delivery.retryable:
            raise RuntimeError(f"CodeDeploy not told ({delivery.result}); the scheduler retries")
        return {"result": "expired", "code": verdict.code, "codeDeployResult": delivery.result}
    retried = None
    if verdict.code == approvals.CODE_ALREADY_DECIDED and state is not None and not state.delivered:
        retried = approvals.deliver(state, table_name=settings.table, now=now, delivered_by="expiry-safety-net",
                                    dynamodb=rt.dynamodb, codedeploy=rt.codedeploy)
    _log.info("expiry: nothing to expire", deployment_id=deployment_id, code=verdict.code,
              retried_codedeploy=retried.result if retried else None)
    return {"result": "noop", "code": verdict.code, "status": state.status if state else "",
            "codeDeployRetry": retried.result if retried else None}
