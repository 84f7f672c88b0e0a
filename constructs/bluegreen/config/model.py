"""Frozen dataclasses describing a platform. Constructs receive these, never raw dicts."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from bluegreen.feature_flags.spec import DomainFlagsSpec

from bluegreen.drain import DrainPolicy
from bluegreen.traffic import TrafficShift


class Protocol(str, Enum):
    HTTP = "http"
    WEBSOCKET = "websocket"


class ApiGatewayLogging(str, Enum):
    """REST API stage logging needs the account's API Gateway CloudWatch role, an account-wide singleton.

    `off` (default): no stage logs, so a first deploy works in any account; the callback Lambda logs every
    request it receives. `account-role-exists`: access + ERROR execution logs, using the role the account
    already has. `create-account-role`: the platform also creates that singleton (`AWS::ApiGateway::Account`),
    which overwrites any role the account had: only for accounts where nothing else manages it.
    """

    OFF = "off"
    ACCOUNT_ROLE_EXISTS = "account-role-exists"
    CREATE_ACCOUNT_ROLE = "create-account-role"


class ListenerProtocol(str, Enum):
    HTTP = "HTTP"
    HTTPS = "HTTPS"


@dataclass(frozen=True)
class HostedZoneSpec:
    """A private zone the platform creates, or an existing zone (id + name) it reuses."""

    name: str
    existing_zone_id: str | None = None


@dataclass(frozen=True)
class AlbGroupSpec:
    """One or more load balancers that share settings (scheme, protocol, idle timeout)."""

    name: str
    internal: bool = True
    protocol: ListenerProtocol = ListenerProtocol.HTTP
    # The listeners' default certificate: fixed once listeners exist (ACM renews it in place, same ARN).
    certificate_arn: str | None = None
    idle_timeout_seconds: int = 60
    # Extra (SNI) certificates: separate ListenerCertificate resources, safe to add, change or remove any time.
    additional_certificate_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApproverSpec:
    user_ids: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApprovalSpec:
    """Human approval at BeforeAllowTraffic."""

    required: bool = False
    channel: str | None = None
    approvers: ApproverSpec = ApproverSpec()
    expiry_minutes: int = 45
    #: distinct approvers (never the requester) a release needs; 1..5
    min_approvers: int = 1
    #: requester unknown or not in the identity map: "two_approvers" (fail closed) or "block" (only reject/expire)
    unknown_requester: str = "two_approvers"

    def rules_metadata(self) -> dict[str, object]:
        """The approval rules the gate reads from `/P/platform` -> `approvalRules.<domain>`."""
        return {"minApprovers": self.min_approvers, "unknownRequester": self.unknown_requester}


@dataclass(frozen=True)
class CustomAlarmSpec:
    """A CloudWatch metric alarm the platform creates and CodeDeploy watches."""

    name: str
    namespace: str
    metric_name: str
    threshold: float
    dimensions: Mapping[str, str] = field(default_factory=dict)
    statistic: str = "Sum"
    comparison: str = "GreaterThanOrEqualToThreshold"
    period_seconds: int = 60
    evaluation_periods: int = 2


# 5xx rate, p99 latency and unhealthy hosts over both target groups, plus the load balancer's own 5xx rate.
BUILT_IN_ROLLBACK_ALARMS = 4


@dataclass(frozen=True)
class RollbackAlarmsSpec:
    """Thresholds of the built-in rollback alarms plus extra alarms.

    Defaults decide within about two minutes: two 1-minute periods out of two.
    """

    error_rate_percent: float = 5.0
    p99_latency_ms: int = 2000
    unhealthy_hosts: int = 1
    period_seconds: int = 60
    evaluation_periods: int = 2
    custom: tuple[CustomAlarmSpec, ...] = ()
    existing_alarm_names: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return BUILT_IN_ROLLBACK_ALARMS + len(self.custom) + len(self.existing_alarm_names)

    @property
    def seconds_to_decision(self) -> int:
        """Worst case from the first bad minute to ALARM (CloudWatch ~1 period of ingestion lag)."""
        return self.period_seconds * (self.evaluation_periods + 1)


@dataclass(frozen=True)
class SmokeCheckSpec:
    """A business-flow check run against the test listener at AfterAllowTestTraffic."""

    name: str
    kind: str = "http"  # http | websocket
    method: str = "GET"
    path: str = "/"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    expect_status: int = 200
    expect_json: Mapping[str, object] = field(default_factory=dict)
    latency_budget_ms: int = 2000

    def to_metadata(self) -> dict[str, object]:
        """camelCase, as the smoke-check hook reads it from the published metadata (empty parts omitted)."""
        metadata: dict[str, object] = {
            "name": self.name, "kind": self.kind, "method": self.method, "path": self.path,
            "expectStatus": self.expect_status, "latencyBudgetMs": self.latency_budget_ms,
        }
        if self.headers:
            metadata["headers"] = dict(self.headers)
        if self.body is not None:
            metadata["body"] = self.body
        if self.expect_json:
            metadata["expectJson"] = dict(self.expect_json)
        return metadata


@dataclass(frozen=True)
class DomainSpec:
    """Everything the platform needs to run and release one domain service."""

    name: str
    alb_group: str
    port: int
    test_port: int
    image: str
    container_port: int = 8080
    health_check_path: str = "/health"
    cpu: int = 256
    memory_mib: int = 512
    desired_count: int = 2
    protocol: Protocol = Protocol.HTTP
    max_session_seconds: int = 30
    traffic: TrafficShift = TrafficShift.all_at_once()
    drain: DrainPolicy = DrainPolicy.for_http(30)
    environment: Mapping[str, str] = field(default_factory=dict)
    approval: ApprovalSpec = ApprovalSpec()
    alarms: RollbackAlarmsSpec = RollbackAlarmsSpec()
    smoke_checks: tuple[SmokeCheckSpec, ...] = ()
    # Canary/linear: how long a user stays on the colour they landed on. None: derived (see `sticky_seconds`).
    stickiness_seconds: int | None = None
    # Which load balancer of the ALB group (0-based); pinned in config or assigned by the loader.
    shard: int | None = None

    @property
    def max_stickiness_seconds(self) -> int:
        """Stickiness must end before the blue task set is terminated, or users stuck on blue get ELB 5xx."""
        return self.drain.termination_wait_minutes * 60

    @property
    def sticky_seconds(self) -> int | None:
        """Target-group stickiness of the production listener: None for all-at-once (nothing to stick to),
        else the configured value or one hour capped by the blue task set's lifetime."""
        if self.traffic.style == "all_at_once":
            return None
        if self.stickiness_seconds is not None:
            return self.stickiness_seconds
        return max(1, min(3600, self.max_stickiness_seconds))


