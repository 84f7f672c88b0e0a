"""The configuration reference, generated from the reader itself (`make config-docs` -> docs/configuration.md).

Keys, types, defaults and the ranges the reader enforces while reading come from recording a parse of the
embedded default (`reader.record_keys`); `KEY_DOCS` adds what a reader cannot know: what each key is for, the
limits checked after reading, and the reason for each limit. `tests/config/test_reference.py` fails when a key
the reader takes has no entry here (or an entry names a key it no longer takes), when a documented limit is not
enforced, and when docs/configuration.md is stale.
"""
from __future__ import annotations

from dataclasses import dataclass

from bluegreen.config import reader
from bluegreen.limits import MAX_ALARMS_PER_DEPLOYMENT_GROUP, MAX_APPROVAL_EXPIRY_MINUTES


@dataclass(frozen=True)
class KeyDoc:
    what: str
    default: str | None = None  # replaces the recorded default (conditional or derived defaults)
    minimum: float | None = None  # a limit checked after reading (the reader's own ranges are recorded)
    maximum: float | None = None
    why: str = ""  # the reason for the limit


D, G = "domains.<domain>", "alb_groups.<group>"
SESSION_RULE = "must cover max_session_seconds (a shorter drain would cut live sessions)"
KEY_DOCS: dict[str, KeyDoc] = {
    "platform": KeyDoc("The platform shared by every domain."),
    "platform.name": KeyDoc("Prefixes every resource name (`<name>-<domain>`, `/<name>/` in SSM).",
                            why="2-12 lower-case letters, digits and '-': the longest derived names (target groups "
                                "`<name>-<domain>-green`) must fit AWS's 32-character limit."),
    "platform.region": KeyDoc("AWS region of every stack."),
    "platform.account": KeyDoc("AWS account id; when set, availability zones are named explicitly so synth never "
                               "looks them up."),
    "platform.vpc_cidr": KeyDoc("The platform VPC's range.", why="a /16../24 IPv4 range (two AZs, public /24 and "
                                                                 "private /20 subnets)."),
    "platform.availability_zones": KeyDoc("Two zones of the region, used when `account` is set.",
                                          default="`<region>a`, `<region>b`"),
    "platform.client_cidrs": KeyDoc("Ranges besides the VPC that may reach production listeners.",
                                    why="each range adds one inbound rule per domain to the ALB security group "
                                        "(60 rules): more ranges mean fewer domains per load balancer."),
    "platform.test_client_cidrs": KeyDoc("Ranges (e.g. a VPN) that may reach test listeners, which serve unapproved "
                                         "green; the platform's smoke-check hook always may.",
                                         why="counted against the same 60 inbound rules as client_cidrs."),
    "platform.hosted_zone": KeyDoc("Where domain endpoints are named."),
    "platform.hosted_zone.name": KeyDoc("Zone name; endpoints are `<domain>.<zone>`.", default="`<platform.name>.internal`"),
    "platform.hosted_zone.existing_zone_id": KeyDoc("Reuse this Route 53 zone instead of creating a private one."),
    "platform.slack": KeyDoc("Slack wiring of the approval gate and the deployment timeline."),
    "platform.slack.notification_channel": KeyDoc("Channel id of the deployment timeline (domains' approval channels "
                                                  "take precedence)."),
    "platform.slack.identity_map": KeyDoc("Deploy identity -> Slack user id (`github:alice: U0ALICE`); the approval "
                                          "gate uses it to refuse self-approval (docs/approvals.md)."),
    "platform.github": KeyDoc("GitHub Actions deploy access (OIDC, no stored keys)."),
    "platform.github.deployers": KeyDoc("Repositories allowed to deploy: one least-privilege role each."),
    "platform.github.deployers[].repository": KeyDoc("`owner/name`."),
    "platform.github.deployers[].branches": KeyDoc("Branches whose pushes may deploy.", default="[main]"),
    "platform.github.deployers[].environments": KeyDoc("GitHub environments whose jobs may deploy (the deploy workflow "
                                                       "runs each domain in an environment named after it)."),
    "platform.github.existing_oidc_provider_arn": KeyDoc("The account's GitHub OIDC provider, when not at its "
                                                         "predictable ARN."),
    "platform.github.create_oidc_provider": KeyDoc("Create the account's GitHub OIDC provider (by default it is "
                                                   "referenced: IAM allows one per URL per account)."),
    "platform.api_gateway_logging": KeyDoc("Stage logging of the approval API: `off`, `account-role-exists`, or "
                                           "`create-account-role` (creates the account-wide API Gateway role)."),
    "alb_groups": KeyDoc("Load balancers that share scheme, protocol and idle timeout."),
    f"{G}.scheme": KeyDoc("`internal` (default) or `internet-facing`."),
    f"{G}.protocol": KeyDoc("Listener protocol of every domain on the group."),
    f"{G}.certificate_arn": KeyDoc("HTTPS: the listeners' default certificate (required for HTTPS). Fixed once "
                                   "listeners exist: ACM renews it in place; add others below."),
    f"{G}.idle_timeout_seconds": KeyDoc("ALB idle timeout.", why="ALB allows 1..4000 s; WebSocket domains need more "
                                                                  "than their longest session (validated)."),
    f"{G}.additional_certificate_arns": KeyDoc("Extra (SNI) certificates, safe to change any time."),
    "domains": KeyDoc("One block per domain service (adding a domain: README)."),
    f"{D}.alb_group": KeyDoc("Which ALB group serves it."),
    f"{D}.port": KeyDoc("Production listener port.", why="unique within its ALB group (one listener per port)."),
    f"{D}.test_port": KeyDoc("Test listener port (green during a deployment).", why="unique within its ALB group."),
    f"{D}.image": KeyDoc("Image with a tag or digest; mutable tags such as `latest` are refused unless "
                         "`allow_mutable_image_tag`.", why="a mutable tag makes 'what runs' unknowable and rollback "
                                                            "unreliable."),
    f"{D}.allow_mutable_image_tag": KeyDoc("Accept a mutable tag (`latest`) anyway."),
    f"{D}.container_port": KeyDoc("Port the app listens on; the platform sets `PORT` to it.",
                                  why="fixed once the service exists: ECS refuses load-balancer changes on a "
                                      "CODE_DEPLOY service."),
    f"{D}.health_check_path": KeyDoc("ALB health check path (2xx = healthy)."),
    f"{D}.cpu": KeyDoc("Fargate CPU units.", why="256, 512, 1024, 2048, 4096, 8192 or 16384 (Fargate sizes)."),
    f"{D}.memory_mib": KeyDoc("Fargate memory.", why="must be valid for the CPU size (Fargate table)."),
    f"{D}.desired_count": KeyDoc("Tasks per colour."),
    f"{D}.protocol": KeyDoc("`http` or `websocket` (long-lived sessions: a session-safe drain policy)."),
    f"{D}.max_session_seconds": KeyDoc("The longest session a client may hold.", default="30 (http), 1800 (websocket)"),
    f"{D}.traffic": KeyDoc("How CodeDeploy shifts production traffic."),
    f"{D}.traffic.style": KeyDoc("`all_at_once`, `canary` (N % then the rest after M minutes) or `linear` (N % every M "
                                 "minutes)."),
    f"{D}.traffic.percentage": KeyDoc("Canary/linear step.", default="10", minimum=1, maximum=99,
                                      why="CodeDeploy's TimeBasedCanary/TimeBasedLinear range (100 % is all_at_once)."),
    f"{D}.traffic.interval_minutes": KeyDoc("Minutes between steps.", default="5 (canary), 1 (linear)", minimum=1,
                                            maximum=2880, why="CodeDeploy's range."),
    f"{D}.drain": KeyDoc("How long the old version keeps serving (derived from max_session_seconds; overrides below)."),
    f"{D}.drain.deregistration_delay_seconds": KeyDoc("ALB deregistration delay of blue targets.",
                                                      default="derived: session + margin (60 s http, 2400 s for "
                                                              "30-minute sessions)", minimum=0, maximum=3600,
                                                      why=f"ALB range 0..3600; {SESSION_RULE}."),
    f"{D}.drain.termination_wait_minutes": KeyDoc("How long CodeDeploy keeps blue after the shift.",
                                                  default="derived: session minutes + 5", minimum=0, maximum=2880,
                                                  why=f"CodeDeploy range 0..2880; {SESSION_RULE}."),
    f"{D}.environment": KeyDoc("Environment variables of the app container (non-secret; `PORT` must equal "
                               "container_port)."),
    f"{D}.approval": KeyDoc("Human approval at BeforeAllowTraffic (docs/approvals.md)."),
    f"{D}.approval.required": KeyDoc("Gate releases on a Slack approval."),
    f"{D}.approval.channel": KeyDoc("Slack channel id of the approval message (required with `required`)."),
    f"{D}.approval.approvers": KeyDoc("Who may approve (at least one user or group with `required`)."),
    f"{D}.approval.approvers.users": KeyDoc("Slack user ids."),
    f"{D}.approval.approvers.groups": KeyDoc("Slack user-group ids."),
    f"{D}.approval.expiry_minutes": KeyDoc("Unanswered requests fail the deployment after this long.", minimum=1,
                                           maximum=MAX_APPROVAL_EXPIRY_MINUTES,
                                           why="CodeDeploy fails an unanswered lifecycle hook after 60 minutes; the "
                                               "expiry schedule's retries must end before that."),
    f"{D}.approval.min_approvers": KeyDoc("Distinct approvers every release needs (2: a two-person rule always).",
                                          minimum=1, maximum=5, why="at most 5 distinct people per release."),
    f"{D}.approval.unknown_requester": KeyDoc("When who asked cannot be verified or mapped to Slack: "
                                              "`two_approvers` (default) or `block` (docs/approvals.md)."),
    f"{D}.alarms": KeyDoc("Rollback alarms: 4 built-in (5xx rate and p99 over both target groups, unhealthy hosts, "
                          "the load balancer's 5xx rate) + custom + existing.",
                          why=f"CodeDeploy watches at most {MAX_ALARMS_PER_DEPLOYMENT_GROUP} alarms per deployment "
                              "group."),
    f"{D}.alarms.error_rate_percent": KeyDoc("5xx rate that rolls back (blue/green and load balancer).", minimum=0.1,
                                             maximum=100, why="a percentage (below 0.1 % one error in a "
                                                                  "quiet minute rolls back)."),
    f"{D}.alarms.p99_latency_ms": KeyDoc("p99 target response time that rolls back."),
    f"{D}.alarms.unhealthy_hosts": KeyDoc("Unhealthy targets that roll back."),
    f"{D}.alarms.period_seconds": KeyDoc("Alarm period.", why="10, 30 or a multiple of 60 (CloudWatch)."),
    f"{D}.alarms.evaluation_periods": KeyDoc("Breaching periods before ALARM (time to rollback = periods x period)."),
    f"{D}.alarms.custom": KeyDoc("Business metric alarms the platform creates."),
    f"{D}.alarms.custom[].name": KeyDoc("Alarm name suffix (`<platform>-<domain>-<name>`)."),
    f"{D}.alarms.custom[].namespace": KeyDoc("CloudWatch namespace."),
    f"{D}.alarms.custom[].metric": KeyDoc("Metric name."),
    f"{D}.alarms.custom[].threshold": KeyDoc("Threshold."),
    f"{D}.alarms.custom[].dimensions": KeyDoc("Metric dimensions."),
    f"{D}.alarms.custom[].statistic": KeyDoc("Statistic."),
    f"{D}.alarms.custom[].comparison": KeyDoc("Comparison operator."),
    f"{D}.alarms.custom[].period_seconds": KeyDoc("Period."),
    f"{D}.alarms.custom[].evaluation_periods": KeyDoc("Breaching periods."),
    f"{D}.alarms.existing": KeyDoc("Names of alarms that already exist (only watched)."),
    f"{D}.smoke_checks": KeyDoc("Business-flow checks against the test listener at AfterAllowTestTraffic: at least "
                                "one (traffic never moves untested).",
                                why="published in the domain's metadata, which must stay under SSM's 4 KB."),
    f"{D}.smoke_checks[].name": KeyDoc("Unique name."),
    f"{D}.smoke_checks[].kind": KeyDoc("`http` or `websocket` (a handshake)."),
    f"{D}.smoke_checks[].method": KeyDoc("HTTP method."),
    f"{D}.smoke_checks[].path": KeyDoc("Absolute path."),
    f"{D}.smoke_checks[].headers": KeyDoc("Request headers."),
    f"{D}.smoke_checks[].body": KeyDoc("Request body."),
    f"{D}.smoke_checks[].expect_status": KeyDoc("Expected status.", default="200 (http), 101 (websocket)"),
    f"{D}.smoke_checks[].expect_json": KeyDoc("Keys the JSON answer must contain with these values."),
    f"{D}.smoke_checks[].latency_budget_ms": KeyDoc("Slower answers fail the check."),
    f"{D}.stickiness_seconds": KeyDoc("Canary/linear: how long a user stays on the colour they landed on (set on the "
                                      "live forward action, never the listener).",
                                      default="derived: min(3600, termination wait)",
                                      why="no longer than the blue task set lives (termination wait), or users kept "
                                          "on blue get load-balancer 5xx."),
    f"{D}.shard": KeyDoc("Pin to a load balancer of the group (0-based); otherwise placed in config order.",
                         why="25 domains per load balancer (50 listeners), fewer with client ranges."),
    "feature_flags": KeyDoc("AppConfig feature flags per domain: docs/feature-flags.md."),
}


