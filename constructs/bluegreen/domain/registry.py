"""The domain's image registry: pipelines push here."""
from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ecr as ecr
from constructs import Construct

KEEP_IMAGES = 50


def repository_name(platform_name: str, domain: str) -> str:
    return f"{platform_name}/{domain}"


class DomainRegistry(Construct):
    """ECR repository `<platform>/<domain>`: scan on push, immutable tags, the last 50 images, retained when the
    stack is deleted (images are the release history). Attribute `repository`."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str, domain: str) -> None:
        super().__init__(scope, id)
        self.repository = ecr.Repository(
            self, "Repository", repository_name=repository_name(platform_name, domain),
            image_scan_on_push=True, image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.AES_256, removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[ecr.LifecycleRule(description=f"keep the last {KEEP_IMAGES} images",
                                               max_image_count=KEEP_IMAGES)])
