"""Shared custom deployment configs are created once, found again when re-added, and never deleted."""
from __future__ import annotations

import pytest

from fakes import FakeCodeDeploy
from release import resources
from release.outcome import Refused

CONFIG = "Custom::SharedEcsDeploymentConfig"


def event(request: str, style: str = "linear", percentage: str = "20", interval: str = "2") -> dict:
    return {"RequestType": request, "ResourceType": CONFIG, "LogicalResourceId": "Config",
            "PhysicalResourceId": "p-ECSLinear20PercentEvery2Minutes",
            "ResourceProperties": {"Name": "p-ECSLinear20PercentEvery2Minutes", "Style": style,
                                   "Percentage": percentage, "IntervalMinutes": interval}}


def run(evt: dict, codedeploy: FakeCodeDeploy) -> dict:
    return resources.on_event(evt, {"codedeploy": codedeploy}.__getitem__, 0.0)


def test_created_when_absent():
    codedeploy = FakeCodeDeploy()
    result = run(event("Create"), codedeploy)
    assert result == {"PhysicalResourceId": "p-ECSLinear20PercentEvery2Minutes",
                      "Data": {"Action": "created", "DeploymentId": "none", "StartedAt": "0"}}
    (name, request), = [c for c in codedeploy.calls if c[0] == "create_deployment_config"]
    assert request == {"deploymentConfigName": "p-ECSLinear20PercentEvery2Minutes", "computePlatform": "ECS",
                       "trafficRoutingConfig": {"type": "TimeBasedLinear",
                                                "timeBasedLinear": {"linearPercentage": 20, "linearInterval": 2}}}


def test_found_again_when_re_added_instead_of_failing_on_the_name():
    codedeploy = FakeCodeDeploy()
    run(event("Create"), codedeploy)
    result = run(event("Create"), codedeploy)
    assert result["Data"]["Action"] == "found"
    assert [n for n, _ in codedeploy.calls].count("create_deployment_config") == 1


def test_canary_shape():
    codedeploy = FakeCodeDeploy()
    run(event("Create", style="canary", percentage="25", interval="3"), codedeploy)
    (config,) = codedeploy.configs.values()
    assert config["trafficRoutingConfig"] == {"type": "TimeBasedCanary",
                                              "timeBasedCanary": {"canaryPercentage": 25, "canaryInterval": 3}}


def test_a_same_named_config_with_another_shape_is_refused():
    codedeploy = FakeCodeDeploy()
    run(event("Create"), codedeploy)
    with pytest.raises(Refused, match="already exists with another traffic shape"):
        run(event("Create", percentage="25"), codedeploy)


def test_never_deleted_a_domain_may_still_use_it():
    codedeploy = FakeCodeDeploy()
    run(event("Create"), codedeploy)
    result = run(event("Delete"), codedeploy)
    assert result["Data"]["Action"] == "none" and "a domain may still use it" in result["Data"]["Reason"]
    assert "p-ECSLinear20PercentEvery2Minutes" in codedeploy.configs
