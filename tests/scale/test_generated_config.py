"""The generated configs are deterministic, valid and as varied as the scale tests claim (no synthesis)."""
from __future__ import annotations

from collections import Counter

from bluegreen.limits import MAX_DOMAINS_PER_ALB

from tests.scale_support import GROUP, expected_shards, generated_config, generated_raw


def test_same_n_same_config() -> None:
    assert generated_raw(100) == generated_raw(100)
    assert generated_config(100) == generated_config(100)


def test_names_ports_and_group() -> None:
    config = generated_config(100)
    assert [d.name for d in config.domains] == [f"d{i:03d}" for i in range(1, 101)]
    ports = [p for d in config.domains for p in (d.port, d.test_port)]
    assert len(ports) == len(set(ports)) == 200
    assert {d.alb_group for d in config.domains} == {GROUP}


def test_mix_of_traffic_styles_hooks_and_alarms() -> None:
    domains = generated_config(100).domains
    assert Counter(d.traffic.style for d in domains).keys() == {"all_at_once", "canary", "linear"}
    assert any(d.traffic.predefined_config_name is None for d in domains)  # custom shared deployment configs
    assert all(d.smoke_checks for d in domains) and max(len(d.smoke_checks) for d in domains) == 3
    assert 0 < sum(d.approval.required for d in domains) < len(domains)
    assert any(d.alarms.custom for d in domains)


def test_shards_fill_twenty_five_at_a_time() -> None:
    for n in (1, 25, 26, 100, 101):
        config = generated_config(n)
        assert config.shards(GROUP) == expected_shards(n, MAX_DOMAINS_PER_ALB)
        assert max(Counter(d.shard for d in config.domains).values()) <= MAX_DOMAINS_PER_ALB
