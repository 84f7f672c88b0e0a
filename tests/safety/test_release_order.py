"""The release path runs in order: CodeDeploy's group exists before the trigger starts a deployment, each waiter
takes over from the one before it (never in parallel, which would end the stack update early), and the
stickiness of the live action is written only once the deployment group exists."""
from __future__ import annotations

import pytest

from tests.synth_support import resources_of_type

# Waiting resources per domain (trigger + waiters), from the seed's worst-case release: see test_domain_stacks.
CHAIN_LENGTH = {"auth": 1, "order": 2, "payment": 2, "voice": 3}


def _ids(template: dict, type_name: str) -> list[str]:
    return list(resources_of_type(template, type_name))


@pytest.mark.parametrize("domain", sorted(CHAIN_LENGTH))
def test_each_waiter_takes_over_from_the_previous_one(default_app, domain):
    template = default_app.template(f"-Domain-{domain}")
    (group,) = _ids(template, "AWS::CodeDeploy::DeploymentGroup")
    (trigger,) = _ids(template, "Custom::CodeDeployBlueGreenDeployment")
    waiters = sorted(_ids(template, "Custom::CodeDeployDeploymentWaiter"),
                     key=lambda i: int(i.split("Waiter")[1][0]))
    assert 1 + len(waiters) == CHAIN_LENGTH[domain]
    resources = template["Resources"]
    assert group in resources[trigger]["DependsOn"]
    previous = trigger
    for waiter in waiters:
        assert previous in resources[waiter]["DependsOn"], f"{waiter} must wait for {previous}"
        previous = waiter


@pytest.mark.parametrize("domain", sorted(CHAIN_LENGTH))
def test_stickiness_is_written_after_the_deployment_group_exists(default_app, domain):
    template = default_app.template(f"-Domain-{domain}")
    (group,) = _ids(template, "AWS::CodeDeploy::DeploymentGroup")
    (stickiness,) = resources_of_type(template, "Custom::ProductionListenerStickiness").values()
    assert group in stickiness["DependsOn"]
