"""The deploy API (docs/deploy-api.md): the only caller of CreateDeployment, and the CLI's decision path.

API Gateway (REST, `AWS_IAM` authorization on every method) has verified the caller's SigV4 signature
before this code runs, so `requestContext.identity.userArn` is the authenticated principal. Pure
request handling lives here; `handler.py` only builds the clients.

Routes:
- `POST /deployments`: validate, attest (GitHub OIDC token when given), refuse a second in-flight
  deployment, CreateDeployment with an AppSpec built from the domain's published metadata (clients never
  send hooks), then the immutable `REGISTERED` record.
- `POST /deployments/{deploymentId}/decisions`: `bgctl approve|reject` through the same rule book as a
  Slack click (`bgruntime.approvals.evaluate`), decided by the caller's verified IAM identity mapped
  through the identity map; `resend: true` re-sends a recorded decision CodeDeploy never received.
Every bad input is a 4xx that changes nothing; nothing answers with a stack trace.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from bgruntime import approvals
from bgruntime.deployments import console_url, describe_error, error_code, in_flight_deployments
from bgruntime.github_oidc import JwksCache, TokenError, verify_token
from bgruntime.identities import (
    deploy_role_prefix, iam_identity, role_name_of, slack_id_for, trigger_role_name, valid_caller_arn,
)
from bgruntime.log import get_logger

MAX_BODY_BYTES = 16 * 1024
ROLLBACK_DEPLOYMENT_CONFIG = "CodeDeployDefault.ECSAllAtOnce"
KINDS = ("release", "rollback")
# AWS documents the ECS AppSpec version as "0.0" (a string, not the number 0).
APPSPEC_VERSION = "0.0"
SOURCES = ("bgctl", "github-actions", "cloudformation")
_DOMAIN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{6,32}$")
_STACK_ID = re.compile(r"^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack/[A-Za-z][A-Za-z0-9-]{0,127}/[0-9a-f-]{36}$")
_log = get_logger("deploy_api")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Mapping[str, Any]

    def to_apigw(self) -> dict[str, Any]:
        return {"statusCode": self.status, "headers": {"Content-Type": "application/json"},
                "body": json.dumps(self.body, default=str), "isBase64Encoded": False}


def fail(status: int, code: str, message: str, **extra: Any) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}, **extra})


@dataclass
class Context:
    """Everything a request needs; tests build it with moto / Stubber clients and a fixed clock."""

    platform: str
    table: str
    region: str
    ssm: Any
    dynamodb: Any
    codedeploy: Any
    jwks: JwksCache
    clock: Callable[[], datetime]
    ssm_prefix: str = ""

    def __post_init__(self) -> None:
        self.ssm_prefix = (self.ssm_prefix or f"/{self.platform}").rstrip("/")


def handle(event: Any, ctx: Context) -> dict[str, Any]:
    try:
        reply = route(event, ctx)
    except Exception as exc:  # noqa: BLE001 - never a stack trace to the client
        _log.exception("deploy API failed unexpectedly")
        reply = fail(500, "internal_error", f"the deploy API failed ({type(exc).__name__}); nothing may have changed, "
                                            "check `bgctl status` before retrying")
    _log.info("deploy API answered", status=reply.status,
              code=(reply.body.get("error") or {}).get("code") if isinstance(reply.body.get("error"), dict)
              else reply.body.get("code"))
    return reply.to_apigw()


def route(event: Any, ctx: Context) -> Reply:
    if not isinstance(event, Mapping):
        return fail(400, "bad_request", "malformed request")
    caller = ((event.get("requestContext") or {}).get("identity") or {}) if isinstance(
        event.get("requestContext"), Mapping) else {}
    arn = caller.get("userArn") if isinstance(caller, Mapping) else None
    if not valid_caller_arn(arn):
        return fail(403, "forbidden", "the request carries no IAM-verified caller (call it with SigV4)")
    body = _json_body(event)
    if isinstance(body, Reply):
        return body
    resource, method = event.get("resource"), event.get("httpMethod")
    if (resource, method) == ("/deployments", "POST"):
        return start_deployment(body, caller, ctx)
    if (resource, method) == ("/deployments/{deploymentId}/decisions", "POST"):
        deployment_id = (event.get("pathParameters") or {}).get("deploymentId")
        return decide(str(deployment_id or ""), body, str(arn), ctx)
    return fail(404, "not_found", "no such route")


def _json_body(event: Mapping[str, Any]) -> dict[str, Any] | Reply:
    raw = event.get("body")
    if event.get("isBase64Encoded") is True and isinstance(raw, str):
        import base64
        import binascii

        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return fail(400, "bad_request", "body is not valid base64 UTF-8")
    if not isinstance(raw, str) or not raw:
        return fail(400, "bad_request", "a JSON body is required")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        return fail(400, "bad_request", f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return fail(400, "bad_request", "body is not JSON")
    if not isinstance(body, dict):
        return fail(400, "bad_request", "body must be a JSON object")
    return body


# ---------------------------------------------------------------------------------------------
# POST /deployments


@dataclass(frozen=True)
class StartRequest:
    domain: str
    task_definition_arn: str
    kind: str
    reason: str
    source: str
    github_oidc_token: str | None
    stack_id: str | None


def parse_start(body: Mapping[str, Any], platform: str) -> StartRequest | Reply:
    allowed = {"domain", "taskDefinitionArn", "kind", "reason", "githubOidcToken", "source", "stackId"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        return fail(400, "bad_request", f"unknown field(s): {', '.join(unknown)}")
    domain = body.get("domain")
    if not isinstance(domain, str) or not _DOMAIN.match(domain):
        return fail(400, "bad_request", "domain must be a domain name ([a-z][a-z0-9-]{0,19})")
    arn = body.get("taskDefinitionArn")
    family = re.escape(f"{platform}-{domain}")
    if not isinstance(arn, str) or not re.match(
            rf"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{{12}}:task-definition/{family}:[1-9]\d{{0,8}}$", arn):
        return fail(400, "bad_request", f"taskDefinitionArn must be a revision of the family {platform}-{domain}")
    kind = body.get("kind", "release")
    if kind not in KINDS:
        return fail(400, "bad_request", "kind must be release or rollback")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 300 or any(ord(c) < 32 for c in reason):
        return fail(400, "bad_request", "reason must be one line of at most 300 characters")
    source = body.get("source")
    if source not in SOURCES:
        return fail(400, "bad_request", f"source must be one of {', '.join(SOURCES)}")
    token = body.get("githubOidcToken")
    if token is not None and (not isinstance(token, str) or not token):
        return fail(400, "bad_request", "githubOidcToken must be a JWT string")
    stack_id = body.get("stackId")
    if stack_id is not None and (source != "cloudformation" or not isinstance(stack_id, str)
                                 or not _STACK_ID.match(stack_id)):
        return fail(400, "bad_request", "stackId is a CloudFormation stack ARN, only with source cloudformation")
    return StartRequest(domain, arn, kind, reason, source, token, stack_id)


def start_deployment(body: Mapping[str, Any], caller: Mapping[str, Any], ctx: Context) -> Reply:
    parsed = parse_start(body, ctx.platform)
    if isinstance(parsed, Reply):
        return parsed
    arn = str(caller.get("userArn"))
    platform_meta = _parameter(ctx, f"{ctx.ssm_prefix}/platform") or {}
    if parsed.domain not in (platform_meta.get("domains") or []):
        return fail(404, "unknown_domain", f"{parsed.domain} is not a domain of platform {ctx.platform}")
    metadata = _parameter(ctx, f"{ctx.ssm_prefix}/domains/{parsed.domain}/deployment")
    if not metadata:
        return fail(404, "unknown_domain", f"domain {parsed.domain} has no published deployment metadata yet")
    role = role_name_of(arn)
    if parsed.source == "cloudformation" and role != trigger_role_name(ctx.platform):
        return fail(403, "forbidden", f"source cloudformation is only accepted from the role "
                                      f"{trigger_role_name(ctx.platform)}")
    requester: dict[str, Any] = {"principalArn": arn, "caller": caller.get("caller"),
                                 "accountId": caller.get("accountId"), "verifiedBy": ["iam"]}
    if parsed.github_oidc_token:
        deployers = [str(r) for r in platform_meta.get("githubDeployers") or []]
        try:
            claims = verify_token(parsed.github_oidc_token, jwks=ctx.jwks, now=ctx.clock().timestamp(),
                                  allowed_repositories=deployers)
        except TokenError as exc:
            _log.warning("GitHub OIDC token refused", problem=exc.reason, caller=arn)
            return fail(403, "bad_attestation", f"GitHub OIDC token refused: {exc.reason}")
        if role and role.startswith(deploy_role_prefix(ctx.platform)) and \
                role != _deploy_role_name(ctx.platform, claims.repository):
            return fail(403, "bad_attestation", "the token's repository does not own the calling deploy role")
        requester.update(githubActor=claims.actor, githubRepository=claims.repository, githubRunId=claims.run_id,
                         githubRef=claims.ref, verifiedBy=["iam", "github-oidc"])
    name = f"{ctx.platform}-{parsed.domain}"
    try:
        running = in_flight_deployments(ctx.codedeploy, platform=ctx.platform, domains=[parsed.domain])
    except Exception as exc:  # noqa: BLE001
        return fail(502, "codedeploy_error", f"could not list deployments in flight ({describe_error(exc)})")
    if running:
        return fail(409, "deployment_in_flight", f"deployment {running[0].deployment_id} of {parsed.domain} is "
                                                 f"still {running[0].status}", deploymentId=running[0].deployment_id)
    request: dict[str, Any] = {
        "applicationName": name, "deploymentGroupName": name,
        "revision": {"revisionType": "AppSpecContent",
                     "appSpecContent": {"content": appspec(metadata, parsed.task_definition_arn)}},
        "description": f"{parsed.kind} {parsed.domain} via the deploy API ({parsed.source}): {parsed.reason}"[:512],
    }
    if parsed.kind == "rollback":
        request["deploymentConfigName"] = ROLLBACK_DEPLOYMENT_CONFIG
    try:
        deployment_id = str(ctx.codedeploy.create_deployment(**request)["deploymentId"])
    except Exception as exc:  # noqa: BLE001
        code = error_code(exc)
        if code == "DeploymentLimitExceededException":
            return fail(409, "deployment_in_flight", "CodeDeploy says a deployment of this group is in progress")
        return fail(502, "codedeploy_error", f"CodeDeploy refused the deployment ({describe_error(exc)})")
    now = ctx.clock()
    registration = approvals.record(
        deployment_id, approvals.REGISTERED_SK, "registration", now, domain=parsed.domain, kind=parsed.kind,
        taskDefinitionArn=parsed.task_definition_arn, requestedAt=approvals.iso(now), requester=requester,
        source=parsed.source, reason=parsed.reason, stackId=parsed.stack_id,
        deploymentConfigName=request.get("deploymentConfigName"))
    registered = True
    try:
        approvals.put_record(table_name=ctx.table, record=registration, dynamodb=ctx.dynamodb)
    except Exception as exc:  # noqa: BLE001 - fail closed: the gate treats it as an unknown requester
        registered = False
        _log.error("deployment started but its registration could not be recorded; the approval gate will "
                   "treat the requester as unknown", deployment_id=deployment_id, error=describe_error(exc))
    _log.info("deployment registered", deployment_id=deployment_id, domain=parsed.domain, kind=parsed.kind,
              source=parsed.source, caller=arn, github_actor=requester.get("githubActor"))
    return Reply(201, {"deploymentId": deployment_id, "registered": registered,
                       "requester": {"principalArn": arn, "githubActor": requester.get("githubActor"),
                                     "verifiedBy": requester["verifiedBy"]},
                       "consoleUrl": console_url(ctx.region, deployment_id)})


def appspec(metadata: Mapping[str, Any], task_definition_arn: str) -> str:
    hooks = [{event: arn} for event, arn in sorted((metadata.get("hooks") or {}).items())
             if isinstance(arn, str) and arn]
    spec: dict[str, Any] = {"version": APPSPEC_VERSION, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
        "TaskDefinition": task_definition_arn,
        "LoadBalancerInfo": {"ContainerName": str(metadata.get("containerName") or "app"),
                             "ContainerPort": int(metadata.get("containerPort") or 80)}}}}]}
    if hooks:
        spec["Hooks"] = hooks
    return json.dumps(spec, separators=(",", ":"), sort_keys=True)


def _deploy_role_name(platform: str, repository: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9+=,.@_-]", "-", repository)
    return f"{platform}-deploy-{safe}"[:64]


def _parameter(ctx: Context, name: str) -> dict[str, Any] | None:
    try:
        value = ctx.ssm.get_parameter(Name=name)["Parameter"]["Value"]
        parsed = json.loads(value)
    except Exception as exc:  # noqa: BLE001
        if error_code(exc) == "ParameterNotFound" or isinstance(exc, ValueError):
            return None
        raise
    return parsed if isinstance(parsed, dict) else None


# ---------------------------------------------------------------------------------------------
# POST /deployments/{id}/decisions

_REFUSAL_STATUS = {approvals.CODE_NOT_FOUND: 404, approvals.CODE_UNAUTHORIZED: 403,
                   approvals.CODE_AUTH_UNAVAILABLE: 403, approvals.CODE_SELF_APPROVAL: 403,
                   approvals.CODE_BLOCKED: 403}


def decide(deployment_id: str, body: Mapping[str, Any], arn: str, ctx: Context) -> Reply:
    if not _DEPLOYMENT_ID.match(deployment_id):
        return fail(400, "bad_request", "deploymentId must look like d-XXXXXXXXX")
    unknown = sorted(set(body) - {"decision", "reason", "resend"})
    if unknown:
        return fail(400, "bad_request", f"unknown field(s): {', '.join(unknown)}")
    decision = body.get("decision")
    if decision not in (approvals.APPROVED, approvals.REJECTED):
        return fail(400, "bad_request", "decision must be APPROVED or REJECTED")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 1000:
        return fail(400, "bad_request", "reason is required (at most 1000 characters)")
    resend = body.get("resend", False)
    if not isinstance(resend, bool):
        return fail(400, "bad_request", "resend must be true or false")
    now = ctx.clock()
    state = approvals.load_state(table_name=ctx.table, deployment_id=deployment_id, dynamodb=ctx.dynamodb)
    if resend:
        return _resend(state, decision, now, ctx)
    platform_meta = _parameter(ctx, f"{ctx.ssm_prefix}/platform") or {}
    slack_id = slack_id_for(iam_identity(arn), platform_meta.get("slackIdentityMap") or {})
    actor = approvals.Actor(via="cli", name=arn.rsplit("/", 1)[-1] or arn, slack_user_id=slack_id, iam_arn=arn)

    def is_approver(a: approvals.Actor) -> bool | None:
        request = state.request or {}
        if not a.slack_user_id:
            return False  # an unmapped IAM principal is nobody's approver
        members = request.get("approverMembers")
        if a.slack_user_id in (request.get("approverUserIds") or []) or \
                (isinstance(members, list) and a.slack_user_id in members):
            return True
        return None if request.get("approverGroupIds") and not isinstance(members, list) else False

    verdict, state = approvals.attempt(
        table_name=ctx.table, deployment_id=deployment_id, actor=actor, action=decision, now=now,
        dynamodb=ctx.dynamodb, state=state, is_approver=is_approver, reason=reason.strip(),
        delivered_by=approvals.DELIVERED_BY_WRITER)
    if not verdict.accepted:
        status = _REFUSAL_STATUS.get(verdict.code, 409)
        return fail(status, verdict.code, verdict.message)
    if not verdict.final:
        return Reply(200, {"code": verdict.code, "message": verdict.message, "status": approvals.PENDING})
    state = approvals.load_state(table_name=ctx.table, deployment_id=deployment_id, dynamodb=ctx.dynamodb)
    delivery = approvals.deliver(state, table_name=ctx.table, now=now, delivered_by="cli", dynamodb=ctx.dynamodb,
                                 codedeploy=ctx.codedeploy)
    return Reply(200, {"code": verdict.code, "message": f"{verdict.message} {delivery.message}",
                       "status": verdict.decision, "codeDeployResult": delivery.result,
                       "partial": delivery.retryable})


def _resend(state: approvals.ApprovalState, decision: str, now: datetime, ctx: Context) -> Reply:
    if not state.decision:
        return fail(409, "no_decision", f"deployment {state.deployment_id} has no recorded decision to re-send")
    if state.decision.get("status") != decision:
        return fail(409, "different_decision", f"the recorded decision is {state.decision.get('status')}, "
                                               f"not {decision}; nothing changed")
    delivery = approvals.deliver(state, table_name=ctx.table, now=now, delivered_by="cli-resend",
                                 dynamodb=ctx.dynamodb, codedeploy=ctx.codedeploy)
    code = "resent" if not state.delivered else "already_delivered"
    return Reply(200, {"code": code, "message": delivery.message, "status": state.decision.get("status"),
                       "codeDeployResult": delivery.result, "partial": delivery.retryable})
