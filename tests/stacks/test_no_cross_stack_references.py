"""Domain stacks never hold a CloudFormation reference to the platform stack: an import would block the
platform from changing or removing the value (CloudFormation refuses to update an export in use), so domains
read what the platform publishes to SSM at deploy time."""
from __future__ import annotations

import copy
import json

import aws_cdk as cdk
import pytest

from bluegreen.config.default import DEFAULT_CONFIG
from bluegreen.config.loader import parse_config
from stacks.app_builder import build_app
from tests.seed import SEED_DOMAINS, free_port_pair
from tests.synth_support import cdk_json_context


def test_no_template_imports_or_exports(default_app):
    for name, template in default_app.templates.items():
        rendered = json.dumps(template)
        assert "Fn::ImportValue" not in rendered and "Fn::GetStackOutput" not in rendered, name
        assert not [o for o in template.get("Outputs", {}).values() if "Export" in o], name


def test_domain_stacks_deploy_after_the_platform_by_order_only(default_app):
    platform = default_app.built.platform
    for stack in default_app.built.domains.values():
        assert platform in stack.dependencies


def _templates(raw: dict, outdir) -> dict[str, dict]:
    app = cdk.App(outdir=str(outdir), context=cdk_json_context())
    build_app(parse_config(raw, source="test"), app=app, nag=False)
    return {s.stack_name: s.template for s in app.synth().stacks}


@pytest.fixture(scope="module")
def platform_changes(tmp_path_factory):
    """The platform gains a shared deployment config and a new flag-rollout shape, and changes its timeline
    channel and the realtime group's idle timeout: none of it may touch a domain stack."""
    raw = copy.deepcopy(DEFAULT_CONFIG)
    before = _templates(raw, tmp_path_factory.mktemp("platform-before"))
    raw["platform"]["slack"]["notification_channel"] = "C0NEWCHANNEL"
    raw["alb_groups"]["realtime"]["idle_timeout_seconds"] = 2000
    raw["domains"]["newcomer"] = copy.deepcopy(raw["domains"]["order"])
    port, test_port = free_port_pair(raw, "internal")
    raw["domains"]["newcomer"].update(port=port, test_port=test_port,
                                      traffic={"style": "canary", "percentage": 30, "interval_minutes": 4})
    raw["feature_flags"]["newcomer"] = {"rollout": {"growth_type": "LINEAR", "duration_minutes": 6,
                                                    "growth_factor": 50, "final_bake_minutes": 3},
                                        "flags": [{"key": "x", "description": "a new flag", "default": False}]}
    after = _templates(raw, tmp_path_factory.mktemp("platform-after"))
    return before, after


def test_platform_changes_leave_every_existing_domain_template_identical(platform_changes):
    before, after = platform_changes
    assert before["Bluegreen-Platform"] != after["Bluegreen-Platform"]
    for domain in (name for name in before if name.startswith("Bluegreen-Domain-")):
        assert before[domain] == after[domain], domain
    assert "Bluegreen-Domain-newcomer" in after
