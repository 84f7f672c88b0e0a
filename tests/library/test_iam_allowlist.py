"""Every IAM role and resource policy of the default app holds exactly its reviewed grants
(tests/library/iam_allowlist.py).

A grant the table does not list fails (a new action, a wider resource, a dropped condition all show up as one), and
so does a listed grant no template holds any more (the table must stay the truth). Failures name the stack, the
role and each grant line to review.
"""
from __future__ import annotations

import pytest

from tests.library import iam_allowlist
from tests.library.iam_grants import Grant, resource_policy_grants, role_grants
from tests.synth_support import Synthesized


@pytest.fixture(scope="module")
def roles(default_app: Synthesized) -> dict[tuple[str, str], set[Grant]]:
    return role_grants(default_app)


@pytest.fixture(scope="module")
def resource_policies(default_app: Synthesized) -> dict[tuple[str, str], set[Grant]]:
    return resource_policy_grants(default_app)


def node_id(what: tuple[str, str]) -> str:
    """`Bluegreen-Platform:function-bluegreen-approval-callback`: a test id without spaces or slashes."""
    return f"{what[0]}:{what[1]}".replace(" ", "-")


def _difference(what: tuple[str, str], actual: set[Grant], reviewed: list[Grant]) -> str:
    stack, name = what
    lines = [f"{stack} / {name}: not in the reviewed table (tests/library/iam_allowlist.py): {grant!r}"
             for grant in sorted(actual - set(reviewed))]
    lines += [f"{stack} / {name}: reviewed but no longer granted (remove it from the table): {grant!r}"
              for grant in sorted(set(reviewed) - actual)]
    return "\n".join(lines)


def test_every_role_of_every_stack_is_in_the_reviewed_table(roles):
    unreviewed = sorted(set(roles) - set(iam_allowlist.ROLES))
    gone = sorted(set(iam_allowlist.ROLES) - set(roles))
    assert not unreviewed and not gone, (f"roles without a reviewed allow-list: {unreviewed}; "
                                         f"reviewed roles no template has any more: {gone}")


@pytest.mark.parametrize("role", sorted(iam_allowlist.ROLES), ids=node_id)
def test_role_holds_exactly_its_reviewed_grants(roles, role):
    assert role in roles, f"{role[0]} has no role {role[1]!r} any more"
    assert roles[role] == set(iam_allowlist.ROLES[role]), "\n" + _difference(role, roles[role],
                                                                              iam_allowlist.ROLES[role])


def test_every_resource_policy_is_in_the_reviewed_table(resource_policies):
    unreviewed = sorted(set(resource_policies) - set(iam_allowlist.RESOURCE_POLICIES))
    gone = sorted(set(iam_allowlist.RESOURCE_POLICIES) - set(resource_policies))
    assert not unreviewed and not gone, (f"resource policies without a reviewed allow-list: {unreviewed}; "
                                         f"reviewed policies no template has any more: {gone}")


@pytest.mark.parametrize("resource", sorted(iam_allowlist.RESOURCE_POLICIES), ids=node_id)
def test_resource_policy_holds_exactly_its_reviewed_grants(resource_policies, resource):
    assert resource in resource_policies, f"{resource[0]} has no resource policy on {resource[1]!r} any more"
    reviewed = iam_allowlist.RESOURCE_POLICIES[resource]
    assert resource_policies[resource] == set(reviewed), "\n" + _difference(resource, resource_policies[resource],
                                                                             reviewed)


@pytest.mark.parametrize("table", ["ROLES", "RESOURCE_POLICIES"])
def test_the_table_lists_each_grant_once(table):
    """Duplicates would hide in a set; the table is read line by line, so each grant appears once."""
    for what, grants in getattr(iam_allowlist, table).items():
        assert len(grants) == len(set(grants)), (what, [g for g in grants if grants.count(g) > 1])
