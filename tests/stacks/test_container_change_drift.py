"""A changed image must start a CodeDeploy deployment and must not touch listeners, target groups or service."""
from __future__ import annotations

import copy
import json

import pytest

from bluegreen.config.default import DEFAULT_CONFIG
from tests.synth_support import resources_of_type, synth_raw

STABLE_TYPES = ["AWS::ElasticLoadBalancingV2::Listener", "AWS::ElasticLoadBalancingV2::TargetGroup",
                "AWS::ECS::Service", "AWS::CodeDeploy::DeploymentGroup", "Custom::ProductionListenerStickiness",
                "Custom::CodeDeployDeploymentWaiter"]


@pytest.fixture(scope="module")
def before_after(tmp_path_factory):
    before = synth_raw(copy.deepcopy(DEFAULT_CONFIG), tmp_path_factory.mktemp("before"))
    changed = copy.deepcopy(DEFAULT_CONFIG)
    changed["domains"]["order"]["image"] = "public.ecr.aws/nginx/nginx:1.28-alpine"
    changed["domains"]["order"]["environment"] = {"FEATURE_X": "on"}
    after = synth_raw(changed, tmp_path_factory.mktemp("after"))
    return before.template("-Domain-order"), after.template("-Domain-order")


@pytest.mark.parametrize("type_name", STABLE_TYPES)
def test_traffic_resources_keep_identical_properties(before_after, type_name):
    before, after = before_after
    assert resources_of_type(before, type_name) == resources_of_type(after, type_name)


def test_task_definition_gets_a_new_revision(before_after):
    before, after = before_after
    (old,) = resources_of_type(before, "AWS::ECS::TaskDefinition").values()
    (new,) = resources_of_type(after, "AWS::ECS::TaskDefinition").values()
    assert old != new
    assert "nginx:1.28-alpine" in json.dumps(new)


def test_the_trigger_releases_the_new_revision_through_codedeploy(before_after):
    """The trigger names the task definition by Ref: CloudFormation updates it because the revision is replaced,
    and the config image it carries changed, so the provider releases that image (docs: deployment flow)."""
    before, after = before_after
    (old,) = resources_of_type(before, "Custom::CodeDeployBlueGreenDeployment").values()
    (new,) = resources_of_type(after, "Custom::CodeDeployBlueGreenDeployment").values()
    (task_def_id,) = resources_of_type(after, "AWS::ECS::TaskDefinition")
    assert new["Properties"]["TaskDefinitionArn"] == {"Ref": task_def_id}
    changed = {k for k in set(old["Properties"]) | set(new["Properties"])
               if old["Properties"].get(k) != new["Properties"].get(k)}
    assert changed == {"ConfigImage"}
    assert new["Properties"]["ConfigImage"] == "public.ecr.aws/nginx/nginx:1.28-alpine"


def test_the_service_only_references_the_family(before_after):
    _, after = before_after
    (service,) = resources_of_type(after, "AWS::ECS::Service").values()
    assert service["Properties"]["TaskDefinition"] == "bluegreen-order"
