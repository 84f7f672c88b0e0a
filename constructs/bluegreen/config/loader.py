"""Parse and validate a platform configuration (YAML or JSON) into `PlatformConfig`.

Called once, from app.py. Every problem raises `ConfigError` naming the file, the field and the fix,
before any construct exists.
"""
from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from bluegreen.config.default import default_config_text
from bluegreen.config.errors import ConfigError
from bluegreen.config.model import (
    BUILT_IN_ROLLBACK_ALARMS, AlbGroupSpec, ApiGatewayLogging, ApprovalSpec, ApproverSpec, CustomAlarmSpec, DomainSpec, GithubDeploySpec, HostedZoneSpec,
    ListenerProtocol, PlatformConfig, PlatformSpec, Protocol, RollbackAlarmsSpec, SmokeCheckSpec,
)
from bluegreen.config.reader import Section, parse_each
from bluegreen.drain import DrainPolicy
from bluegreen.limits import (
    FARGATE_CPU_MEMORY, MAX_ALARMS_PER_DEPLOYMENT_GROUP, MAX_APPROVAL_EXPIRY_MINUTES,
    MAX_PUBLISHED_SMOKE_CHECKS_BYTES, domains_per_load_balancer,
)
from bluegreen.release_timing import INSTALL_AND_TEST_MINUTES, max_release_minutes, worst_case_release_minutes
from bluegreen.traffic import STYLES, TrafficShift
from bgruntime.identities import identity_key_problem

