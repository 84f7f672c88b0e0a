"""Lambda behind the IAM-authorized deploy API (`<platform>-deploy-api`). Logic: `registrar`.

Env: PLATFORM_NAME, SSM_PREFIX, AUDIT_TABLE, GITHUB_OIDC_JWKS_URL (optional, tests).
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

import registrar
from bgruntime.github_oidc import JwksCache
from bgruntime.log import get_logger

get_logger("bgruntime")
_CONTEXT: registrar.Context | None = None


def context() -> registrar.Context:
    global _CONTEXT
    if _CONTEXT is None:
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})
        platform = os.environ.get("PLATFORM_NAME", "bluegreen")
        _CONTEXT = registrar.Context(
            platform=platform, table=os.environ.get("AUDIT_TABLE", f"{platform}-deployments"),
            region=os.environ.get("AWS_REGION", "eu-west-1"), ssm=boto3.client("ssm", config=config),
            dynamodb=boto3.client("dynamodb", config=config), codedeploy=boto3.client("codedeploy", config=config),
            jwks=JwksCache(), clock=lambda: datetime.now(timezone.utc), ssm_prefix=os.environ.get("SSM_PREFIX", ""))
    return _CONTEXT


def handler(event, _context):
    return registrar.handle(event, context())
