"""Config-change scenarios for the change-safety gate: ONE table, read as documentation.

Each scenario takes a base config (`small`: three domains on two ALB groups; `tls`: config/examples/tls.yaml),
changes one thing, and names the verdict `bgctl check-changes` gives when both are synthesized:

- `before`: the verdict the current constructs get (asserted by tests/change_safety/test_scenarios.py);
- `after`: the verdict a careful AWS engineer wants once the day-2 construct work lands (listener shape identical
  for every traffic style, stickiness outside the listener, a provider-based deployment trigger, no strong
  cross-stack exports): safe or through CodeDeploy wherever the change can be made safe, dangerous only where
  it truly is;
- `reason`: a substring of a dangerous change's reason (the rule that fires before the day-2 work).

Used by the scenario test and by bench/change_safety_scenarios.py. Synthesis skips cdk-nag (compliance is
tested in tests/stacks); the context is cdk.json's, as `cdk synth` uses it.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SAFE, CODEDEPLOY, DANGEROUS = "safe", "through-codedeploy", "dangerous"
_TASK, _TRIGGER = "AWS::ECS::TaskDefinition", "Custom::CodeDeployBlueGreenDeployment"
_TG, _GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup", "AWS::CodeDeploy::DeploymentGroup"
_ALARM, _FLAGS = "AWS::CloudWatch::Alarm", "AWS::AppConfig::HostedConfigurationVersion"
_STACK = "AWS::CloudFormation::Stack"
_LISTENER_RULE = "a listener update re-applies its template DefaultActions"

_APPROVERS = {"users": ["U0LEAD1"], "groups": ["S0RELEASERS"]}
_IMAGE = "public.ecr.aws/nginx/nginx:1.27-alpine"

SMALL: dict[str, Any] = {
    "platform": {
        "name": "bluegreen", "region": "eu-west-1", "vpc_cidr": "10.40.0.0/16",
        "hosted_zone": {"name": "bluegreen.internal"},
        "slack": {"notification_channel": "C0DEPLOYS"},
    },
    "alb_groups": {
        "internal": {"scheme": "internal", "protocol": "HTTP", "idle_timeout_seconds": 60},
        "realtime": {"scheme": "internal", "protocol": "HTTP", "idle_timeout_seconds": 1900},
    },
    "domains": {
        "auth": {
            "alb_group": "internal", "port": 8081, "test_port": 9081, "image": _IMAGE, "container_port": 8080,
            "health_check_path": "/health", "cpu": 256, "memory_mib": 512, "desired_count": 2,
            "traffic": {"style": "all_at_once"}, "approval": {"required": False},
            "smoke_checks": [{"name": "issue-token", "method": "POST", "path": "/v1/tokens", "expect_status": 201}],
        },
        "order": {
            "alb_group": "internal", "port": 8082, "test_port": 9082, "image": _IMAGE, "container_port": 8080,
            "health_check_path": "/health", "cpu": 512, "memory_mib": 1024, "desired_count": 2,
            "traffic": {"style": "canary", "percentage": 10, "interval_minutes": 5},
            "approval": {"required": True, "channel": "C0ORDERS", "approvers": _APPROVERS, "expiry_minutes": 45},
            "smoke_checks": [{"name": "create-order", "method": "POST", "path": "/v1/orders", "expect_status": 201}],
        },
        "voice": {
            "alb_group": "realtime", "port": 8443, "test_port": 9443, "image": _IMAGE, "container_port": 8080,
            "health_check_path": "/health", "cpu": 1024, "memory_mib": 2048, "desired_count": 2,
            "protocol": "websocket", "max_session_seconds": 1800,
            "traffic": {"style": "canary", "percentage": 10, "interval_minutes": 15},
            "approval": {"required": True, "channel": "C0VOICE", "approvers": _APPROVERS, "expiry_minutes": 45},
            "smoke_checks": [{"name": "stream-handshake", "kind": "websocket", "path": "/v1/stream"}],
        },
    },
    "feature_flags": {
        "order": {"flags": [{"key": "one_page_checkout", "description": "One-page checkout", "default": False, "enabled_for_users": ["customer-1001"]}]},
    },
}

BASES: dict[str, Callable[[], dict[str, Any]]] = {
    "small": lambda: copy.deepcopy(SMALL),
    "tls": lambda: yaml.safe_load((REPO_ROOT / "config" / "examples" / "tls.yaml").read_text()),
}


@dataclass(frozen=True)
class Scenario:
    id: str
    description: str
    change: Callable[[dict[str, Any]], None]  # mutates a copy of the base config
    before: str
    after: str
    reason: str = ""  # substring of a dangerous change's reason (before)
    base: str = "small"
    context: dict[str, Any] = field(default_factory=dict)  # cdk.json context overrides for the new synth
    shows: tuple[tuple[str, str], ...] = ()  # (type, change) the report must contain: the change did what it says
    note: str = ""  # why `after` is what it is, where it is not plain


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """`_set("domains.order.cpu", 1024)`: one config value."""
    def change(config: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return change


def _all(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        for each in changes:
            each(config)
    return change


def _add_domain(config: dict[str, Any], name: str, port: int, group: str = "internal") -> None:
    config["domains"][name] = {
        "alb_group": group, "port": port, "test_port": port + 1000, "image": _IMAGE,
        "smoke_checks": [{"name": f"{name}-ping", "path": "/ping"}]}


def _add_domains(count: int) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        for index in range(count):
            _add_domain(config, f"svc{index:02d}", 8100 + index)
    return change


def _remove_domain(name: str) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        del config["domains"][name]
        config.get("feature_flags", {}).pop(name, None)
    return change


SCENARIOS: tuple[Scenario, ...] = (
    # --- the container: a new task-definition revision, released blue/green by the deployment trigger
    Scenario("image", "new image tag for order", _set("domains.order.image", "public.ecr.aws/nginx/nginx:1.28-alpine"),
             CODEDEPLOY, CODEDEPLOY, shows=((_TASK, "replaced"), (_TRIGGER, "modified"))),
    Scenario("env-var", "add an environment variable to order", _set("domains.order.environment", {"FEATURE_X": "on"}),
             CODEDEPLOY, CODEDEPLOY, shows=((_TASK, "replaced"),)),
    Scenario("cpu-memory", "order from 512 CPU / 1024 MiB to 1024 / 2048",
             _all(_set("domains.order.cpu", 1024), _set("domains.order.memory_mib", 2048)), CODEDEPLOY, CODEDEPLOY,
             shows=((_TASK, "replaced"),)),
    # --- service and target groups, in place
    Scenario("desired-count", "order from 2 to 4 tasks", _set("domains.order.desired_count", 4), SAFE, SAFE,
             shows=(("AWS::ECS::Service", "modified"),)),
    Scenario("health-check-path", "order's health check from /health to /ready",
             _set("domains.order.health_check_path", "/ready"), SAFE, SAFE, shows=((_TG, "modified"),)),
    Scenario("drain-http", "auth: deregistration delay 60 -> 90 s, termination wait 6 -> 10 min",
             _set("domains.auth.drain", {"deregistration_delay_seconds": 90, "termination_wait_minutes": 10}),
             SAFE, SAFE, shows=((_TG, "modified"), (_GROUP, "modified"))),
    Scenario("max-session", "voice: longest session 1800 -> 1500 s (derived drain and MAX_SESSION_SECONDS follow)",
             _set("domains.voice.max_session_seconds", 1500), CODEDEPLOY, CODEDEPLOY,
             shows=((_TASK, "replaced"), (_TG, "modified"), (_GROUP, "modified"))),
    # --- traffic shape: the listener today
    Scenario("traffic-all-at-once-to-canary", "auth from all_at_once to canary 10 % / 5 min",
             _set("domains.auth.traffic", {"style": "canary", "percentage": 10, "interval_minutes": 5}),
             DANGEROUS, SAFE, reason=_LISTENER_RULE,
             note="the listener has the same shape for every traffic style; only the deployment group's config changes"),
    Scenario("traffic-canary-to-linear", "order from canary 10 % / 5 min to linear 10 % every 3 min",
             _set("domains.order.traffic", {"style": "linear", "percentage": 10, "interval_minutes": 3}),
             SAFE, SAFE, shows=((_GROUP, "modified"),)),
    Scenario("stickiness", "order's canary stickiness (derived 360 s) -> 300 s",
             _set("domains.order.stickiness_seconds", 300),
             DANGEROUS, SAFE, reason=_LISTENER_RULE,
             note="stickiness set by a custom resource that keeps the live target group, not by the listener template"),
    # --- ports: truly dangerous (the listener and clients depend on them)
    Scenario("production-port", "order's production port 8082 -> 8092", _set("domains.order.port", 8092),
             DANGEROUS, DANGEROUS, reason=_LISTENER_RULE,
             note="clients and the listener depend on the port: a migration"),
    Scenario("test-port", "order's test port 9082 -> 9092", _set("domains.order.test_port", 9092),
             DANGEROUS, DANGEROUS, reason=_LISTENER_RULE,
             note="a listener property, and CodeDeploy's test route names the listener"),
    Scenario("container-port", "order's container port 8080 -> 8081", _set("domains.order.container_port", 8081),
             DANGEROUS, DANGEROUS, reason="ECS refuses LoadBalancers changes",
             note="named target groups are replaced (Port is createOnly) and ECS refuses the service's LoadBalancers change"),
    # --- rollback alarms and flags
    Scenario("alarm-thresholds", "order: error rate 5 -> 2 %, p99 2000 -> 1500 ms",
             _set("domains.order.alarms", {"error_rate_percent": 2, "p99_latency_ms": 1500}), SAFE, SAFE,
             shows=((_ALARM, "modified"),)),
    Scenario("custom-alarm", "order: add a custom rollback alarm",
             _set("domains.order.alarms", {"custom": [{"name": "failed-orders", "namespace": "Orders",
                                                       "metric": "FailedOrders", "threshold": 5}]}), SAFE, SAFE,
             shows=((_ALARM, "added"), (_GROUP, "modified"))),
    Scenario("flag-added", "order: add a feature flag",
             _set("feature_flags.order.flags", [
                 {"key": "one_page_checkout", "description": "One-page checkout", "default": False, "enabled_for_users": ["customer-1001"]},
                 {"key": "order_history_v2", "description": "New order history", "default": True}]), SAFE, SAFE,
             shows=((_FLAGS, "replaced"),)),
    Scenario("flag-targeting", "order: enable one_page_checkout for one more user",
             _set("feature_flags.order.flags", [{"key": "one_page_checkout", "description": "One-page checkout", "default": False,
                                                  "enabled_for_users": ["customer-1001", "customer-1002"]}]),
             SAFE, SAFE, shows=((_FLAGS, "replaced"),)),
    # --- approval settings
    Scenario("approval-off", "order: approval no longer required",
             _set("domains.order.approval", {"required": False}), CODEDEPLOY, SAFE,
             note="the hooks take effect at the next deployment; the trigger deploys only a new revision"),
    Scenario("approval-on", "auth: approval required",
             _set("domains.auth.approval", {"required": True, "channel": "C0AUTH", "approvers": _APPROVERS}),
             CODEDEPLOY, SAFE, note="as approval-off"),
    Scenario("approvers", "order: another approver", _set("domains.order.approval.approvers",
                                                          {"users": ["U0LEAD1", "U0LEAD2"], "groups": ["S0RELEASERS"]}),
             SAFE, SAFE),
    Scenario("approval-expiry", "order: approval expiry 45 -> 30 min", _set("domains.order.approval.expiry_minutes", 30),
             SAFE, SAFE),
    # --- domains and load balancers
    Scenario("add-domain", "a new domain `cart` on the internal ALB",
             lambda config: _add_domain(config, "cart", 8084), SAFE, SAFE, shows=((_STACK, "added"),)),
    Scenario("remove-domain", "remove the domain `auth`", _remove_domain("auth"),
             DANGEROUS, DANGEROUS, reason="stack removed from the app",
             note="the retained ECR repository and log group keep their names: the documented removal procedure"),
    Scenario("move-alb-group", "move auth from the internal to the realtime ALB group",
             _set("domains.auth.alb_group", "realtime"), DANGEROUS, DANGEROUS,
             reason=_LISTENER_RULE,
             note="the listeners move to another load balancer (LoadBalancerArn is createOnly)"),
    Scenario("new-shard", "24 more domains on the internal ALB: the 26th needs a second load balancer (shard 1)",
             _add_domains(24), SAFE, SAFE, shows=(("AWS::ElasticLoadBalancingV2::LoadBalancer", "added"),)),
    # --- TLS
    Scenario("tls-certificate", "a new default certificate for the HTTPS listeners (tls example)",
             _set("alb_groups.tls.certificate_arn",
                  "arn:aws:acm:eu-central-1:111122223333:certificate/11111111-2222-3333-4444-555555555555"),
             DANGEROUS, DANGEROUS, reason=_LISTENER_RULE, base="tls",
             note="the default certificate is a listener property"),
    # --- platform level
    Scenario("notification-channel", "the platform's Slack timeline channel", _set(
        "platform.slack.notification_channel", "C0NEWDEPLOYS"), SAFE, SAFE),
    Scenario("client-cidrs", "allow a client range to reach the production ports",
             _set("platform.client_cidrs", ["10.60.0.0/16"]), DANGEROUS, SAFE,
             reason="same SecurityGroupIngress as",
             note="ingress rules numbered by list position shift; ids derived from port and range would not"),
    Scenario("alb-idle-timeout", "internal ALB idle timeout 60 -> 120 s",
             _set("alb_groups.internal.idle_timeout_seconds", 120), SAFE, SAFE,
             shows=(("AWS::ElasticLoadBalancingV2::LoadBalancer", "modified"),)),
    Scenario("vpc-cidr", "VPC range 10.40.0.0/16 -> 10.41.0.0/16", _set("platform.vpc_cidr", "10.41.0.0/16"),
             DANGEROUS, DANGEROUS, reason="CidrBlock in createOnlyProperties", shows=(("AWS::EC2::VPC", "replaced"),),
             note="a new VPC: everything in it moves"),
    Scenario("platform-name", "platform name bluegreen -> bluegreen2", _set("platform.name", "bluegreen2"),
             DANGEROUS, DANGEROUS, reason="stack removed from the app", note="every stack and resource name is new"),
    Scenario("cdk-flag-flip", "CDK feature flag @aws-cdk/aws-iam:minimizePolicies true -> false",
             lambda config: None, SAFE, SAFE, context={"@aws-cdk/aws-iam:minimizePolicies": False},
             shows=(("AWS::IAM::Policy", "modified"),),
             note="a flag flip is classified like any other change: here IAM statements are regrouped in place"),
)


def changed_config(scenario: Scenario) -> dict[str, Any]:
    config = BASES[scenario.base]()
    scenario.change(config)
    return config


def synthesize(config: dict[str, Any], outdir: Path, context: dict[str, Any] | None = None) -> Path:
    """Synthesize `config` as `cdk synth` would (cdk.json context, plus overrides), without cdk-nag."""
    import aws_cdk as cdk

    from bluegreen.config.loader import parse_config
    from stacks.app_builder import build_app
    from tests.synth_support import cdk_json_context

    app = cdk.App(outdir=str(outdir), context={**cdk_json_context(), **(context or {})})
    build_app(parse_config(json.loads(json.dumps(config)), source="scenario"), app=app, nag=False)
    app.synth()
    return outdir


def markdown_table() -> str:
    """The table as docs/change-safety.md shows it (a test keeps the two equal)."""
    rows = ["| scenario | change | before (measured) | after (day-2 target) | rule that fires before / note |",
            "|---|---|---|---|---|"]
    for s in SCENARIOS:
        why = "; ".join(part for part in (s.reason and f"`{s.reason}`", s.note) if part)
        rows.append(f"| `{s.id}` | {s.description} | {s.before} | {s.after} | {why} |")
    return "\n".join(rows) + "\n"