EMBEDDED_DEFAULT = "embedded default config (bluegreen/config/default.yaml)"
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,10}[a-z0-9]$")
NAME_RULE = "2-12 characters: lower-case letters, digits and '-', starting with a letter, not ending with '-'"
#: no '-' in platform names: then the IAM prefix `<platform>-*` can never match another platform's names
PLATFORM_NAME_RE = re.compile(r"^[a-z][a-z0-9]{1,11}$")
PLATFORM_NAME_RULE = "2-12 characters: lower-case letters and digits, starting with a letter (no '-')"
UNKNOWN_REQUESTER_CHOICES = ("two_approvers", "block")
CIDR_RE = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})$")
ACM_ARN_RE = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
SLACK_ID_RE = re.compile(r"^[UWS][A-Z0-9]{2,}$")
CHANNEL_RE = re.compile(r"^[CGD][A-Z0-9]{2,}$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
ZONE_NAME_RE = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
IMAGE_RE = re.compile(r"^[a-z0-9.\-/_:@]+$")
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
MUTABLE_TAGS = frozenset({"latest", "stable", "main", "master", "edge", "nightly"})
SMOKE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def load_config(path: str | None = None) -> PlatformConfig:
    """Load `path` (YAML or JSON) or, when None, the embedded default (`bluegreen/config/default.yaml`)."""
    if path is None:
        return parse_config(_read_yaml(default_config_text(), EMBEDDED_DEFAULT), source=EMBEDDED_DEFAULT)
    file = Path(path)
    source = str(path)
    if not file.is_file():
        raise ConfigError(source=source, field="(file)", problem="file not found",
                          fix="pass an existing YAML or JSON file with -c config=path/to/file.yaml")
    text = file.read_text(encoding="utf-8")
    if file.suffix.lower() == ".json":
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ConfigError(source=source, field=f"(line {getattr(exc, 'lineno', '?')})",
                              problem=f"not valid JSON: {exc.__class__.__name__}",
                              fix="check commas, quotes and brackets") from None
        return parse_config(raw, source=source)
    return parse_config(_read_yaml(text, source), source=source)


def _read_yaml(text: str, source: str) -> object:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:  # any parser error becomes one clear message
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f"(line {line + 1})" if line is not None else "(file)"
        raise ConfigError(source=source, field=where, problem=f"not valid YAML: {exc.__class__.__name__}",
                          fix="check indentation and quoting") from None


def parse_config(raw: object, *, source: str) -> PlatformConfig:
    top = Section(raw, source=source, path="")
    platform = _parse_platform(top.take_section("platform"))
    groups = _parse_alb_groups(top.take_section("alb_groups"))
    domains_section = top.take_section("domains")
    domains = tuple(_parse_domain(name, value, source=source, groups=groups)
                    for name, value in domains_section.items())
    flags_raw = top.take_section("feature_flags").items()
    top.done()
    if not domains:
        raise ConfigError(source=source, field="domains", problem="no domains declared",
                          fix="declare at least one domain under `domains:`")
    _check_ports(domains, groups, source)
    domains = _assign_shards(domains, source, capacity=domains_per_load_balancer(
        len(platform.client_cidrs), len(platform.test_client_cidrs)))
    _check_idle_timeouts(domains, groups, source)
    feature_flags = _parse_feature_flags(dict(flags_raw), source=source, domains=domains)
    return PlatformConfig(source=source, platform=platform, alb_groups=groups, domains=domains,
                          feature_flags=feature_flags)


def parse_domain_spec(name: str, raw: object, *, alb_groups: Mapping[str, AlbGroupSpec],
                      source: str = "domain spec") -> DomainSpec:
    """One domain, validated exactly as a block under `domains:` of a platform config is (the same keys, limits
    and messages), for a domain built in another app on a deployed platform (docs/library.md). Port uniqueness
    across the platform's own domains cannot be checked here: `/<platform>/platform` lists the ports in use."""
    groups = dict(alb_groups)
    spec = _parse_domain(name, raw, source=source, groups=groups)
    if spec.shard is None:
        spec = replace(spec, shard=0)
    _check_idle_timeouts((spec,), groups, source)
    return spec


def _check_name(section: Section, key: str, value: str, what: str) -> str:
    if not NAME_RE.match(value):
        raise section.error(key, f"{what} name {value!r} is not valid for AWS resource names", f"use {NAME_RULE}")
    return value


def _parse_platform(s: Section) -> PlatformSpec:
    name = _check_name(s, "name", s.take_str("name", "bluegreen"), "platform")
    if not PLATFORM_NAME_RE.match(name):
        raise s.error("name", f"platform name {name!r} contains '-': IAM patterns {name.split('-')[0]}-* of another "
                              "platform would match this platform's resources",
                      f"use {PLATFORM_NAME_RULE}")
    region = s.take_str("region", "eu-west-1")
    if not REGION_RE.match(region):
        raise s.error("region", f"{region!r} is not an AWS region name", "use a region such as eu-west-1")
    account = s.take_str("account", None)
    if account is not None and not ACCOUNT_RE.match(account):
        raise s.error("account", f"{account!r} is not a 12-digit account id", "quote the 12-digit id")
    vpc_cidr = _cidr(s, "vpc_cidr", s.take_str("vpc_cidr", "10.40.0.0/16"), min_prefix=16, max_prefix=24)
    zones = s.take_str_list("availability_zones")
    if zones and (len(zones) != 2 or len(set(zones)) != 2 or not all(z.startswith(region) for z in zones)):
        raise s.error("availability_zones", f"{list(zones)} is not two distinct zones of {region}",
                      f"list two zones such as [{region}a, {region}b], or remove the key")
    clients = s.take_str_list("client_cidrs")
    for index, cidr in enumerate(clients):
        _cidr(s, f"client_cidrs[{index}]", cidr, min_prefix=8, max_prefix=32)
    test_clients = s.take_str_list("test_client_cidrs")
    for index, cidr in enumerate(test_clients):
        _cidr(s, f"test_client_cidrs[{index}]", cidr, min_prefix=8, max_prefix=32)
    zone = s.take_section("hosted_zone")
    zone_name = zone.take_str("name", f"{name}.internal")
    if not ZONE_NAME_RE.match(zone_name):
        raise zone.error("name", f"{zone_name!r} is not a DNS zone name", "use lower-case labels such as corp.internal")
    zone_id = zone.take_str("existing_zone_id", None)
    if zone_id is not None and not re.match(r"^Z[A-Z0-9]{4,32}$", zone_id):
        raise zone.error("existing_zone_id", f"{zone_id!r} is not a Route 53 zone id", "use an id like Z0123456789ABC")
    zone.done()
    slack = s.take_section("slack")
    channel = slack.take_str("notification_channel", None)
    if channel is not None and not CHANNEL_RE.match(channel):
        raise slack.error("notification_channel", f"{channel!r} is not a Slack channel id",
                          "use the channel id (C0123ABC), not its name")
    identity_map = slack.take_str_map("identity_map")
    for identity, user in identity_map.items():
        problem = identity_key_problem(identity)
        if problem:
            raise slack.error_at(f"{slack.field('identity_map')}.{identity}", f"{identity!r} {problem}",
                                 "key each entry by github:<login>, iam:<IAM user ARN> or iam:<assumed-role "
                                 "session ARN> (see docs/approvals.md, identity map)")
        if not SLACK_ID_RE.match(user):
            raise slack.error_at(f"{slack.field('identity_map')}.{identity}", f"{user!r} is not a Slack user id",
                                 "map each deploy identity to a Slack user id such as U0123ABC")
    slack.done()
    github = s.take_section("github")
    deployers = parse_each(github.take_list("deployers", []), lambda i, v: _parse_deployer(github, i, v))
    provider_arn = github.take_str("existing_oidc_provider_arn", None)
    create_provider = github.take_bool("create_oidc_provider", False)
    github.done()
    if create_provider and provider_arn:
        raise github.error("create_oidc_provider", "asks to create the GitHub OIDC provider and to reuse one",
                           "keep one of create_oidc_provider and existing_oidc_provider_arn")
    api_logging = ApiGatewayLogging(s.take_choice("api_gateway_logging", tuple(m.value for m in ApiGatewayLogging),
                                                  ApiGatewayLogging.OFF.value))
    s.done()
    return PlatformSpec(name=name, region=region, account=account, vpc_cidr=vpc_cidr, availability_zones=zones,
                        client_cidrs=clients, test_client_cidrs=test_clients,
                        hosted_zone=HostedZoneSpec(name=zone_name, existing_zone_id=zone_id),
                        notification_channel=channel, slack_identity_map=identity_map,
                        github_deployers=deployers, existing_github_oidc_provider_arn=provider_arn,
                        create_github_oidc_provider=create_provider,
                        api_gateway_logging=api_logging)


def _parse_deployer(parent: Section, index: int, raw: Any) -> GithubDeploySpec:
    s = Section(raw, source=parent.source, path=f"{parent.field('deployers')}[{index}]")
    repository = s.take_str("repository")
    if not REPO_RE.match(repository):
        raise s.error("repository", f"{repository!r} is not owner/name", "write the repository as owner/name")
    branches = s.take_str_list("branches") or ("main",)
    environments = s.take_str_list("environments")
    s.done()
    return GithubDeploySpec(repository=repository, branches=branches, environments=environments)


def _cidr(s: Section, key: str, value: str, *, min_prefix: int, max_prefix: int) -> str:
    match = CIDR_RE.match(value)
    ok = bool(match) and all(int(octet) <= 255 for octet in match.groups()[:4]) \
        and min_prefix <= int(match.group(5)) <= max_prefix
    if not ok:
        raise s.error(key, f"{value!r} is not an IPv4 CIDR with a /{min_prefix}../{max_prefix} prefix",
                      "write it like 10.40.0.0/16")
    return value


def _parse_alb_groups(s: Section) -> dict[str, AlbGroupSpec]:
    groups: dict[str, AlbGroupSpec] = {}
    for name, raw in s.items():
        g = Section(raw, source=s.source, path=s.field(name))
        _check_name(s, name, name, "ALB group")
        scheme = g.take_choice("scheme", ("internal", "internet-facing"), "internal")
        protocol = ListenerProtocol(g.take_choice("protocol", ("HTTP", "HTTPS"), "HTTP"))
        cert = g.take_str("certificate_arn", None)
        idle = g.take_int("idle_timeout_seconds", 60, minimum=1, maximum=4000)
        extra_certs = g.take_str_list("additional_certificate_arns")
        g.done()
        if protocol is ListenerProtocol.HTTPS and cert is None:
            raise g.error("certificate_arn", "HTTPS listeners need a certificate", "add the ACM certificate ARN")
        if cert is not None and not ACM_ARN_RE.match(cert):
            raise g.error("certificate_arn", f"{cert!r} is not an ACM certificate ARN",
                          "use arn:aws:acm:<region>:<account>:certificate/<id>")
        if cert is not None and protocol is ListenerProtocol.HTTP:
            raise g.error("protocol", "a certificate is set but the protocol is HTTP", "set protocol: HTTPS")
        for index, extra in enumerate(extra_certs):
            if not ACM_ARN_RE.match(extra):
                raise g.error(f"additional_certificate_arns[{index}]", f"{extra!r} is not an ACM certificate ARN",
                              "use arn:aws:acm:<region>:<account>:certificate/<id>")
        if extra_certs and protocol is ListenerProtocol.HTTP:
            raise g.error("additional_certificate_arns", "extra certificates need an HTTPS group",
                          "set protocol: HTTPS and certificate_arn")
        groups[name] = AlbGroupSpec(name=name, internal=scheme == "internal", protocol=protocol,
                                    certificate_arn=cert, idle_timeout_seconds=idle,
                                    additional_certificate_arns=extra_certs)
    if not groups:
        raise s.error_at("alb_groups", "no ALB groups declared", "declare at least one group, e.g. `internal: {}`")
    return groups


def _parse_domain(name: str, raw: Any, *, source: str, groups: dict[str, AlbGroupSpec]) -> DomainSpec:
    s = Section(raw, source=source, path=f"domains.{name}")
    if not NAME_RE.match(name):
        raise s.error_at(f"domains.{name}", f"domain name {name!r} is not valid for AWS resource names",
                         f"use {NAME_RULE}")
    group = s.take_str("alb_group")
    if group not in groups:
        raise s.error("alb_group", f"unknown ALB group {group!r}", f"use one of: {', '.join(sorted(groups))}")
    port = s.take_int("port", minimum=1, maximum=65535)
    test_port = s.take_int("test_port", minimum=1, maximum=65535)
    image = s.take_str("image")
    if not IMAGE_RE.match(image) or not (":" in image.rsplit("/", 1)[-1] or "@sha256:" in image):
        raise s.error("image", f"{image!r} is not an image reference with a tag or digest",
                      "write registry/repository:tag or registry/repository@sha256:<digest>")
    allow_mutable = s.take_bool("allow_mutable_image_tag", False)
    tag = image.rsplit("/", 1)[-1].split("@", 1)[0].partition(":")[2]
    if tag in MUTABLE_TAGS and "@sha256:" not in image and not allow_mutable:
        raise s.error("image", f"{image!r} uses the mutable tag {tag!r}: what runs (and what a rollback returns to) "
                      "would change without a deployment", "pin an immutable tag (a git sha) or a digest, or set "
                      "allow_mutable_image_tag: true")
    container_port = s.take_int("container_port", 8080, minimum=1, maximum=65535)
    health = s.take_str("health_check_path", "/health")
    if not health.startswith("/"):
        raise s.error("health_check_path", f"{health!r} does not start with /", "write an absolute path like /health")
    cpu = s.take_int("cpu", 256)
    memory = s.take_int("memory_mib", 512)
    if cpu not in FARGATE_CPU_MEMORY:
        raise s.error("cpu", f"{cpu} is not a Fargate CPU size", f"use one of {sorted(FARGATE_CPU_MEMORY)}")
    if memory not in FARGATE_CPU_MEMORY[cpu]:
        allowed = FARGATE_CPU_MEMORY[cpu]
        raise s.error("memory_mib", f"{memory} MiB is not valid with cpu {cpu}",
                      f"use {allowed[0]}..{allowed[-1]} MiB in the steps Fargate allows")
    desired = s.take_int("desired_count", 2, minimum=1, maximum=1000)
    protocol = Protocol(s.take_choice("protocol", ("http", "websocket"), "http"))
    default_session = 1800 if protocol is Protocol.WEBSOCKET else 30
    max_session = s.take_int("max_session_seconds", default_session, minimum=1, maximum=3600)
    traffic = _parse_traffic(s.take_section("traffic"))
    drain = _parse_drain(s.take_section("drain"), protocol=protocol, max_session=max_session)
    environment = s.take_str_map("environment")
    for key in environment:
        if not ENV_KEY_RE.match(key):
            raise s.error_at(f"{s.field('environment')}.{key}", "not a valid environment variable name",
                             "use letters, digits and _ only, not starting with a digit")
    if "PORT" in environment and environment["PORT"] != str(container_port):
        raise s.error_at(f"{s.field('environment')}.PORT", f"PORT {environment['PORT']} differs from "
                         f"container_port {container_port}: the load balancer would send traffic where nothing "
                         "listens", "remove it (the platform sets PORT to container_port) or change container_port")
    approval = _parse_approval(s.take_section("approval"))
    alarms = _parse_alarms(s.take_section("alarms"))
    smoke = parse_each(s.take_list("smoke_checks", []), lambda i, v: _parse_smoke(s, i, v, protocol))
    names = [c.name for c in smoke]
    if not smoke:
        raise s.error("smoke_checks", "no smoke checks: traffic would move without any test-traffic check",
                      "declare at least one business-flow check run against the test listener")
    if len(set(names)) != len(names):
        raise s.error("smoke_checks", "two smoke checks share a name", "give every check a unique name")
    published = len(json.dumps([c.to_metadata() for c in smoke]))
    if published > MAX_PUBLISHED_SMOKE_CHECKS_BYTES:
        raise s.error("smoke_checks", f"the checks take {published} bytes of published metadata (limit "
                      f"{MAX_PUBLISHED_SMOKE_CHECKS_BYTES}: the domain's SSM parameter must stay under 4 KB)",
                      "use fewer or shorter checks (small bodies, few headers)")
    stickiness = s.take_int("stickiness_seconds", None, minimum=1, maximum=604800)
    shard = s.take_int("shard", None, minimum=0, maximum=99)
    s.done()
    if port == test_port:
        raise s.error("test_port", f"test_port {test_port} equals port", "give the test listener its own port")
    if stickiness is not None and stickiness > drain.termination_wait_minutes * 60:
        raise s.error("stickiness_seconds",
                      f"{stickiness} s outlives the blue task set (drain.termination_wait_minutes "
                      f"{drain.termination_wait_minutes} = {drain.termination_wait_minutes * 60} s): users kept on blue "
                      "would get load-balancer 5xx once it is terminated",
                      f"use at most {drain.termination_wait_minutes * 60}, remove it to derive it, or raise "
                      "drain.termination_wait_minutes")
    spec = DomainSpec(name=name, alb_group=group, port=port, test_port=test_port, image=image,
                      container_port=container_port, health_check_path=health, cpu=cpu, memory_mib=memory,
                      desired_count=desired, protocol=protocol, max_session_seconds=max_session, traffic=traffic,
                      drain=drain, environment=environment, approval=approval, alarms=alarms, smoke_checks=smoke,
                      stickiness_seconds=stickiness, shard=shard)
    _check_release_fits_a_stack_update(s, spec)
    return spec


def _check_release_fits_a_stack_update(s: Section, spec: DomainSpec) -> None:
    """A `cdk deploy` that changes the container waits for the whole release (release_timing)."""
    worst = worst_case_release_minutes(spec)
    if worst > max_release_minutes():
        raise s.error_at(s.path, f"a release can take {worst} minutes (install and test checks "
                         f"{INSTALL_AND_TEST_MINUTES} + approval window + traffic shift + blue termination wait), "
                         f"longer than the {max_release_minutes()} minutes a stack update waits for CodeDeploy",
                         "shorten traffic.interval_minutes, approval.expiry_minutes or drain.termination_wait_minutes")


def _parse_traffic(s: Section) -> TrafficShift:
    style = s.take_choice("style", STYLES, "all_at_once")
    if style == "all_at_once":
        s.done()
        return TrafficShift.all_at_once()
    percentage = s.take_int("percentage", 10)
    interval = s.take_int("interval_minutes", 5 if style == "canary" else 1)
    s.done()
    shift = TrafficShift(style=style, percentage=percentage, interval_minutes=interval)
    for field, problem, fix in shift.problems():
        raise s.error(field.split(".", 1)[1], problem, fix)
    return shift


def _parse_drain(s: Section, *, protocol: Protocol, max_session: int) -> DrainPolicy:
    base = DrainPolicy.for_websocket(max_session) if protocol is Protocol.WEBSOCKET else DrainPolicy.for_http(max_session)
    policy = base.with_overrides(
        deregistration_delay_seconds=s.take_int("deregistration_delay_seconds", None),
        termination_wait_minutes=s.take_int("termination_wait_minutes", None),
    )
    s.done()
    for field, problem, fix in policy.problems():
        raise s.error(field.split(".", 1)[1], problem, fix)
    return policy


def _parse_approval(s: Section) -> ApprovalSpec:
    required = s.take_bool("required", False)
    channel = s.take_str("channel", None)
    approvers = s.take_section("approvers")
    users = approvers.take_str_list("users")
    groups = approvers.take_str_list("groups")
    approvers.done()
    expiry = s.take_int("expiry_minutes", 45)
    min_approvers = s.take_int("min_approvers", 1)
    unknown_requester = s.take_choice("unknown_requester", UNKNOWN_REQUESTER_CHOICES, "two_approvers")
    s.done()
    if not 1 <= min_approvers <= 5:
        raise s.error("min_approvers", f"{min_approvers} distinct approvers is outside 1..5",
                      "use 1 (default) or 2 for a two-person rule on every release")
    if not 1 <= expiry <= MAX_APPROVAL_EXPIRY_MINUTES:
        raise s.error("expiry_minutes", f"{expiry} minutes leaves no room for the expiry's retries before "
                                        "CodeDeploy's 60-minute hook deadline",
                      f"use 1..{MAX_APPROVAL_EXPIRY_MINUTES} minutes (default 45)")
    for user in users:
        if not SLACK_ID_RE.match(user) or user.startswith("S"):
            raise approvers.error("users", f"{user!r} is not a Slack user id", "use ids like U0123ABC")
    for group in groups:
        if not re.match(r"^S[A-Z0-9]{2,}$", group):
            raise approvers.error("groups", f"{group!r} is not a Slack user-group id", "use ids like S0123ABC")
    if required:
        if channel is None:
            raise s.error("channel", "approval is required but no channel is set", "add the Slack channel id")
        if not users and not groups:
            raise approvers.error("users", "approval is required but nobody may approve",
                                  "list Slack user ids under users or user-group ids under groups")
    if channel is not None and not CHANNEL_RE.match(channel):
        raise s.error("channel", f"{channel!r} is not a Slack channel id", "use the channel id (C0123ABC)")
    return ApprovalSpec(required=required, channel=channel, approvers=ApproverSpec(user_ids=users, group_ids=groups),
                        expiry_minutes=expiry, min_approvers=min_approvers, unknown_requester=unknown_requester)


def _parse_alarms(s: Section) -> RollbackAlarmsSpec:
    spec = RollbackAlarmsSpec(
        error_rate_percent=s.take_float("error_rate_percent", 5.0),
        p99_latency_ms=s.take_int("p99_latency_ms", 2000, minimum=1, maximum=600000),
        unhealthy_hosts=s.take_int("unhealthy_hosts", 1, minimum=1, maximum=1000),
        period_seconds=s.take_int("period_seconds", 60),
        evaluation_periods=s.take_int("evaluation_periods", 2, minimum=1, maximum=10),
        custom=parse_each(s.take_list("custom", []), lambda i, v: _parse_custom_alarm(s, i, v)),
        existing_alarm_names=s.take_str_list("existing"),
    )
    s.done()
    if spec.period_seconds not in (10, 30) and (spec.period_seconds < 60 or spec.period_seconds % 60):
        raise s.error("period_seconds", f"{spec.period_seconds} is not a CloudWatch alarm period",
                      "use 10, 30 or a multiple of 60")
    if not 0.1 <= spec.error_rate_percent <= 100:
        raise s.error("error_rate_percent", f"{spec.error_rate_percent} is not a usable percentage",
                      "use 0.1..100")
    if spec.count > MAX_ALARMS_PER_DEPLOYMENT_GROUP:
        built_in = BUILT_IN_ROLLBACK_ALARMS
        raise s.error("custom", f"{spec.count} alarms ({built_in} built-in + {spec.count - built_in} custom and "
                      f"existing) exceed CodeDeploy's {MAX_ALARMS_PER_DEPLOYMENT_GROUP} alarms per deployment group",
                      f"keep at most {MAX_ALARMS_PER_DEPLOYMENT_GROUP - built_in} custom and existing alarms together")
    return spec


def _parse_custom_alarm(parent: Section, index: int, raw: Any) -> CustomAlarmSpec:
    s = Section(raw, source=parent.source, path=f"{parent.field('custom')}[{index}]")
    spec = CustomAlarmSpec(
        name=_alarm_name(s, s.take_str("name")),
        namespace=s.take_str("namespace"),
        metric_name=s.take_str("metric"),
        threshold=s.take_float("threshold"),
        dimensions=s.take_str_map("dimensions"),
        statistic=s.take_choice("statistic", ("Sum", "Average", "Maximum", "Minimum", "SampleCount", "p99"), "Sum"),
        comparison=s.take_choice("comparison", ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
                                                "LessThanThreshold", "LessThanOrEqualToThreshold"),
                                 "GreaterThanOrEqualToThreshold"),
        period_seconds=s.take_int("period_seconds", 60, minimum=10, maximum=86400),
        evaluation_periods=s.take_int("evaluation_periods", 2, minimum=1, maximum=10),
    )
    s.done()
    return spec


