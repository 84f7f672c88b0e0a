"""Configuration: the default, the examples, and one test per kind of bad input."""
from __future__ import annotations

from pathlib import Path

import pytest

from bluegreen.config.errors import ConfigError
from bluegreen.config.loader import EMBEDDED_DEFAULT, load_config, parse_config
from bluegreen.config.model import ListenerProtocol, Protocol
from tests.seed import SEED_DOMAINS

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO_ROOT / "config" / "examples").glob("*.yaml"))


def error_for(raw: dict) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source="platform.yaml")
    return info.value


def test_default_describes_the_seed_platform():
    config = load_config(None)
    assert config.source == EMBEDDED_DEFAULT
    assert [d.name for d in config.domains][:4] == list(SEED_DOMAINS)  # appended domains never move these
    internal = [d for d in config.domains if d.alb_group == "internal"]
    assert {"auth", "order", "payment"} <= {d.name for d in internal}
    assert all(d.protocol is Protocol.HTTP for d in internal)
    ports = [p for d in config.domains for p in (d.port, d.test_port)]
    assert len(ports) == len(set(ports))
    voice = config.domain("voice")
    assert voice.protocol is Protocol.WEBSOCKET and voice.max_session_seconds == 1800
    assert voice.drain.deregistration_delay_seconds == 2400
    assert voice.drain.termination_wait_minutes >= 35
    assert config.alb_groups[voice.alb_group].idle_timeout_seconds >= 1800
    assert {d.traffic.style for d in config.domains} == {"all_at_once", "canary", "linear"}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_examples_load(example):
    config = load_config(str(example))
    assert config.source == str(example)
    assert config.domains


def test_at_least_two_examples_including_tls():
    assert len(EXAMPLES) >= 2
    assert any(load_config(str(e)).uses_tls for e in EXAMPLES)


def test_json_file_loads(tmp_path, raw):
    import json

    path = tmp_path / "platform.json"
    path.write_text(json.dumps(raw))
    assert load_config(str(path)).source == str(path)


