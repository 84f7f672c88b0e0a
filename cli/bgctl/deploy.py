"""`bgctl deploy DOMAIN --image URI`: register a revision and start the deployment through the deploy API.

Order matters: everything that can be checked without AWS is checked first (exit 2); then the platform
and domain metadata are read (unknown domain -> 2, missing -> 7); the image is looked up in ECR, an
in-flight deployment is refused (7); only then is a task-definition revision registered and the deployment
requested from the deploy API (docs/deploy-api.md), which records the verified caller and calls CodeDeploy.
Nothing here updates the ECS service: CodeDeploy is the only traffic control plane.
"""
from __future__ import annotations

from typing import Any, Mapping

from . import inputs, taskdef
from .deploy_api import DeployApi, Registration, github_oidc_token
from .errors import AwsError, BgctlError, UsageError, error_code
from .links import console_url, resume_command
from .metadata import DomainMetadata, PlatformInfo, load_domain, load_platform, platform_parameter, require_deploy_api
from .progress import IN_FLIGHT_STATUSES

REQUESTER_DEPRECATED = ("--requester is deprecated and ignored: the deploy API records your verified identity "
                        "(IAM, plus the GitHub OIDC token in Actions)")


def in_flight(codedeploy: Any, metadata: DomainMetadata) -> list[str]:
    answer = codedeploy.list_deployments(applicationName=metadata.application,
                                         deploymentGroupName=metadata.deployment_group,
                                         includeOnlyStatuses=list(IN_FLIGHT_STATUSES))
    return list(answer.get("deployments") or [])


def refuse_if_in_flight(codedeploy: Any, metadata: DomainMetadata) -> None:
    running = in_flight(codedeploy, metadata)
    if running:
        raise AwsError(f"deployment {running[0]} is already in progress for {metadata.domain!r}: follow it with "
                       f"`bgctl watch {running[0]}` or stop it with `bgctl rollback {metadata.domain}`")


def check_image_in_ecr(ecr: Any, image: inputs.ImageRef, region: str) -> None:
    """Fail fast (exit 2) when an ECR image does not exist, instead of ECS failing to pull it later.

    Only images in this region's ECR are checked; other registries are left to ECS.
    """
    if image.ecr_account is None or image.ecr_region != region:
        return
    image_id = {"imageDigest": image.digest} if image.digest else {"imageTag": str(image.tag)}
    try:
        ecr.describe_images(registryId=image.ecr_account, repositoryName=image.repository, imageIds=[image_id])
    except Exception as exc:
        code = error_code(exc)
        if code == "ImageNotFoundException":
            raise UsageError(f"image {image.uri} not found in ECR repository {image.repository}: "
                             "push it first") from None
        if code == "RepositoryNotFoundException":
            raise UsageError(f"ECR repository {image.repository} does not exist in account "
                             f"{image.ecr_account}") from None
        raise


def write_github_output(env: Mapping[str, str], values: Mapping[str, str]) -> None:
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for key, value in values.items():
            handle.write(f"{key}={value}\n")


def source_of(env: Mapping[str, str]) -> str:
    return "github-actions" if env.get("GITHUB_ACTIONS") == "true" else "bgctl"


def start_through_api(ctx: Any, clients: Any, platform: PlatformInfo, metadata: DomainMetadata, *,
                      task_definition_arn: str, kind: str, reason: str | None) -> Registration:
    """POST /deployments (kind release | rollback); records the deployment (and its resume command) at once."""
    url = require_deploy_api(platform, platform_parameter(ctx.platform))
    token = None
    try:
        token = github_oidc_token(ctx.env, timeouts=clients.retrier.timeouts, retrier=clients.retrier)
    except BgctlError as missing:
        ctx.warn(f"{missing.message}; the deploy API records the IAM identity only")
    ctx.say(f"requesting the {kind} of {metadata.domain} ({taskdef.revision_label(task_definition_arn)}) from the "
            f"deploy API {url}")
    api = DeployApi(url, region=clients.region, credentials=clients.credentials(), timeouts=clients.retrier.timeouts,
                    retrier=clients.retrier)
    registration = api.start_deployment(domain=metadata.domain, task_definition_arn=task_definition_arn, kind=kind,
                                        reason=reason, source=source_of(ctx.env), github_oidc_token=token)
    link = registration.console_url or console_url(clients.region, registration.deployment_id)
    ctx.record.deployment_update(id=registration.deployment_id, domain=metadata.domain, kind=kind,
                                 taskDefinition=task_definition_arn, consoleUrl=link,
                                 requester=dict(registration.requester) or None)
    ctx.record.resume = resume_command(registration.deployment_id)
    write_github_output(ctx.env, {"deployment_id": registration.deployment_id, "task_definition": task_definition_arn,
                                  "console_url": link})
    ctx.say(f"created {'rollback ' if kind == 'rollback' else ''}deployment {registration.deployment_id} for "
            f"{metadata.domain} (requester {registration.requester_text()})")
    ctx.say(f"console: {link}")
    return registration


def run(ctx: Any, args: Any) -> int:
    from .watch import watch_deployment

    domain = inputs.domain(args.domain)
    image = inputs.image(args.image)
    env = inputs.env_pairs(args.env)
    reason = inputs.api_reason(args.reason) if args.reason is not None else None
    if args.requester:
        ctx.warn(REQUESTER_DEPRECATED)
    if image.tag == "latest" and not image.digest:
        ctx.warn("deploying the mutable tag 'latest': prefer an immutable tag (git sha) or a digest")

    clients = ctx.clients()
    platform = load_platform(clients.client("ssm"), ctx.platform, clients.region)
    platform.require_domain(domain)
    require_deploy_api(platform, platform_parameter(ctx.platform))
    metadata = load_domain(clients.client("ssm"), ctx.platform, domain, clients.region)
    check_image_in_ecr(clients.client("ecr"), image, clients.region)
    codedeploy = clients.client("codedeploy")
    refuse_if_in_flight(codedeploy, metadata)

    new_arn, base_arn = taskdef.register_revision(clients.client("ecs"), metadata, image=image.uri, env=env)
    ctx.say(f"registered {taskdef.revision_label(new_arn)} (from {taskdef.revision_label(base_arn)}) "
            f"with image {image.uri}")
    ctx.record.deployment_update(domain=domain, kind="release", taskDefinition=new_arn,
                                 previousTaskDefinition=base_arn, image=image.uri)
    registration = start_through_api(ctx, clients, platform, metadata, task_definition_arn=new_arn, kind="release",
                                     reason=reason or f"Deploy {domain} {image.short}")
    if args.wait_until == "started":
        ctx.say(f"follow it with: bgctl watch {registration.deployment_id}")
        return 0
    return watch_deployment(ctx, clients, deployment_id=registration.deployment_id, domain=domain,
                            audit_table=platform.audit_table or metadata.audit_table, until=args.wait_until,
                            timeout_minutes=args.timeout, announce_console=False)