def _alarm_name(s: Section, value: str) -> str:
    if not re.match(r"^[a-z][a-z0-9-]{0,46}[a-z0-9]$", value):
        raise s.error("name", f"alarm name {value!r} is not valid", "use 2-48 lower-case letters, digits and '-'")
    return value


def _parse_smoke(parent: Section, index: int, raw: Any, protocol: Protocol) -> SmokeCheckSpec:
    s = Section(raw, source=parent.source, path=f"{parent.field('smoke_checks')}[{index}]")
    name = s.take_str("name")
    kind = s.take_choice("kind", ("http", "websocket"), "http")
    method = s.take_str("method", "GET").upper()
    if method not in SMOKE_METHODS:
        raise s.error("method", f"{method!r} is not an HTTP method", f"use one of {', '.join(SMOKE_METHODS)}")
    path = s.take_str("path", "/")
    if not path.startswith("/"):
        raise s.error("path", f"{path!r} does not start with /", "write an absolute path")
    headers = s.take_str_map("headers")
    body = s.take_str("body", None)
    expect_status = s.take_int("expect_status", 101 if kind == "websocket" else 200, minimum=100, maximum=599)
    expect_json = s.take_section("expect_json")
    expected = dict(expect_json.items())
    budget = s.take_int("latency_budget_ms", 2000, minimum=1, maximum=60000)
    s.done()
    if kind == "websocket" and protocol is not Protocol.WEBSOCKET:
        raise s.error("kind", "a websocket check on an http domain", "set the domain's protocol: websocket")
    spec = SmokeCheckSpec(name=name, kind=kind, method=method, path=path, headers=headers, body=body,
                          expect_status=expect_status, expect_json=expected, latency_budget_ms=budget)
    # The hook parses the published checks with the same rules, so a check that synthesizes also runs.
    from bgruntime.smoke_checks import CheckSpecError, parse_check

    try:
        parse_check(spec.to_metadata(), field="check")
    except CheckSpecError as error:
        where = error.field.removeprefix("check").lstrip(".") or "check"
        raise s.error_at(s.path, f"{where} {error.problem}",
                         "fix this smoke check (see docs/progressive-delivery.md)") from None
    return spec


