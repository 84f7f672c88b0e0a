"""`bgctl approve|reject DEPLOYMENT_ID --reason TEXT [--resend]`: the break-glass decision.

A break-glass path, not a bypass: the decision goes through the platform's deploy API
(`POST /deployments/{id}/decisions`, SigV4-signed with your credentials, docs/deploy-api.md), which
applies exactly the rules of a Slack click: you must be an approver of the domain (your IAM identity
mapped to a Slack user in `platform.slack.identity_map`), you cannot approve a deployment you requested,
and a deployment that needs two approvers needs two distinct people. Every attempt, refused or not, is
an audit record. `--resend` re-sends a recorded decision that CodeDeploy never received.

Exit codes: 0 decided (or your approval recorded and another one still needed); 2 usage / unknown
deployment; 3 refused (not an approver, own deployment, already decided, expired); 7 AWS / deploy API
unreachable; EXIT_PARTIAL (8) the decision is recorded but CodeDeploy was not told: rerun with --resend.
"""
from __future__ import annotations

import json
from typing import Any

from . import errors, inputs
from .errors import AwsError, BgctlError, DeploymentFailed, UsageError

DECISIONS = {"approve": "APPROVED", "reject": "REJECTED"}
#: "partial: decision recorded, CodeDeploy not told" (errors.py defines it once the CLI's exit codes land)
EXIT_PARTIAL = getattr(errors, "EXIT_PARTIAL", 8)


class PartialDecision(BgctlError):
    exit_code = EXIT_PARTIAL


def deploy_api_url(ssm: Any, platform: str) -> str:
    name = f"/{platform}/platform"
    try:
        data = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ValueError:
        raise AwsError(f"{name} is not JSON") from None
    url = data.get("deployApiUrl") if isinstance(data, dict) else None
    if not isinstance(url, str) or not url:
        raise AwsError(f"{name} has no deployApiUrl: deploy the platform stack of this version first")
    return url


def api_client(ctx: Any) -> Any:
    override = ctx.runtime.client_overrides.get("deploy_api") if ctx.runtime.client_overrides else None
    if override is not None:
        return override
    from bgruntime.deploy_api_client import DeployApiClient

    clients = ctx.clients()
    session = clients._get_session()  # noqa: SLF001 - the command's own session and credentials
    credentials = session.get_credentials()
    if credentials is None:
        raise AwsError("no AWS credentials: the deploy API only accepts SigV4-signed requests")
    return DeployApiClient(base_url=deploy_api_url(clients.client("ssm"), ctx.platform), region=clients.region,
                           credentials=credentials.get_frozen_credentials())


def run(ctx: Any, args: Any) -> int:
    from bgruntime import deploy_api_client as api

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
    ctx.out(answer.message)
    if answer.partial:
        raise PartialDecision(f"the decision is recorded but CodeDeploy was not told ({answer.codedeploy_result}); "
                              f"rerun `bgctl {args.command} {deployment_id} --reason ... --resend`")
    if answer.status in ("APPROVED", "REJECTED"):
        ctx.out(f"follow the deployment with: bgctl watch {deployment_id}")
    return 0
