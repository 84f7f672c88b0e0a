"""Config validation at the documented limits (docs/configuration.md, README): each boundary is probed on both
sides with literal numbers from the AWS limit or the documented rule, never with a value the loader computes."""
from __future__ import annotations

import copy

import pytest

from bluegreen.config.default import DEFAULT_CONFIG
from bluegreen.config.errors import ConfigError
from bluegreen.config.loader import parse_config, parse_domain_spec
from bluegreen.release_timing import waiting_resources, worst_case_release_minutes


@pytest.fixture
def raw() -> dict:
    return copy.deepcopy(DEFAULT_CONFIG)


def refused(raw: dict) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source="platform.yaml")
    return info.value


def custom_alarms(count: int) -> list[dict]:
    return [{"name": f"metric-{i}", "namespace": "Shop", "metric": f"M{i}", "threshold": 1} for i in range(count)]


# CodeDeploy: at most 10 alarms per deployment group. The platform adds 4 built-in ones (5xx rate, p99 latency,
# unhealthy hosts, the load balancer's 5xx rate); `existing` alarms count like custom ones.
@pytest.mark.parametrize(("custom", "existing"), [(6, 0), (0, 6), (3, 3)])
def test_ten_alarms_including_existing_ones_are_accepted(raw, custom, existing):
    raw["domains"]["auth"]["alarms"] = {"custom": custom_alarms(custom),
                                        "existing": [f"legacy-alarm-{i}" for i in range(existing)]}
    alarms = parse_config(raw, source="platform.yaml").domain("auth").alarms
    assert (len(alarms.custom), len(alarms.existing_alarm_names)) == (custom, existing)


@pytest.mark.parametrize(("custom", "existing"), [(7, 0), (0, 7), (3, 4), (4, 3)])
def test_an_eleventh_alarm_is_refused_existing_ones_included(raw, custom, existing):
    raw["domains"]["auth"]["alarms"] = {"custom": custom_alarms(custom),
                                        "existing": [f"legacy-alarm-{i}" for i in range(existing)]}
    error = refused(raw)
    assert error.field == "domains.auth.alarms.custom"
    assert error.problem.startswith("11 alarms (4 built-in + 7 custom and existing) exceed CodeDeploy's 10 alarms")


@pytest.mark.parametrize("tag", ["latest", "stable", "main", "master", "edge", "nightly"])
def test_mutable_image_tags_are_refused(raw, tag):
    raw["domains"]["auth"]["image"] = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/auth:{tag}"
    error = refused(raw)
    assert error.field == "domains.auth.image" and f"mutable tag {tag!r}" in error.problem


def test_immutable_tags_and_digests_are_accepted(raw):
    raw["domains"]["auth"]["image"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/auth:3f9c2e1"
    raw["domains"]["order"]["image"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/order@sha256:" + "a" * 64
    assert parse_config(raw, source="platform.yaml")


@pytest.mark.parametrize(("percent", "ok"), [(0.1, True), (0.09, False), (0.0, False), (100, True), (100.5, False)])
def test_error_rate_is_at_least_a_tenth_of_a_percent(raw, percent, ok):
    raw["domains"]["auth"]["alarms"] = {"error_rate_percent": percent}
    if ok:
        assert parse_config(raw, source="platform.yaml").domain("auth").alarms.error_rate_percent == percent
    else:
        assert refused(raw).field == "domains.auth.alarms.error_rate_percent"


@pytest.mark.parametrize(("delay", "ok"), [(1800, True), (1799, False), (900, False)])
def test_websocket_drain_lasts_at_least_the_longest_session(raw, delay, ok):
    """voice: max_session_seconds 1800."""
    raw["domains"]["voice"]["drain"] = {"deregistration_delay_seconds": delay}
    if ok:
        assert parse_config(raw, source="platform.yaml").domain("voice").drain.deregistration_delay_seconds == delay
    else:
        assert refused(raw).field == "domains.voice.drain.deregistration_delay_seconds"


def test_the_voice_release_takes_150_minutes_and_three_waiting_resources(raw):
    """README: 15 install/test + 45 approval + 15 canary + 35 termination wait + 40 deregistration = 150 min."""
    voice = parse_config(raw, source="platform.yaml").domain("voice")
    assert (worst_case_release_minutes(voice), waiting_resources(voice)) == (150, 3)


@pytest.mark.parametrize(("termination_wait", "ok"), [(384, True), (385, False)])
def test_a_release_may_take_at_most_400_minutes(raw, termination_wait, ok):
    """auth: 15 install/test + no approval + all at once + termination wait + 1 minute deregistration (60 s)."""
    raw["domains"]["auth"]["drain"] = {"termination_wait_minutes": termination_wait}
    if ok:
        assert worst_case_release_minutes(parse_config(raw, source="platform.yaml").domain("auth")) == 400
    else:
        error = refused(raw)
        assert error.field == "domains.auth"
        assert "401 minutes" in error.problem and "400 minutes a stack update waits" in error.problem


def test_a_domain_built_elsewhere_cannot_use_its_production_port_for_test_traffic(raw):
    """parse_domain_spec (a domain team's app) has no platform-wide port check: the domain's own check holds."""
    groups = parse_config(copy.deepcopy(raw), source="platform.yaml").alb_groups
    shop = copy.deepcopy(raw["domains"]["auth"])
    shop["test_port"] = shop["port"]
    with pytest.raises(ConfigError) as info:
        parse_domain_spec("shop", shop, alb_groups=groups)
    assert info.value.field == "domains.shop.test_port" and "equals port" in info.value.problem
