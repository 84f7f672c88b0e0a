"""Published SSM metadata stays a Standard parameter (< 4096 bytes) once CloudFormation resolves the tokens.

Sizes are estimated by rendering each parameter's Fn::Join with worst-case-length values (generated
physical names at their service maximum, full ARNs, 12-digit account), see `tests.scale_support.CfnRenderer`.
"""
from __future__ import annotations

import json

import pytest

from bluegreen.limits import SSM_STANDARD_PARAMETER_MAX_BYTES

from tests.scale.checks import by_type
from tests.scale_support import CfnRenderer, ScaleAssembly, resolved_length

HEADROOM_BYTES = 1024  # nothing bounds smoke checks per domain yet: keep room for a few more
LONGEST_DOMAIN_NAME = 12  # loader NAME_RE


def _parameters(assembly: ScaleAssembly) -> dict[str, tuple[int, str]]:
    """'<stack>/<logical id>' -> (resolved bytes, resolved text) for every String parameter of the app."""
    renderer = CfnRenderer(assembly.templates, region=assembly.config.platform.region)
    found = {}
    for stack, template in assembly.templates.items():
        for logical_id, parameter in by_type(template, "AWS::SSM::Parameter").items():
            if parameter["Properties"].get("Type", "String") == "String":
                found[f"{stack}/{logical_id}"] = resolved_length(renderer, stack, parameter["Properties"]["Value"])
    return found


@pytest.mark.synth
def test_every_parameter_fits_the_standard_tier_once_resolved(scale_app: ScaleAssembly) -> None:
    sizes = {name: size for name, (size, _) in _parameters(scale_app).items()}
    assert len(sizes) >= len(scale_app.config.domains)
    too_big = {name: size for name, size in sizes.items() if size >= SSM_STANDARD_PARAMETER_MAX_BYTES}
    assert not too_big, f"SSM Standard parameters hold < {SSM_STANDARD_PARAMETER_MAX_BYTES} bytes: {too_big}"


@pytest.mark.synth
def test_domain_metadata_keeps_headroom(scale_app: ScaleAssembly) -> None:
    domain_stacks = {scale_app.domain_stack_name(d.name) for d in scale_app.config.domains}
    sizes = {name: size for name, (size, _) in _parameters(scale_app).items() if name.split("/")[0] in domain_stacks}
    assert len(sizes) == len(domain_stacks)
    largest = max(sizes, key=sizes.get)
    assert sizes[largest] <= SSM_STANDARD_PARAMETER_MAX_BYTES - HEADROOM_BYTES, \
        f"{largest} resolves to {sizes[largest]} bytes: less than {HEADROOM_BYTES} bytes of headroom left"


@pytest.mark.synth
def test_platform_parameters_fit_with_the_longest_domain_names(scale_100: ScaleAssembly) -> None:
    """Platform-wide parameters that list domains grow with them: project 100 twelve-character names."""
    platform = scale_100.platform_stack_name
    for name, (size, text) in _parameters(scale_100).items():
        if not name.startswith(platform + "/"):
            continue
        listed = [d.name for d in scale_100.config.domains if f'"{d.name}"' in text]
        projected = size + sum(LONGEST_DOMAIN_NAME - len(d) for d in listed)
        assert projected < SSM_STANDARD_PARAMETER_MAX_BYTES, \
            f"{name}: {size} bytes now, {projected} bytes with {len(listed)} " \
            f"{LONGEST_DOMAIN_NAME}-character domain names"


@pytest.mark.synth
def test_resolved_domain_metadata_is_the_domain_json(scale_25: ScaleAssembly) -> None:
    seen = set()
    for name, (_, text) in _parameters(scale_25).items():
        if not text.startswith("{"):
            continue  # a single published value (e.g. /bluegreen/published/vpc-id), not a JSON document
        metadata = json.loads(text)  # the rendered Fn::Join is valid JSON
        if "domain" not in metadata:
            continue
        domain = scale_25.config.domain(metadata["domain"])
        assert name.startswith(scale_25.domain_stack_name(domain.name) + "/")
        assert metadata["endpoint"].endswith(f":{domain.port}")
        assert len(metadata["smokeChecks"]) == len(domain.smoke_checks)
        assert metadata["taskDefinitionArn"].startswith("arn:aws:ecs:")
        seen.add(domain.name)
    assert seen == {d.name for d in scale_25.config.domains}


def test_renderer_uses_worst_case_lengths() -> None:
    templates = {"Stack": {"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "p/d"}},
        "LongNamedRoleWithAVeryLongLogicalIdThatCloudFormationTruncates0123": {"Type": "AWS::IAM::Role"},
    }}}
    renderer = CfnRenderer(templates)
    role = renderer.render("Stack", {"Fn::GetAtt": ["Role", "Arn"]})
    assert role == "arn:aws:iam::123456789012:role/Stack-Role-ABCDEFGHIJKLM"
    long_role = renderer.render("Stack", {"Fn::GetAtt": [
        "LongNamedRoleWithAVeryLongLogicalIdThatCloudFormationTruncates0123", "Arn"]})
    assert len(long_role.split("role/", 1)[1]) == 64  # IAM role names max out at 64
    uri = renderer.render("Stack", {"Fn::Join": ["", [
        {"Fn::Select": [4, {"Fn::Split": [":", {"Fn::GetAtt": ["Repo", "Arn"]}]}]}, ".dkr.ecr.",
        {"Fn::Select": [3, {"Fn::Split": [":", {"Fn::GetAtt": ["Repo", "Arn"]}]}]}, ".", {"Ref": "AWS::URLSuffix"},
        "/", {"Ref": "Repo"}]]})
    assert uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/p/d"