def test_missing_file():
    with pytest.raises(ConfigError, match="file not found"):
        load_config("/nonexistent/platform.yaml")


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("platform:\n  name: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    assert str(path) in str(info.value) and "line" in info.value.field


def test_unknown_key_names_the_field_and_the_known_keys(raw):
    raw["domains"]["auth"]["prot"] = 1
    error = error_for(raw)
    assert error.field == "domains.auth.prot"
    assert "unknown key" in error.problem and "port" in error.fix
    assert str(error).startswith("platform.yaml: domains.auth.prot:")


def test_unknown_top_level_key(raw):
    raw["domian"] = {}
    assert error_for(raw).field == "domian"


@pytest.mark.parametrize("field,value", [
    ("port", "8081"), ("desired_count", True), ("cpu", 1.5), ("environment", ["A=1"]), ("smoke_checks", {}),
])
def test_wrong_types(raw, field, value):
    raw["domains"]["auth"][field] = value
    error = error_for(raw)
    assert error.field == f"domains.auth.{field}"
    assert "expected" in error.problem


def test_duplicate_port_on_one_alb(raw):
    raw["domains"]["order"]["port"] = raw["domains"]["auth"]["port"]
    error = error_for(raw)
    assert error.field == "domains.order.port"
    assert "already used by domains.auth.port" in error.problem


def test_test_port_clashing_with_another_domains_port(raw):
    raw["domains"]["payment"]["test_port"] = raw["domains"]["auth"]["port"]
    assert "already used" in error_for(raw).problem


def test_same_port_on_different_alb_groups_is_fine(raw):
    raw["domains"]["voice"]["port"] = raw["domains"]["auth"]["port"]
    parse_config(raw, source="platform.yaml")


def test_port_equal_to_test_port(raw):
    raw["domains"]["auth"]["test_port"] = raw["domains"]["auth"]["port"]
    assert error_for(raw).field == "domains.auth.test_port"


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_out_of_range(raw, port):
    raw["domains"]["auth"]["port"] = port
    error = error_for(raw)
    assert error.field == "domains.auth.port" and "1..65535" in error.problem


def _add_domains(raw: dict, count: int, group: str = "internal") -> None:
    for index in range(count):
        raw["domains"][f"extra{index}"] = {"alb_group": group, "port": 10000 + index,
                                           "test_port": 20000 + index, "image": "repo/app:1",
                                           "smoke_checks": [{"name": "health", "path": "/health"}]}


def test_domains_beyond_one_albs_listener_quota_go_to_a_second_load_balancer(raw):
    before = sum(1 for d in raw["domains"].values() if d["alb_group"] == "internal")  # 3 in the seed
    _add_domains(raw, 25)  # before + 25 > 25 per ALB
    config = parse_config(raw, source="platform.yaml")
    shards = {d.name: d.shard for d in config.domains if d.alb_group == "internal"}
    assert sum(1 for s in shards.values() if s == 0) == 25
    assert [n for n, s in shards.items() if s == 1] == [f"extra{i}" for i in range(25) if before + i >= 25]
    assert config.shards("internal") == 2 and config.shards("realtime") == 1


def test_adding_a_domain_never_moves_existing_ones(raw):
    _add_domains(raw, 30)
    before = {d.name: d.shard for d in parse_config(raw, source="x").domains}
    raw["domains"]["newcomer"] = {"alb_group": "internal", "port": 30000, "test_port": 30001, "image": "r/n:1",
                                  "smoke_checks": [{"name": "health", "path": "/health"}]}
    after = {d.name: d.shard for d in parse_config(raw, source="x").domains}
    assert {k: after[k] for k in before} == before


def test_pinned_shard_is_respected_and_bounded(raw):
    raw["domains"]["auth"]["shard"] = 3
    assert parse_config(raw, source="x").domain("auth").shard == 3
    _add_domains(raw, 26)
    for index in range(26):
        raw["domains"][f"extra{index}"]["shard"] = 1
    error = error_for(raw)
    assert error.field.endswith(".shard") and "25" in error.problem


def test_drain_shorter_than_max_session(raw):
    raw["domains"]["voice"]["drain"] = {"deregistration_delay_seconds": 900}
    error = error_for(raw)
    assert error.field == "domains.voice.drain.deregistration_delay_seconds"
    assert "cut live sessions" in error.problem and "1800" in error.fix


def test_termination_wait_shorter_than_max_session(raw):
    raw["domains"]["voice"]["drain"] = {"termination_wait_minutes": 10}
    assert error_for(raw).field == "domains.voice.drain.termination_wait_minutes"


def test_idle_timeout_too_short_for_websocket_sessions(raw):
    raw["alb_groups"]["realtime"]["idle_timeout_seconds"] = 60
    error = error_for(raw)
    assert error.field == "alb_groups.realtime.idle_timeout_seconds" and "voice" in error.fix


@pytest.mark.parametrize("name", ["Auth", "a", "1auth", "auth_", "auth-", "averyveryverylongname"])
def test_invalid_domain_names(raw, name):
    raw["domains"][name] = raw["domains"].pop("auth")
    error = error_for(raw)
    assert error.field == f"domains.{name}" and "AWS resource names" in error.problem


def test_invalid_platform_name(raw):
    raw["platform"]["name"] = "Blue_Green"
    assert error_for(raw).field == "platform.name"


def test_unknown_alb_group(raw):
    raw["domains"]["auth"]["alb_group"] = "nope"
    assert "unknown ALB group" in error_for(raw).problem


@pytest.mark.parametrize("minutes", [51, 59, 60])
def test_approval_expiry_leaves_room_for_retries_before_the_hook_deadline(raw, minutes):
    raw["domains"]["order"]["approval"]["expiry_minutes"] = minutes
    error = error_for(raw)
    assert error.field == "domains.order.approval.expiry_minutes" and "60-minute" in error.problem
    assert "1..50" in error.fix


def test_platform_name_with_a_dash(raw):
    raw["platform"]["name"] = "blue-green"
    error = error_for(raw)
    assert error.field == "platform.name" and "contains '-'" in error.problem and "no '-'" in error.fix


@pytest.mark.parametrize("key", ["alice", "github:", "github:-alice", "iam:arn:aws:iam::123:user/alice",
                                 "iam:arn:aws:sts::123456789012:assumed-role/only-role"])
def test_identity_map_keys_must_be_verified_identities(raw, key):
    raw["platform"]["slack"]["identity_map"] = {key: "U0ALICE"}
    error = error_for(raw)
    assert error.field == f"platform.slack.identity_map.{key}" and "github:<login>" in error.fix


def test_identity_map_refuses_a_bare_role_arn(raw):
    key = "iam:arn:aws:iam::123456789012:role/Admin"
    raw["platform"]["slack"]["identity_map"] = {key: "U0ALICE"}
    assert "every session of the role would map to one person" in error_for(raw).problem


def test_identity_map_accepts_github_users_and_role_sessions(raw):
    session = "iam:arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com"
    raw["platform"]["slack"]["identity_map"] = {"github:alice": "U0ALICE", session: "U0ALICE",
                                                "iam:arn:aws:iam::123456789012:user/bob": "U0BOB"}
    assert parse_config(raw, source="platform.yaml").platform.slack_identity_map[session] == "U0ALICE"


@pytest.mark.parametrize("value", [0, 6])
def test_min_approvers_range(raw, value):
    raw["domains"]["order"]["approval"]["min_approvers"] = value
    error = error_for(raw)
    assert error.field == "domains.order.approval.min_approvers" and "1..5" in error.problem


def test_unknown_requester_policy_choices(raw):
    raw["domains"]["order"]["approval"]["unknown_requester"] = "allow"
    error = error_for(raw)
    assert error.field == "domains.order.approval.unknown_requester" and "two_approvers, block" in error.problem
    raw["domains"]["order"]["approval"].update(unknown_requester="block", min_approvers=2)
    approval = parse_config(raw, source="platform.yaml").domain("order").approval
    assert approval.rules_metadata() == {"minApprovers": 2, "unknownRequester": "block"}


def test_approval_expiry_must_stay_below_an_hour(raw):
    raw["domains"]["order"]["approval"]["expiry_minutes"] = 60
    error = error_for(raw)
    assert error.field == "domains.order.approval.expiry_minutes" and "60-minute" in error.problem


def test_required_approval_needs_approvers(raw):
    raw["domains"]["order"]["approval"]["approvers"] = {}
    assert "nobody may approve" in error_for(raw).problem


def test_image_needs_tag_or_digest(raw):
    raw["domains"]["auth"]["image"] = "public.ecr.aws/nginx/nginx"
    assert error_for(raw).field == "domains.auth.image"


def test_fargate_cpu_memory_combination(raw):
    raw["domains"]["auth"]["memory_mib"] = 4096
    assert error_for(raw).field == "domains.auth.memory_mib"


def test_https_group_needs_certificate(raw):
    raw["alb_groups"]["internal"]["protocol"] = "HTTPS"
    assert error_for(raw).field == "alb_groups.internal.certificate_arn"


def test_tls_example_uses_https():
    config = load_config(str(REPO_ROOT / "config" / "examples" / "tls.yaml"))
    assert config.alb_groups["tls"].protocol is ListenerProtocol.HTTPS


@pytest.mark.parametrize("traffic,field", [
    ({"style": "canary", "percentage": 0, "interval_minutes": 5}, "percentage"),
    ({"style": "canary", "percentage": 100, "interval_minutes": 5}, "percentage"),
    ({"style": "linear", "percentage": 10, "interval_minutes": 0}, "interval_minutes"),
    ({"style": "linear", "percentage": 10, "interval_minutes": 2881}, "interval_minutes"),
    ({"style": "blue-ish"}, "style"),
])
def test_traffic_values_outside_codedeploy_ranges(raw, traffic, field):
    raw["domains"]["auth"]["traffic"] = traffic
    assert error_for(raw).field == f"domains.auth.traffic.{field}"


def test_more_than_ten_alarms(raw):
    raw["domains"]["payment"]["alarms"]["custom"] = [
        {"name": f"metric-{i}", "namespace": "Payments", "metric": f"M{i}", "threshold": 1} for i in range(8)]
    error = error_for(raw)
    assert "10 alarms per deployment group" in error.problem


def test_websocket_check_on_http_domain(raw):
    raw["domains"]["auth"]["smoke_checks"] = [{"name": "ws", "kind": "websocket", "path": "/ws"}]
    assert error_for(raw).field == "domains.auth.smoke_checks[0].kind"


def test_errors_change_nothing(raw):
    import copy

    before = copy.deepcopy(raw)
    raw["domains"]["auth"]["port"] = 0
    with pytest.raises(ConfigError):
        parse_config(raw, source="x")
    raw["domains"]["auth"]["port"] = before["domains"]["auth"]["port"]
    assert raw == before


def test_every_domain_needs_a_smoke_check(raw):
    raw["domains"]["auth"]["smoke_checks"] = []
    error = error_for(raw)
    assert error.field == "domains.auth.smoke_checks" and "without any test-traffic check" in error.problem


@pytest.mark.parametrize("check", [
    {"name": "space", "path": "/a b"},
    {"name": "crlf", "path": "/", "headers": {"X-A": "1\r\nX-B: 2"}},
    {"name": "owned header", "path": "/", "headers": {"Content-Length": "5"}},
])
def test_smoke_checks_the_hook_would_reject_fail_at_synth(raw, check):
    raw["domains"]["auth"]["smoke_checks"] = [check]
    assert error_for(raw).field == "domains.auth.smoke_checks[0]"


def test_websocket_checks_must_expect_the_upgrade(raw):
    raw["domains"]["voice"]["smoke_checks"] = [{"name": "ws", "kind": "websocket", "path": "/s", "expect_status": 200}]
    assert error_for(raw).field == "domains.voice.smoke_checks[0]"


def test_client_ranges_lower_domains_per_load_balancer(raw):
    """Each client CIDR adds an inbound rule per domain to the ALB security group (60 rules by default)."""
    raw["platform"]["client_cidrs"] = ["10.60.0.0/16", "10.61.0.0/16"]
    _add_domains(raw, 20)
    config = parse_config(raw, source="x")
    internal = [d for d in config.domains if d.alb_group == "internal"]
    assert sum(1 for d in internal if d.shard == 0) == 60 // 4
    assert config.shards("internal") == 2


def test_smoke_checks_must_fit_the_published_metadata(raw):
    raw["domains"]["auth"]["smoke_checks"] = [
        {"name": f"check-{i}", "method": "POST", "path": "/v1/x", "body": "x" * 300} for i in range(5)]
    error = error_for(raw)
    assert error.field == "domains.auth.smoke_checks" and "4 KB" in error.problem


def test_api_gateway_logging_defaults_off_and_accepts_only_known_modes(raw):
    from bluegreen.config.model import ApiGatewayLogging

    assert parse_config(raw, source="platform.yaml").platform.api_gateway_logging is ApiGatewayLogging.OFF
    raw["platform"]["api_gateway_logging"] = "account-role-exists"
    assert parse_config(raw, source="p").platform.api_gateway_logging is ApiGatewayLogging.ACCOUNT_ROLE_EXISTS
    raw["platform"]["api_gateway_logging"] = "on"
    error = error_for(raw)
    assert error.field == "platform.api_gateway_logging" and "create-account-role" in error.fix


def test_test_client_ranges_also_count_against_the_security_group_quota(raw):
    """Prod: VPC + each client range; test: the smoke hook's group + each test range (60 inbound rules)."""
    raw["platform"]["client_cidrs"] = ["10.60.0.0/16"]
    raw["platform"]["test_client_cidrs"] = ["10.70.0.0/16", "10.71.0.0/16"]
    _add_domains(raw, 20)
    config = parse_config(raw, source="x")
    assert config.platform.test_client_cidrs == ("10.70.0.0/16", "10.71.0.0/16")
    internal = [d for d in config.domains if d.alb_group == "internal"]
    assert sum(1 for d in internal if d.shard == 0) == 60 // 5


def test_test_client_ranges_are_cidrs(raw):
    raw["platform"]["test_client_cidrs"] = ["10.70.0.0"]
    assert error_for(raw).field == "platform.test_client_cidrs[0]"


def test_stickiness_must_end_before_blue_is_terminated(raw):
    """order's blue task set lives 6 minutes after the shift: 361 s of stickiness would outlive it."""
    raw["domains"]["order"]["stickiness_seconds"] = 361
    error = error_for(raw)
    assert error.field == "domains.order.stickiness_seconds" and "360" in error.fix
    raw["domains"]["order"]["stickiness_seconds"] = 360
    assert parse_config(raw, source="x").domain("order").sticky_seconds == 360


def test_stickiness_is_derived_from_the_blue_lifetime_and_off_for_all_at_once(raw):
    config = parse_config(raw, source="x")
    assert {d: config.domain(d).sticky_seconds for d in SEED_DOMAINS} == {
        "auth": None, "order": 360, "payment": 360, "voice": 2100}


def test_a_release_longer_than_a_stack_update_can_wait_is_refused(raw):
    """A stack update waits at most 8 x 50 = 400 minutes. Linear 10 % every 30 min: 15 install/test + 45 approval
    + 270 shift + 6 termination wait + 1 deregistration = 337 fits; every 60 min: 15 + 45 + 540 + 6 + 1 = 607
    does not."""
    raw["domains"]["order"]["traffic"] = {"style": "linear", "percentage": 10, "interval_minutes": 30}
    assert parse_config(raw, source="x")
    raw["domains"]["order"]["traffic"] = {"style": "linear", "percentage": 10, "interval_minutes": 60}
    error = error_for(raw)
    assert error.field == "domains.order" and "607 minutes" in error.problem and "400" in error.problem


def test_port_variable_must_match_the_container_port(raw):
    raw["domains"]["auth"]["environment"] = {"PORT": "9000"}
    assert error_for(raw).field == "domains.auth.environment.PORT"
    raw["domains"]["auth"]["environment"] = {"PORT": "8080"}
    assert parse_config(raw, source="x")


def test_additional_certificates_need_an_https_group(raw):
    raw["alb_groups"]["internal"]["additional_certificate_arns"] = [
        "arn:aws:acm:eu-west-1:111122223333:certificate/abc"]
    assert error_for(raw).field == "alb_groups.internal.additional_certificate_arns"


def test_creating_and_reusing_the_oidc_provider_is_contradictory(raw):
    raw["platform"]["github"]["create_oidc_provider"] = True
    assert parse_config(raw, source="x").platform.create_github_oidc_provider is True
    raw["platform"]["github"]["existing_oidc_provider_arn"] = \
        "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
    assert error_for(raw).field == "platform.github.create_oidc_provider"
