"""Every template of 1, 25 and 100 generated domains stays inside CloudFormation's per-template limits."""
from __future__ import annotations

import warnings

import pytest

from tests.scale.checks import ResourceBudgetWarning, template_problems
from tests.scale_support import ScaleAssembly


@pytest.mark.synth
def test_every_template_is_inside_cloudformation_limits(scale_app: ScaleAssembly) -> None:
    problems = [p for stack, template in scale_app.templates.items() for p in template_problems(stack, template)]
    assert not problems, "\n".join(problems)


@pytest.mark.synth
def test_one_stack_per_domain_and_a_fixed_set_of_shared_stacks(scale_1: ScaleAssembly,
                                                               scale_100: ScaleAssembly) -> None:
    """Domains scale by adding stacks, never by growing a shared one past its limit."""
    def shared(assembly: ScaleAssembly) -> set[str]:
        domain_stacks = {assembly.domain_stack_name(d.name) for d in assembly.config.domains}
        assert domain_stacks <= set(assembly.templates)
        return set(assembly.templates) - domain_stacks

    assert scale_1.platform_stack_name in shared(scale_1)
    assert shared(scale_1) == shared(scale_100)


@pytest.mark.synth
def test_domain_template_is_independent_of_how_many_domains_exist(scale_1: ScaleAssembly,
                                                                 scale_25: ScaleAssembly,
                                                                 scale_100: ScaleAssembly) -> None:
    """d001..d025 live on shard 0 in every size: their templates are byte-for-byte the same."""
    assert scale_1.domain_template("d001") == scale_100.domain_template("d001")
    differing = [d.name for d in scale_25.config.domains
                 if scale_25.domain_template(d.name) != scale_100.domain_template(d.name)]
    assert not differing, f"these domain templates change when unrelated domains are added: {differing}"


# --- the checker itself notices (so a green run means something) ---------------------------------

def _template(resources: int, outputs: int = 0, parameters: int = 0, mappings: int = 0) -> dict:
    return {"Resources": {f"R{i}": {"Type": "AWS::SNS::Topic"} for i in range(resources)},
            "Outputs": {f"O{i}": {"Value": "x"} for i in range(outputs)},
            "Parameters": {f"P{i}": {"Type": "String"} for i in range(parameters)},
            "Mappings": {f"M{i}": {"k": {"v": "x"}} for i in range(mappings)}}


def test_checker_is_silent_below_400_resources() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceBudgetWarning)
        assert template_problems("Small", _template(399)) == []


@pytest.mark.parametrize("resources", [400, 499])
def test_checker_warns_from_400_resources(resources: int) -> None:
    with pytest.warns(ResourceBudgetWarning, match=f"{resources} resources"):
        assert template_problems("Big", _template(resources)) == []


def test_checker_fails_at_500_resources() -> None:
    problems = template_problems("Huge", _template(500))
    assert len(problems) == 1 and "500 resources" in problems[0]


@pytest.mark.parametrize("section", ["outputs", "parameters", "mappings"])
def test_checker_fails_above_200_outputs_parameters_or_mappings(section: str) -> None:
    assert template_problems("Ok", _template(1, **{section: 200})) == []
    problems = template_problems("TooMany", _template(1, **{section: 201}))
    assert len(problems) == 1 and f"201 {section}" in problems[0]
