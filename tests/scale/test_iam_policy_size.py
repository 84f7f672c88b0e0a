"""IAM policy documents stay inside IAM's size quotas once CloudFormation resolves them.

A policy that lists one ARN per domain grows with the platform; CloudFormation then fails the
deployment ("Cannot exceed quota for PolicySize: 6144"), which no synth-time check catches.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.scale.checks import iam_policy_sizes
from tests.scale_support import ScaleAssembly, generated_config


@pytest.mark.synth
def test_iam_policies_fit_iam_quotas(scale_app: ScaleAssembly) -> None:
    over = [f"{name} ({what}): {chars} characters > {quota}"
            for name, what, chars, quota in iam_policy_sizes(scale_app) if chars > quota]
    assert not over, "\n".join(over)


@pytest.mark.synth
def test_no_shared_policy_grows_with_the_number_of_domains(scale_1: ScaleAssembly, scale_100: ScaleAssembly) -> None:
    """Domain stacks are identical whatever n is (test_template_limits); a shared stack's policy that lists
    domains would hit the quota at some n, so shared policies must stay the same size from 1 to 100 domains."""
    def shared(assembly: ScaleAssembly) -> dict[tuple[str, str], int]:
        return {(name, what): chars for name, what, chars, _ in iam_policy_sizes(assembly)
                if "-Domain-" not in name.split("/")[0]}

    small, large = shared(scale_1), shared(scale_100)
    grown = {f"{name} ({what})": (small.get((name, what)), chars) for (name, what), chars in large.items()
             if chars > small.get((name, what), 0) + 64}
    assert not grown, f"shared policies that grow with the number of domains (chars at 1 -> 100 domains): {grown}"


def test_checker_counts_a_policy_that_lists_every_domain() -> None:
    """The size check follows the document CloudFormation will send, so a per-domain list is noticed."""
    statement = {"Effect": "Allow", "Action": "ecs:RegisterTaskDefinition",
                 "Resource": [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ecs:eu-west-1:",
                                                 {"Ref": "AWS::AccountId"}, f":task-definition/bluegreen-d{i:03d}:*"]]}
                              for i in range(100)]}
    template = {"Resources": {"Policy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]}}}}}
    assembly = ScaleAssembly(n=0, config=generated_config(1), outdir=Path("unused"), templates={"S": template},
                             synth_seconds=0)
    (name, what, chars, quota), = iam_policy_sizes(assembly)
    assert what == "managed policy" and chars > quota == 6144
