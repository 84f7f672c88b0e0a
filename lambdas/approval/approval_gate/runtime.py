"""Everything a handler needs from its environment, created lazily and cached per container.

No boto3 import at module import time: the first `Runtime.client(...)` call imports it. Tests
build a `Runtime` with their own clients (moto, Stubber, in-memory fakes) and Slack base URL.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from bgruntime.secrets import get_secret, is_cached
from bgruntime.slack import DEFAULT_BASE_URL, SlackClient

#: Callback: Slack wants the HTTP answer within 3 s, so every AWS call is short and retried once.
CALLBACK_CLIENT_CONFIG: Mapping[str, Any] = {
    "connect_timeout": 0.5, "read_timeout": 1.0, "retries": {"max_attempts": 2, "mode": "standard"}}
#: Hook / expiry Lambdas have time (they return in seconds, well within their Lambda timeout).
HOOK_CLIENT_CONFIG: Mapping[str, Any] = {
    "connect_timeout": 2, "read_timeout": 5, "retries": {"max_attempts": 3, "mode": "standard"}}


class ConfigurationError(Exception):
    """A required environment variable is missing."""


@dataclass(frozen=True)
class Settings:
    """The handlers' environment (see docs/contracts.md 'Lambda environment')."""

    platform: str
    ssm_prefix: str
    table: str
    region: str
    slack_base_url: str = DEFAULT_BASE_URL
    signing_secret_arn: str | None = None
    bot_token_secret_arn: str | None = None
    schedule_group: str | None = None
    expiry_function_arn: str | None = None
    scheduler_role_arn: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        platform = env.get("PLATFORM_NAME") or "bluegreen"
        return cls(
            platform=platform,
            ssm_prefix=(env.get("SSM_PREFIX") or f"/{platform}").rstrip("/"),
            table=env.get("AUDIT_TABLE") or f"{platform}-deployments",
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-1",
            slack_base_url=env.get("SLACK_API_BASE_URL") or DEFAULT_BASE_URL,
            signing_secret_arn=env.get("SLACK_SIGNING_SECRET_ARN") or None,
            bot_token_secret_arn=env.get("SLACK_BOT_TOKEN_SECRET_ARN") or None,
            schedule_group=env.get("SCHEDULE_GROUP") or None,
            expiry_function_arn=env.get("EXPIRY_FUNCTION_ARN") or None,
            scheduler_role_arn=env.get("SCHEDULER_ROLE_ARN") or None,
        )


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Runtime:
    """Lazily created, cached boto3 clients + secrets + Slack client for one handler."""

    def __init__(self, settings: Settings, *, clients: Mapping[str, Any] | None = None,
                 client_config: Mapping[str, Any] | None = None, clock: Callable[[], datetime] = utc_now,
                 slack_timeout: float = 1.0, ack_budget_seconds: float = 2.5) -> None:
        self.settings = settings
        self.clock = clock
        self.slack_timeout = slack_timeout
        #: callback only: time planned for one Slack click (Slack gives up after 3 s)
        self.ack_budget_seconds = ack_budget_seconds
        self._clients: dict[str, Any] = dict(clients or {})
        self._client_config = dict(client_config or HOOK_CLIENT_CONFIG)
        self._lock = threading.Lock()
        self._session: Any = None

    def client(self, service: str) -> Any:
        found = self._clients.get(service)
        if found is not None:
            return found
        with self._lock:  # boto3 sessions are not thread-safe; clients are
            if service not in self._clients:
                import boto3
                from botocore.config import Config

                if self._session is None:
                    self._session = boto3.session.Session()
                self._clients[service] = self._session.client(
                    service, region_name=self.settings.region, config=Config(**self._client_config))
            return self._clients[service]

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def codedeploy(self) -> Any:
        return self.client("codedeploy")

    @property
    def events(self) -> Any:
        return self.client("events")

    def now(self) -> datetime:
        return self.clock()

    def signing_secret(self) -> str:
        if not self.settings.signing_secret_arn:
            raise ConfigurationError("SLACK_SIGNING_SECRET_ARN is not set")
        return get_secret(self.settings.signing_secret_arn, client=self.client("secretsmanager"))

    def signing_secret_cached(self) -> bool:
        return bool(self.settings.signing_secret_arn) and is_cached(self.settings.signing_secret_arn)

    def bot_token_cached(self) -> bool:
        return bool(self.settings.bot_token_secret_arn) and is_cached(self.settings.bot_token_secret_arn)

    def bot_token(self) -> str:
        if not self.settings.bot_token_secret_arn:
            raise ConfigurationError("SLACK_BOT_TOKEN_SECRET_ARN is not set")
        return get_secret(self.settings.bot_token_secret_arn, client=self.client("secretsmanager"))

    def slack(self, timeout: float | None = None) -> SlackClient:
        """A Slack client with a hard per-call timeout (default `slack_timeout`)."""
        return SlackClient(token=self.bot_token(), base_url=self.settings.slack_base_url,
                           timeout=self.slack_timeout if timeout is None else max(0.05, timeout))


class LazyRuntime:
    """Module-level holder: the runtime is built from the environment on first invocation."""

    def __init__(self, client_config: Mapping[str, Any], slack_timeout: float = 1.0) -> None:
        self._client_config = client_config
        self._slack_timeout = slack_timeout
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()

    def get(self) -> Runtime:
        if self._runtime is None:
            with self._lock:
                if self._runtime is None:
                    self._runtime = Runtime(Settings.from_env(), client_config=self._client_config,
                                            slack_timeout=self._slack_timeout)
        return self._runtime

    def set(self, runtime: Runtime | None) -> None:
        """Tests: install a runtime (or None to rebuild from the environment next time)."""
        self._runtime = runtime
