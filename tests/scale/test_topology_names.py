"""The topology diagram (pure Python, no CDK) names the same load balancers, target groups, services and
records the synthesized templates create, so docs/topology.md cannot drift from the constructs."""
from __future__ import annotations

import pytest

from bluegreen import topology

from tests.scale.checks import LOAD_BALANCER, TARGET_GROUP, by_type
from tests.scale_support import ScaleAssembly

pytestmark = pytest.mark.synth  # every test here reads synthesized generated configs


def test_topology_names_match_synthesized_templates(scale_100: ScaleAssembly) -> None:
    config, platform = scale_100.config, scale_100.config.platform.name
    lb_names = {r["Properties"]["Name"] for r in by_type(scale_100.platform_template, LOAD_BALANCER).values()}
    assert lb_names == {topology.load_balancer_name(platform, group, shard)
                        for group in config.alb_groups for shard in range(config.shards(group))}
    diagram = topology.render_mermaid(config)
    for name in lb_names:
        assert f"ALB {name}<br/>" in diagram
    zone = config.platform.hosted_zone.name
    for spec in config.domains:
        template = scale_100.domain_template(spec.name)
        assert {r["Properties"]["Name"] for r in by_type(template, TARGET_GROUP).values()} == \
            set(topology.target_group_names(platform, spec.name))
        assert [r["Properties"]["Name"] for r in by_type(template, "AWS::Route53::RecordSet").values()] == \
            [topology.record_name(spec.name, zone) + "."]
        assert [r["Properties"]["ServiceName"] for r in by_type(template, "AWS::ECS::Service").values()] == \
            [topology.resource_name(platform, spec.name)]
        applications = by_type(template, "AWS::CodeDeploy::Application").values()
        assert [r["Properties"]["ApplicationName"] for r in applications] == [topology.resource_name(platform, spec.name)]
