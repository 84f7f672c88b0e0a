"""`bgctl deploy DOMAIN --image URI`: register a revision and hand it to CodeDeploy.

Order matters: everything that can be checked without AWS is checked first (exit 2); then the platform
and domain metadata are read (unknown domain -> 2, missing -> 7); the image is looked up in ECR, an
in-flight deployment is refused (7); only then is a task-definition revision registered and the
deployment created. Nothing here updates the ECS service: CodeDeploy is the only traffic control plane.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from . import appspec, description, inputs, taskdef
from .errors import AwsError, UsageError, error_code
from .metadata import DomainMetadata, load_domain, load_platform
from .progress import IN_FLIGHT_STATUSES


@dataclass(frozen=True)
class StartedDeployment:
    deployment_id: str
    task_definition_arn: str
    base_task_definition_arn: str
    metadata: DomainMetadata


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


def create_deployment(codedeploy: Any, metadata: DomainMetadata, *, task_definition_arn: str, summary: str,
                      tokens: Mapping[str, str]) -> str:
    spec = appspec.build(task_definition_arn=task_definition_arn, container_name=metadata.container_name,
                         container_port=metadata.container_port, hooks=metadata.hooks)
    try:
        answer = codedeploy.create_deployment(
            applicationName=metadata.application,
            deploymentGroupName=metadata.deployment_group,
            revision=appspec.revision(spec),
            description=description.build(summary, tokens),
        )
    except Exception as exc:
        if error_code(exc) == "DeploymentLimitExceededException":
            raise AwsError(f"a deployment is already in progress for {metadata.domain!r} (CodeDeploy refused a "
                           f"second one): see `bgctl status {metadata.domain}`") from None
        raise
    return str(answer["deploymentId"])


def write_github_output(env: Mapping[str, str], values: Mapping[str, str]) -> None:
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for key, value in values.items():
            handle.write(f"{key}={value}\n")


def run(ctx: Any, args: Any) -> int:
    from .watch import watch_deployment

    domain = inputs.domain(args.domain)
    image = inputs.image(args.image)
    env = inputs.env_pairs(args.env)
    if args.requester:
        inputs.requester(args.requester)
    if image.tag == "latest" and not image.digest:
        ctx.warn("deploying the mutable tag 'latest': prefer an immutable tag (git sha) or a digest")

    clients = ctx.clients()
    platform = load_platform(clients.client("ssm"), ctx.platform, clients.region)
    platform.require_domain(domain)
    metadata = load_domain(clients.client("ssm"), ctx.platform, domain, clients.region)
    from .identity import requester as resolve_requester

    requester = resolve_requester(args.requester, ctx.env, lambda: clients.client("sts"))
    check_image_in_ecr(clients.client("ecr"), image, clients.region)
    codedeploy = clients.client("codedeploy")
    refuse_if_in_flight(codedeploy, metadata)

    new_arn, base_arn = taskdef.register_revision(clients.client("ecs"), metadata, image=image.uri, env=env)
    ctx.out(f"registered {taskdef.revision_label(new_arn)} (from {taskdef.revision_label(base_arn)}) "
            f"with image {image.uri}")
    deployment_id = create_deployment(
        codedeploy, metadata, task_definition_arn=new_arn, summary=f"Deploy {domain} {image.short}",
        tokens={"requester": requester, "image": image.uri, "source": "bgctl"})
    ctx.out(f"created deployment {deployment_id} for {domain} (requester {requester})")
    write_github_output(ctx.env, {"deployment_id": deployment_id, "task_definition": new_arn})
    if args.wait_until == "started":
        ctx.out(f"follow it with: bgctl watch {deployment_id}")
        return 0
    return watch_deployment(ctx, clients, deployment_id=deployment_id, domain=domain,
                            audit_table=platform.audit_table or metadata.audit_table, until=args.wait_until,
                            timeout_minutes=args.timeout, progress=args.progress)
