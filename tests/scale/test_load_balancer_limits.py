"""Listeners, target groups and security-group rules per load balancer stay inside AWS limits at scale."""
from __future__ import annotations

import math

import pytest

from bluegreen.limits import LISTENERS_PER_ALB, MAX_DOMAINS_PER_ALB, TARGET_GROUPS_PER_ALB

from tests.scale.checks import (
    LOAD_BALANCER, SECURITY_GROUP_RULES_PER_DIRECTION, by_type, domains_by_load_balancer, load_balancer_usage,
    security_group_rules,
)
from tests.scale_support import GROUP, ScaleAssembly

pytestmark = pytest.mark.synth  # every test here reads synthesized generated configs


def test_listeners_per_load_balancer_within_limit(scale_app: ScaleAssembly) -> None:
    usage = load_balancer_usage(scale_app)
    over = {lb: len(use.listeners) for lb, use in usage.items() if len(use.listeners) > LISTENERS_PER_ALB}
    assert not over, f"listeners per load balancer above {LISTENERS_PER_ALB}: {over}"
    # Every listener of the app is counted against some load balancer (none escaped the mapping).
    total = sum(len(by_type(t, "AWS::ElasticLoadBalancingV2::Listener")) for t in scale_app.templates.values())
    assert sum(len(use.listeners) for use in usage.values()) == total == 2 * len(scale_app.config.domains)


def test_target_groups_per_load_balancer_within_limit(scale_app: ScaleAssembly) -> None:
    usage = load_balancer_usage(scale_app)
    over = {lb: len(use.target_groups) for lb, use in usage.items() if len(use.target_groups) > TARGET_GROUPS_PER_ALB}
    assert not over, f"target groups per load balancer above {TARGET_GROUPS_PER_ALB}: {over}"


def test_each_load_balancer_carries_exactly_one_shard(scale_app: ScaleAssembly) -> None:
    """Listeners go to the load balancer of the domain's assigned shard, and shards never share one."""
    shard_of = {d.name: (d.alb_group, d.shard) for d in scale_app.config.domains}
    seen_shards = {}
    for lb, domains in domains_by_load_balancer(scale_app).items():
        if not domains:
            continue
        shards = {shard_of[d] for d in domains}
        assert len(shards) == 1, f"{lb} carries domains of several shards: {sorted(shards)}"
        shard = shards.pop()
        assert shard not in seen_shards, f"shard {shard} is split over {seen_shards[shard]} and {lb}"
        seen_shards[shard] = lb
        assert len(domains) <= MAX_DOMAINS_PER_ALB


def test_hundred_domains_make_four_load_balancers(scale_100: ScaleAssembly) -> None:
    config = scale_100.config
    assert config.shards(GROUP) == math.ceil(100 / MAX_DOMAINS_PER_ALB) == 4
    load_balancers = by_type(scale_100.platform_template, LOAD_BALANCER)
    assert len(load_balancers) == 4
    per_lb = sorted(len(d) for d in domains_by_load_balancer(scale_100).values())
    assert per_lb == [25, 25, 25, 25]
    assert sorted(len(u.listeners) for u in load_balancer_usage(scale_100).values()) == [50, 50, 50, 50]


def test_load_balancer_security_group_rules_within_default_quota(scale_app: ScaleAssembly) -> None:
    """Each domain opens its own ports on its ALB's security group; 25 domains must fit the 60-rule quota."""
    too_many = {}
    for lb, use in load_balancer_usage(scale_app).items():
        for group in use.security_groups:
            inbound, outbound = security_group_rules(scale_app, group)
            if max(inbound, outbound) > SECURITY_GROUP_RULES_PER_DIRECTION:
                too_many[group] = (inbound, outbound)
    assert not too_many, f"(inbound, outbound) rules above {SECURITY_GROUP_RULES_PER_DIRECTION}: {too_many}"