def recorded_keys() -> dict[str, list[reader.KeyRecord]]:
    """Every key the reader takes while parsing the embedded default, in reading order."""
    from bluegreen.config.loader import load_config

    records: list[reader.KeyRecord] = []
    reader.record_keys(records)
    try:
        load_config(None)
    finally:
        reader.record_keys(None)
    found: dict[str, list[reader.KeyRecord]] = {}
    for record in records:
        found.setdefault(record.path, []).append(record)
    return found


def _range(records: list[reader.KeyRecord], doc: KeyDoc) -> str:
    first = records[0]
    minimum = first.minimum if first.minimum is not None else doc.minimum
    maximum = first.maximum if first.maximum is not None else doc.maximum
    parts = []
    if first.choices:
        parts.append(" \\| ".join(f"`{c}`" for c in first.choices))
    if minimum is not None or maximum is not None:
        parts.append(f"{_number(minimum)}..{_number(maximum)}")
    return "; ".join(parts)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _default(records: list[reader.KeyRecord], doc: KeyDoc) -> str:
    if doc.default is not None:
        return doc.default
    values = list(dict.fromkeys(r.default for r in records))
    return " or ".join(f"`{v}`" if v not in ("required", "unset") else v for v in values)


def render() -> str:
    lines = [
        "# Configuration reference",
        "",
        "Generated from the config reader (`bluegreen/config/reference.py`; `make config-docs`); a test fails when",
        "it and the code disagree. The embedded default is `constructs/bluegreen/config/default.yaml`;",
        "`cdk synth -c config=path.yaml` (YAML or JSON) replaces it entirely. Unknown keys (with the nearest valid key",
        "suggested), wrong types and out-of-range values are errors naming the file, the field and the fix; nothing",
        "is synthesized. `python app.py` exits 2 on a config error; `cdk synth` prints the same line and exits 1.",
        "",
        "`<domain>` and `<group>` are names you choose; `[]` is an item of a list.",
        "",
        "| key | type | default | allowed | what it is for | why the limit |",
        "|---|---|---|---|---|---|",
    ]
    for path, records in recorded_keys().items():
        doc = KEY_DOCS[path]
        lines.append(f"| `{path}` | {records[0].type} | {_default(records, doc)} | {_range(records, doc)} | "
                     f"{doc.what} | {doc.why} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--write"]:
        from pathlib import Path

        Path(sys.argv[2]).write_text(render(), encoding="utf-8")
    else:
        sys.stdout.write(render())
