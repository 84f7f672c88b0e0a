"""The vendored createOnlyProperties: equal to cfn-lint's schemas, covering every type the project synthesizes."""
from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from bgctl.change_safety import refresh_schemas
from bgctl.change_safety.schemas import DATA_FILE, differing_pointers, load, schema_for, schema_type
from bluegreen.config.loader import load_config
from tests.synth_support import REPO_ROOT, cdk_json_context

CONFIGS = [None, *sorted(str(p) for p in (REPO_ROOT / "config" / "examples").glob("*.yaml"))]


def test_vendored_data_equals_what_cfn_lint_says() -> None:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    for type_name, schema in load().types.items():
        upstream = PROVIDER_SCHEMA_MANAGER.get_resource_schema(refresh_schemas.REGION, type_name).schema
        assert list(schema.create_only) == upstream.get("createOnlyProperties", []), type_name
        assert list(schema.conditional_create_only) == upstream.get("conditionalCreateOnlyProperties", []), type_name


def test_the_vendored_file_is_what_refresh_schemas_writes() -> None:
    document = refresh_schemas.build(refresh_schemas.cfn_lint_schema_dir(), refresh_schemas.vendored_types(),
                                     version=refresh_schemas.cfn_lint_version())
    assert DATA_FILE.read_text() == refresh_schemas.render(document)
    assert refresh_schemas.main(["--check"]) == 0
    assert f"cfn-lint {refresh_schemas.cfn_lint_version()}" in load().source


@pytest.mark.parametrize("type_name, pointers", [
    # "Update requires: Replacement" in the CloudFormation reference of each property
    ("AWS::ElasticLoadBalancingV2::Listener", {"/properties/LoadBalancerArn"}),
    ("AWS::ElasticLoadBalancingV2::TargetGroup", {"/properties/Name", "/properties/Port", "/properties/Protocol",
                                                  "/properties/VpcId", "/properties/TargetType"}),
    ("AWS::ECS::Service", {"/properties/ServiceName", "/properties/Cluster"}),
    ("AWS::ECS::TaskDefinition", {"/properties/ContainerDefinitions", "/properties/Cpu", "/properties/Memory",
                                  "/properties/Family"}),
    ("AWS::CodeDeploy::DeploymentGroup", {"/properties/DeploymentGroupName", "/properties/ApplicationName"}),
    ("AWS::EC2::VPC", {"/properties/CidrBlock"}),
])
def test_known_replacement_properties(type_name: str, pointers: set[str]) -> None:
    assert pointers <= set(schema_for(type_name).create_only)


def test_unknown_and_custom_types() -> None:
    assert schema_for("AWS::Example::Thing") is None
    assert schema_type("Custom::CodeDeployBlueGreenDeployment") == "AWS::CloudFormation::CustomResource"
    assert schema_for("Custom::Anything").create_only == ("/properties/ServiceToken",)


def test_differing_pointers() -> None:
    pointers = ["/properties/Port", "/properties/Items/*/Id", "/properties/Nested/Key"]
    old = {"Port": 80, "Items": [{"Id": "a", "Tag": 1}], "Nested": {"Key": "k", "Other": 1}}
    assert differing_pointers(pointers, old, {**old, "Port": 81}) == ["/properties/Port"]
    assert differing_pointers(pointers, old, {**old, "Items": [{"Id": "a", "Tag": 2}]}) == []
    assert differing_pointers(pointers, old, {**old, "Items": [{"Id": "b", "Tag": 1}]}) == ["/properties/Items/*/Id"]
    assert differing_pointers(pointers, old, {**old, "Nested": {"Key": "k", "Other": 2}}) == []
    assert differing_pointers(pointers, old, {k: v for k, v in old.items() if k != "Nested"}) == [
        "/properties/Nested/Key"]
    # a value that reads the same but resolves differently at deploy time (`dynamic_paths`)
    assert differing_pointers(pointers, old, old, dynamic_paths=["Items/0/Id"]) == ["/properties/Items/*/Id"]
    assert differing_pointers(pointers, old, old, dynamic_paths=["Nested"]) == ["/properties/Nested/Key"]
    assert differing_pointers(pointers, old, old, dynamic_paths=["Items/0/Tag"]) == []


def test_refresh_reports_a_type_cfn_lint_does_not_know(capsys: pytest.CaptureFixture[str]) -> None:
    assert refresh_schemas.main(["--check", "--type", "AWS::Example::Thing"]) == 2
    assert capsys.readouterr().err.strip().endswith("for: AWS::Example::Thing")


@pytest.fixture(scope="module")
def synthesized_types(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Resource types of the default app and every example config (synthesized without cdk-nag)."""
    from stacks.app_builder import build_app

    found: set[str] = set()
    for index, config in enumerate(CONFIGS):
        app = cdk.App(outdir=str(tmp_path_factory.mktemp(f"types-{index}")), context=cdk_json_context())
        build_app(load_config(config), app=app, nag=False)
        for stack in app.synth().stacks:
            found.update(resource["Type"] for resource in stack.template["Resources"].values())
    return found


@pytest.mark.synth
def test_every_synthesized_type_is_covered(synthesized_types: set[str]) -> None:
    assert "AWS::ECS::TaskDefinition" in synthesized_types and "Custom::CodeDeployBlueGreenDeployment" in synthesized_types
    missing = sorted(t for t in synthesized_types if schema_for(t) is None)
    assert missing == [], f"run: python -m bgctl.change_safety.refresh_schemas --type {' --type '.join(missing)}"


def test_the_data_file_is_compact_json() -> None:
    text = DATA_FILE.read_text()
    data = json.loads(text)
    assert text.count("\n") == len(data["types"]) + 6  # one line per type
    assert all(name.startswith("AWS::") for name in data["types"])


def test_refresh_adds_the_types_of_an_assembly(tmp_path: Path) -> None:
    from tests.change_safety.gate_support import resource, template, write_assembly

    assembly = write_assembly(tmp_path / "a", {"S": template({"T": resource("AWS::SNS::Topic"),
                                                              "C": resource("Custom::Whatever")})})
    assert refresh_schemas.assembly_types([str(assembly)]) == {"AWS::SNS::Topic", "Custom::Whatever"}
    document = refresh_schemas.build(refresh_schemas.cfn_lint_schema_dir(), {"AWS::SNS::Topic", "Custom::Whatever"},
                                     version="test")
    assert sorted(document["types"]) == ["AWS::CloudFormation::CustomResource", "AWS::SNS::Topic"]
