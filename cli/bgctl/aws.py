"""Lazily created boto3 clients with bgctl's timeouts and visible retries.

boto3 is imported here, on first use, never at module import: `bgctl --help` must not pay for it.
botocore makes one attempt per call (its own retries are silent); `retry.Retrier` retries, and says so.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

from .errors import AwsError, UsageError
from .retry import Retrier, RetryingClient, Timeouts

USER_AGENT = "bgctl/0.2.0"
DEFAULT_RETRY_MODE = "standard"
DEFAULT_MAX_ATTEMPTS = 1  # botocore attempts per bgctl attempt: bgctl retries visibly instead


def retry_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """botocore retry settings: one attempt (bgctl retries); AWS_RETRY_MODE / AWS_MAX_ATTEMPTS still
    override them for whoever wants botocore's (silent) retries inside each of bgctl's attempts."""
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
    return {"mode": mode, "total_max_attempts": attempts}


def client_config(env: Mapping[str, str], timeouts: Timeouts | None = None) -> Any:
    from botocore.config import Config

    limits = timeouts or Timeouts()
    return Config(retries=retry_settings(env), connect_timeout=limits.connect, read_timeout=limits.read,
                  user_agent_extra=USER_AGENT)


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
    """One boto3 session per command; clients are created on first use, cached, and wrapped so that every
    API call goes through `retrier` (visible, bounded retries).

    `overrides` lets tests hand in Stubber-activated clients for APIs moto does not implement.
    """

    def __init__(self, *, region: str | None = None, profile: str | None = None,
                 env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None,
                 retrier: Retrier | None = None) -> None:
        self._region = region
        self._profile = profile
        self._env = os.environ if env is None else env
        self._overrides = dict(overrides or {})
        self._retrier = retrier
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

    @property
    def retrier(self) -> Retrier | None:
        return self._retrier

    def credentials(self) -> Any:
        """Frozen credentials for SigV4 signing of deploy-API requests (NoCredentialsError when none)."""
        credentials = self._get_session().get_credentials()
        if credentials is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        return credentials.get_frozen_credentials()

    def client(self, service: str) -> Any:
        if service not in self._clients:
            if service in self._overrides:
                raw = self._overrides[service]
            else:
                timeouts = self._retrier.timeouts if self._retrier else None
                raw = self._get_session().client(service, config=client_config(self._env, timeouts))
            self._clients[service] = RetryingClient(raw, self._retrier, service) if self._retrier else raw
        return self._clients[service]