@dataclass(frozen=True)
class GithubDeploySpec:
    """A GitHub repository/branch allowed to deploy through OIDC."""

    repository: str  # owner/name
    branches: tuple[str, ...] = ("main",)
    environments: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformSpec:
    name: str = "bluegreen"
    region: str = "eu-west-1"
    account: str | None = None
    vpc_cidr: str = "10.40.0.0/16"
    availability_zones: tuple[str, ...] = ()
    client_cidrs: tuple[str, ...] = ()
    # Who may reach test listeners (unapproved green) besides the platform's smoke-check hook: e.g. a VPN range.
    test_client_cidrs: tuple[str, ...] = ()
    hosted_zone: HostedZoneSpec = HostedZoneSpec(name="bluegreen.internal")
    notification_channel: str | None = None
    slack_identity_map: Mapping[str, str] = field(default_factory=dict)
    github_deployers: tuple[GithubDeploySpec, ...] = ()
    existing_github_oidc_provider_arn: str | None = None
    # The account's GitHub OIDC provider is referenced by its predictable ARN unless this asks to create it
    # (IAM allows one provider per URL per account: creating it where one exists fails).
    create_github_oidc_provider: bool = False
    api_gateway_logging: ApiGatewayLogging = ApiGatewayLogging.OFF

    @property
    def ssm_prefix(self) -> str:
        return f"/{self.name}"

    @property
    def zones(self) -> tuple[str, ...]:
        """Two AZs, explicit so synth never looks them up (config or `<region>a`, `<region>b`)."""
        return self.availability_zones or (f"{self.region}a", f"{self.region}b")


@dataclass(frozen=True)
class PlatformConfig:
    """The whole validated configuration: parsed once, in app.py."""

    source: str
    platform: PlatformSpec
    alb_groups: Mapping[str, AlbGroupSpec]
    domains: tuple[DomainSpec, ...]
    feature_flags: Mapping[str, "DomainFlagsSpec"] = field(default_factory=dict)

    def flags_for(self, domain: str) -> "DomainFlagsSpec":
        from bluegreen.feature_flags.spec import DomainFlagsSpec

        return self.feature_flags.get(domain) or DomainFlagsSpec()

    def domain(self, name: str) -> DomainSpec:
        for spec in self.domains:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def shards(self, group: str) -> int:
        """How many load balancers the group needs (0 when no domain uses it)."""
        return max((d.shard or 0) + 1 for d in self.domains if d.alb_group == group) \
            if any(d.alb_group == group for d in self.domains) else 0

    @property
    def uses_tls(self) -> bool:
        return any(g.protocol is ListenerProtocol.HTTPS for g in self.alb_groups.values())
