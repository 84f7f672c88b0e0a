"""Appending a 101st domain adds a fifth load balancer and changes nothing that already runs."""
from __future__ import annotations

import pytest

from tests.scale.checks import LOAD_BALANCER, by_type, domains_by_load_balancer
from tests.scale_support import GROUP, ScaleAssembly, generated_config

# Platform resources that list every load balancer or domain and so legitimately grow by one entry:
# the access-log bucket policy (a log prefix per load balancer) and the platform metadata parameter.
AGGREGATES = {"AWS::S3::BucketPolicy", "AWS::SSM::Parameter"}


def test_appending_a_domain_moves_no_domain() -> None:
    before = {d.name: d for d in generated_config(100).domains}
    after = {d.name: d for d in generated_config(101).domains}
    moved = [(name, (d.shard, d.port, d.test_port), (after[name].shard, after[name].port, after[name].test_port))
             for name, d in before.items() if (d.shard, d.port, d.test_port) != (after[name].shard, after[name].port,
                                                                                  after[name].test_port)]
    assert not moved, f"(shard, port, test_port) changed: {moved}"
    assert after["d101"].shard == 4
    assert generated_config(101).shards(GROUP) == 5


@pytest.mark.synth
def test_existing_domain_stacks_are_unchanged_by_a_101st_domain(scale_100: ScaleAssembly,
                                                                scale_101: ScaleAssembly) -> None:
    """Byte-identical templates: deploying the new domain never updates a running one (record names,
    listener ports, load balancer imports included)."""
    changed = [d.name for d in scale_100.config.domains
               if scale_100.domain_template(d.name) != scale_101.domain_template(d.name)]
    assert not changed, f"domain stacks that would be updated by appending d101: {changed}"


@pytest.mark.synth
def test_record_names_and_listener_ports_follow_the_domain(scale_101: ScaleAssembly) -> None:
    zone = scale_101.config.platform.hosted_zone.name
    for domain in scale_101.config.domains:
        template = scale_101.domain_template(domain.name)
        records = [r["Properties"]["Name"] for r in by_type(template, "AWS::Route53::RecordSet").values()]
        assert records == [f"{domain.name}.{zone}."]
        listeners = by_type(template, "AWS::ElasticLoadBalancingV2::Listener").values()
        ports = sorted(r["Properties"]["Port"] for r in listeners)
        assert ports == sorted([domain.port, domain.test_port])


@pytest.mark.synth
def test_platform_keeps_every_published_value_and_load_balancer(scale_100: ScaleAssembly,
                                                                scale_101: ScaleAssembly) -> None:
    """Appending d101 only adds to the platform (a fifth load balancer and its published values): no value a
    domain reads changes, and no export exists that could block the platform's update."""
    old, new = scale_100.platform_template, scale_101.platform_template
    assert not [o for o in new.get("Outputs", {}).values() if "Export" in o]
    old_values, new_values = scale_100.published(), scale_101.published()
    changed = {name for name, value in old_values.items()
               if name.startswith("/bluegreen/published/") and new_values.get(name) != value}
    assert not changed, f"published values dropped or changed: {sorted(changed)}"
    assert any(name.startswith("/bluegreen/published/alb/") and "/4/" in name for name in new_values)
    removed = sorted(set(old["Resources"]) - set(new["Resources"]))
    assert not removed, f"platform resources removed by appending a domain: {removed}"
    modified = {lid: resource["Type"] for lid, resource in old["Resources"].items()
                if new["Resources"][lid] != resource}
    unexpected = {lid: kind for lid, kind in modified.items() if kind not in AGGREGATES}
    assert not unexpected, f"platform resources modified by appending a domain: {unexpected}"
    assert len(by_type(new, LOAD_BALANCER)) == 5
    assert sorted(len(d) for d in domains_by_load_balancer(scale_101).values()) == [1, 25, 25, 25, 25]
