"""`bgctl approve|reject DEPLOYMENT_ID --reason TEXT [--resend]`: the break-glass decision.

A break-glass path, not a bypass: the decision goes through the platform's deploy API
(`POST /deployments/{id}/decisions`, SigV4-signed with your credentials, docs/deploy-api.md), which
applies exactly the rules of a Slack click: you must be an approver of the domain (your IAM identity
mapped to a Slack user in `platform.slack.identity_map`), you cannot approve a deployment you requested,
and a deployment that needs two approvers needs two distinct people. Every attempt, refused or not, is
an audit record. `--resend` re-sends a recorded decision that CodeDeploy never received.

Exit codes (docs/cli.md): 0 decided (or your approval recorded and another one still needed); 2 usage /
unknown deployment; 3 refused (not an approver, own deployment, already decided, expired); 7 deploy API
refused or unreachable; 8 lost contact (the decision may have been recorded: `bgctl approvals --history`);
9 partial: the decision is recorded but CodeDeploy was not told: rerun with --resend.
"""
from __future__ import annotations

from typing import Any

from bgruntime import deploy_api_client as api

from . import inputs
from .errors import AwsError, DeploymentFailed, PartialDecision, UsageError

DECISIONS = {"approve": "APPROVED", "reject": "REJECTED"}


def api_client(ctx: Any) -> Any:
    """The deploy API as bgctl talks to it (never silent, bounded retries); tests inject `deploy_api`."""
    overrides = ctx.runtime.client_overrides or {}
    if overrides.get("deploy_api") is not None:
        return overrides["deploy_api"]
    from .deploy_api import DeployApi
    from .metadata import load_platform, platform_parameter, require_deploy_api

    clients = ctx.clients()
    platform = load_platform(clients.client("ssm"), ctx.platform, clients.region)
    url = require_deploy_api(platform, platform_parameter(ctx.platform))
    return DeployApi(url, region=clients.region, credentials=clients.credentials(),
                     timeouts=clients.retrier.timeouts, retrier=clients.retrier)


def run(ctx: Any, args: Any) -> int:
    decision = DECISIONS[args.command]
    deployment_id = inputs.deployment_id(args.deployment_id)
    reason = inputs.reason(args.reason)
    try:
        answer = api_client(ctx).decide(deployment_id, decision=decision, reason=reason,
                                        resend=bool(getattr(args, "resend", False)))
    except (api.BadRequest, api.NotFound) as error:
        raise UsageError(f"{error.message} (is {deployment_id} waiting at the approval gate? see `bgctl approvals`)")
    except (api.Forbidden, api.Conflict) as error:
        raise DeploymentFailed(f"{error.message} [{error.code}]")
    except api.DeployApiError as error:
        raise AwsError(f"deploy API: {error.message} [{error.code}]")
    ctx.record.data = dict(answer.body)
    ctx.out(answer.message)
    if answer.partial:
        raise PartialDecision(f"the decision is recorded but CodeDeploy was not told ({answer.codedeploy_result}); "
                              f"rerun `bgctl {args.command} {deployment_id} --reason ... --resend`")
    if answer.status in ("APPROVED", "REJECTED"):
        ctx.out(f"follow the deployment with: bgctl watch {deployment_id}")
    return 0
