"""Expiry: the one-shot EventBridge Scheduler target fired at `expiresAt` with `{"deploymentId": ...}`.

PENDING -> `decide(EXPIRED, decided_via="expiry")` (CodeDeploy told Failed) and the Slack message
updated to "expired". Already decided -> no state change, no Slack call; the only extra work is a
safety net: if the earlier decision could not be delivered to CodeDeploy (`codeDeployResult`
`ERROR:<code>`), it is re-sent once.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from approval_gate import messages
from approval_gate.runtime import Runtime
from bgruntime import approvals
from bgruntime.deployments import console_url
from bgruntime.log import get_logger

_DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{6,32}$")
_log = get_logger("approval.expiry")
EXPIRY_ACTOR = {"name": "approval expiry"}


def handle(event: Any, rt: Runtime) -> dict[str, Any]:
    deployment_id = event.get("deploymentId") if isinstance(event, Mapping) else None
    if not isinstance(deployment_id, str) or not _DEPLOYMENT_ID.match(deployment_id):
        _log.error("expiry event without a valid deploymentId; ignored",
                   event_keys=sorted(map(str, event)) if isinstance(event, Mapping) else type(event).__name__)
        return {"result": "ignored"}
    settings = rt.settings
    outcome = approvals.decide(
        table_name=settings.table, deployment_id=deployment_id, decision=approvals.EXPIRED,
        decided_by=dict(EXPIRY_ACTOR), decided_via="expiry", reason="no decision before the approval expired",
        now=rt.now(), dynamodb=rt.dynamodb, codedeploy=rt.codedeploy, events=rt.events)
    if not outcome.recorded:
        retried = None
        if outcome.code == approvals.CODE_ALREADY_DECIDED and str(outcome.codedeploy_result or "").startswith("ERROR:"):
            retried = approvals.retry_codedeploy_report(table_name=settings.table, deployment_id=deployment_id,
                                                        dynamodb=rt.dynamodb, codedeploy=rt.codedeploy)
        _log.info("expiry: nothing to expire", deployment_id=deployment_id, code=outcome.code,
                  status=outcome.status, retried_codedeploy=retried.codedeploy_result if retried else None)
        return {"result": "noop", "code": outcome.code, "status": outcome.status,
                "codeDeployRetry": retried.codedeploy_result if retried else None}
    item = outcome.item or {}
    updated = _update_message(rt, item, deployment_id)
    _log.info("approval expired", deployment_id=deployment_id, domain=item.get("domain"),
              codedeploy_result=outcome.codedeploy_result, slack_updated=updated)
    return {"result": "expired", "code": outcome.code, "codeDeployResult": outcome.codedeploy_result,
            "slackUpdated": updated}


def _update_message(rt: Runtime, item: Mapping[str, Any], deployment_id: str) -> bool:
    if not item.get("slackChannel") or not item.get("slackTs"):
        return False
    text, blocks = messages.decided_message(item, console_url=console_url(rt.settings.region, deployment_id))
    try:
        rt.slack(timeout=3.0).update_message(channel=str(item["slackChannel"]), ts=str(item["slackTs"]),
                                             text=text, blocks=blocks)
    except Exception as exc:  # noqa: BLE001 - the decision is recorded and reported; the message is cosmetic
        _log.warning("could not update the approval message", deployment_id=deployment_id,
                     error=getattr(exc, "reason", type(exc).__name__))
        return False
    return True