def _check_ports(domains: tuple[DomainSpec, ...], groups: dict[str, AlbGroupSpec], source: str) -> None:
    """Ports are unique per ALB group (not just per load balancer), so sharding never forces a port change."""
    for group in groups:
        seen: dict[int, str] = {}
        for domain in (d for d in domains if d.alb_group == group):
            for key, port in (("port", domain.port), ("test_port", domain.test_port)):
                if port in seen:
                    raise ConfigError(source=source, field=f"domains.{domain.name}.{key}",
                                      problem=f"port {port} is already used by {seen[port]} on ALB group {group}",
                                      fix="pick a port no other domain of this ALB group uses")
                seen[port] = f"domains.{domain.name}.{key}"


def _assign_shards(domains: tuple[DomainSpec, ...], source: str, *, capacity: int) -> tuple[DomainSpec, ...]:
    """Place domains on load balancers of their group: pinned shards first, then config order fills the
    lowest shard with room. Appending a domain never moves an existing one; pin with `shard` to be explicit.
    `capacity` is 25 (50 listeners), less when client CIDRs add security-group rules per domain."""
    used: dict[tuple[str, int], int] = {}
    for domain in domains:
        if domain.shard is not None:
            key = (domain.alb_group, domain.shard)
            used[key] = used.get(key, 0) + 1
            if used[key] > capacity:
                raise ConfigError(source=source, field=f"domains.{domain.name}.shard",
                                  problem=f"shard {domain.shard} of ALB group {domain.alb_group} would hold more than "
                                          f"{capacity} domains (50 listeners, prod + test per domain, and 60 "
                                          f"security-group rules per load balancer)",
                                  fix="pin this domain to another shard or remove `shard` to place it automatically")
    placed = []
    for domain in domains:
        if domain.shard is None:
            shard = 0
            while used.get((domain.alb_group, shard), 0) >= capacity:
                shard += 1
            used[(domain.alb_group, shard)] = used.get((domain.alb_group, shard), 0) + 1
            domain = replace(domain, shard=shard)
        placed.append(domain)
    return tuple(placed)


def _check_idle_timeouts(domains: tuple[DomainSpec, ...], groups: dict[str, AlbGroupSpec], source: str) -> None:
    for domain in domains:
        group = groups[domain.alb_group]
        needed = domain.drain.min_idle_timeout_seconds
        if group.idle_timeout_seconds < needed:
            raise ConfigError(
                source=source, field=f"alb_groups.{group.name}.idle_timeout_seconds",
                problem=f"{group.idle_timeout_seconds} s would close idle {domain.name} sessions "
                        f"(max_session_seconds {domain.max_session_seconds})",
                fix=f"set it to at least {needed} or put {domain.name} on its own ALB group")


def _parse_feature_flags(raw: dict[str, Any], *, source: str, domains: tuple[DomainSpec, ...]) -> dict[str, object]:
    if not raw:
        return {}
    from bluegreen.feature_flags import parse_feature_flags

    return parse_feature_flags(raw, source=source, known_domains={d.name for d in domains})
