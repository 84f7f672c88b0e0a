"""Lazily created boto3 clients with bgctl's retry configuration.

boto3 is imported here, on first use, never at module import: `bgctl --help` must not pay for it.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

from .errors import AwsError, UsageError

USER_AGENT = "bgctl/0.1.0"
DEFAULT_RETRY_MODE = "adaptive"
DEFAULT_MAX_ATTEMPTS = 10


def retry_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """botocore retry settings; AWS_RETRY_MODE / AWS_MAX_ATTEMPTS override the defaults."""
    mode = env.get("AWS_RETRY_MODE", DEFAULT_RETRY_MODE)
    if mode not in ("standard", "adaptive", "legacy"):
        raise UsageError(f"AWS_RETRY_MODE={mode!r} is not one of standard, adaptive, legacy")
    raw_attempts = env.get("AWS_MAX_ATTEMPTS", str(DEFAULT_MAX_ATTEMPTS))
    try:
        attempts = int(raw_attempts)
    except ValueError:
        raise UsageError(f"AWS_MAX_ATTEMPTS={raw_attempts!r} is not a number") from None
    if not 1 <= attempts <= 50:
        raise UsageError(f"AWS_MAX_ATTEMPTS={attempts} must be between 1 and 50")
    return {"mode": mode, "max_attempts": attempts}


def client_config(env: Mapping[str, str]) -> Any:
    from botocore.config import Config

    return Config(retries=retry_settings(env), connect_timeout=5, read_timeout=30, user_agent_extra=USER_AGENT)


_SHARED_LOADER: Any = None


def _new_session(region: str | None, profile: str | None) -> Any:
    """A fresh boto3 session (own credentials and region) whose model loader is shared per process,
    so service models are parsed once even when one process runs many commands (tests, scripts)."""
    global _SHARED_LOADER
    import boto3
    import botocore.session

    core = botocore.session.Session()
    if _SHARED_LOADER is None:
        _SHARED_LOADER = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _SHARED_LOADER)
    session = boto3.session.Session(botocore_session=core, region_name=region, profile_name=profile)
    paths = _SHARED_LOADER.search_paths  # boto3 appends its data path once per session: keep one copy
    paths[:] = list(dict.fromkeys(paths))
    return session


class ClientFactory:
    """One boto3 session per command; clients are created on first use and cached.

    `overrides` lets tests hand in Stubber-activated clients for APIs moto does not implement.
    """

    def __init__(self, *, region: str | None = None, profile: str | None = None,
                 env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> None:
        self._region = region
        self._profile = profile
        self._env = os.environ if env is None else env
        self._overrides = dict(overrides or {})
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    def _get_session(self) -> Any:
        if self._session is None:
            self._session = _new_session(self._region, self._profile)
            if not self._session.region_name:
                raise AwsError("no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION) or pass --region")
        return self._session

    @property
    def region(self) -> str:
        return str(self._get_session().region_name)

    def client(self, service: str) -> Any:
        if service in self._overrides:
            return self._overrides[service]
        if service not in self._clients:
            self._clients[service] = self._get_session().client(service, config=client_config(self._env))
        return self._clients[service]
