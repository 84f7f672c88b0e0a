"""Published deployment metadata (docs/contracts.md): `/P/platform` and `/P/domains/D/deployment` in SSM."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import AwsError, UsageError, error_code

SCHEMA_VERSION = 1
DEFAULT_PLATFORM = "bluegreen"
HOOK_EVENTS = ("BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic")


def platform_parameter(platform: str) -> str:
    return f"/{platform}/platform"


def domain_parameter(platform: str, domain: str) -> str:
    return f"/{platform}/domains/{domain}/deployment"


@dataclass(frozen=True)
class PlatformInfo:
    platform: str
    domains: tuple[str, ...]
    audit_table: str
    slack_identity_map: Mapping[str, str] = field(default_factory=dict)
    notification_channel: str | None = None
    deploy_api_url: str | None = None

    def require_domain(self, domain: str) -> None:
        if domain not in self.domains:
            known = ", ".join(self.domains) or "none"
            raise UsageError(f"unknown domain {domain!r} on platform {self.platform!r} (known: {known})")


@dataclass(frozen=True)
class DomainMetadata:
    platform: str
    domain: str
    region: str
    cluster: str
    service: str
    task_definition_family: str
    task_definition_arn: str
    container_name: str
    container_port: int
    application: str
    deployment_group: str
    hooks: Mapping[str, str]
    ecr_repository: str | None
    audit_table: str
    approval: Mapping[str, Any]
    raw: Mapping[str, Any]


def _load_json(ssm: Any, name: str, missing_hint: str) -> dict[str, Any]:
    try:
        answer = ssm.get_parameter(Name=name)
    except Exception as exc:
        if error_code(exc) == "ParameterNotFound":
            raise AwsError(f"metadata parameter {name} not found: {missing_hint}") from None
        raise
    try:
        data = json.loads(answer["Parameter"]["Value"])
    except ValueError:
        raise AwsError(f"metadata parameter {name} is not valid JSON") from None
    if not isinstance(data, dict):
        raise AwsError(f"metadata parameter {name} must hold a JSON object")
    version = data.get("schemaVersion")
    if version != SCHEMA_VERSION:
        raise AwsError(f"metadata parameter {name} has schemaVersion {version!r}; this bgctl understands "
                       f"{SCHEMA_VERSION} (upgrade bgctl or the stacks)")
    return data


def _field(data: Mapping[str, Any], name: str, key: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(key)
    wrong_type = not isinstance(value, kind) or (kind is int and isinstance(value, bool))
    if wrong_type or value == "":
        raise AwsError(f"metadata parameter {name} is invalid: field {key!r} is missing or not a "
                       f"{getattr(kind, '__name__', kind)}")
    return value


def parse_platform(data: Mapping[str, Any], name: str, platform: str) -> PlatformInfo:
    domains = data.get("domains")
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise AwsError(f"metadata parameter {name} is invalid: field 'domains' must be a list of names")
    identity_map = data.get("slackIdentityMap") or {}
    return PlatformInfo(
        platform=str(data.get("platform") or platform),
        domains=tuple(domains),
        audit_table=_field(data, name, "auditTable", str),
        slack_identity_map=identity_map if isinstance(identity_map, dict) else {},
        notification_channel=data.get("notificationChannel"),
        deploy_api_url=data.get("deployApiUrl") if isinstance(data.get("deployApiUrl"), str) else None,
    )


def parse_domain(data: Mapping[str, Any], name: str) -> DomainMetadata:
    raw_hooks = data.get("hooks") or {}
    if not isinstance(raw_hooks, dict):
        raise AwsError(f"metadata parameter {name} is invalid: field 'hooks' must be an object")
    unknown = sorted(set(raw_hooks) - set(HOOK_EVENTS))
    if unknown:
        raise AwsError(f"metadata parameter {name} names unknown hook event(s) {', '.join(unknown)}; "
                       f"ECS supports {', '.join(HOOK_EVENTS)}")
    hooks = {event: str(raw_hooks[event]) for event in HOOK_EVENTS if raw_hooks.get(event)}
    approval = data.get("approval") or {}
    return DomainMetadata(
        platform=_field(data, name, "platform", str),
        domain=_field(data, name, "domain", str),
        region=_field(data, name, "region", str),
        cluster=_field(data, name, "cluster", str),
        service=_field(data, name, "service", str),
        task_definition_family=_field(data, name, "taskDefinitionFamily", str),
        task_definition_arn=_field(data, name, "taskDefinitionArn", str),
        container_name=_field(data, name, "containerName", str),
        container_port=_field(data, name, "containerPort", int),
        application=_field(data, name, "codeDeployApplication", str),
        deployment_group=_field(data, name, "deploymentGroup", str),
        hooks=hooks,
        ecr_repository=data.get("ecrRepository") or None,
        audit_table=_field(data, name, "auditTable", str),
        approval=approval if isinstance(approval, dict) else {},
        raw=dict(data),
    )


def require_deploy_api(info: PlatformInfo, parameter: str) -> str:
    """The deploy API URL (docs/deploy-api.md); a platform without one cannot start deployments."""
    if not info.deploy_api_url:
        raise AwsError(f"platform parameter {parameter} has no deployApiUrl: this platform predates the deploy API "
                       "(docs/deploy-api.md); update the platform stack, then rerun")
    return info.deploy_api_url


def load_platform(ssm: Any, platform: str, region: str) -> PlatformInfo:
    name = platform_parameter(platform)
    data = _load_json(ssm, name, f"is the platform stack for {platform!r} deployed in {region}? "
                                 "(check --platform / BGCTL_PLATFORM and the region)")
    return parse_platform(data, name, platform)


def load_domain(ssm: Any, platform: str, domain: str, region: str) -> DomainMetadata:
    name = domain_parameter(platform, domain)
    data = _load_json(ssm, name, f"is the {domain!r} domain stack of {platform!r} deployed in {region}?")
    return parse_domain(data, name)


def domain_from_application(application: str, platform: str) -> str:
    """CodeDeploy application `P-D` -> `D` (contracts.md)."""
    prefix = f"{platform}-"
    return application[len(prefix):] if application.startswith(prefix) else application


def platform_and_domains(clients: Any, platform: str, domain: str | None) -> tuple[PlatformInfo, list[str]]:
    """The platform parameter plus the domains a listing command covers (one, checked, or all)."""
    info = load_platform(clients.client("ssm"), platform, clients.region)
    if domain:
        info.require_domain(domain)
    return info, [domain] if domain else list(info.domains)
