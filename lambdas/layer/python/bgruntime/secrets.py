"""Read Slack credentials from Secrets Manager by ARN, cached per container, never logged."""
from __future__ import annotations

import os
import time
from typing import Any

_CACHE: dict[str, tuple[float, str]] = {}
_TTL_SECONDS = 300.0


class SecretNotConfigured(Exception):
    """The secret exists but still holds the placeholder CDK created."""


def get_secret(secret_arn: str, *, client: Any = None, now: float | None = None) -> str:
    """Return the SecretString of `secret_arn`, cached for five minutes."""
    current = time.monotonic() if now is None else now
    cached = _CACHE.get(secret_arn)
    if cached and current - cached[0] < _TTL_SECONDS:
        return cached[1]
    if client is None:
        import boto3

        client = boto3.client("secretsmanager")
    value = client.get_secret_value(SecretId=secret_arn)["SecretString"]
    if not value or value.startswith("PLACEHOLDER"):
        raise SecretNotConfigured(f"secret {secret_arn} is not set; see README 'Slack app set-up'")
    _CACHE[secret_arn] = (current, value)
    return value


def is_cached(secret_arn: str, *, now: float | None = None) -> bool:
    """True when `get_secret` would answer from the cache (no network call)."""
    cached = _CACHE.get(secret_arn)
    current = time.monotonic() if now is None else now
    return bool(cached) and current - cached[0] < _TTL_SECONDS


def secret_from_env(variable: str, *, client: Any = None) -> str:
    return get_secret(os.environ[variable], client=client)


def clear_cache() -> None:
    _CACHE.clear()
