"""The scenario suite: each config change of tests/change_safety/scenarios.py, synthesized twice and classified.

Asserts the `before` column (the verdict the current constructs get). The `after` column is recorded for the
day-2 construct work; switch `EXPECTED` to "after" when it lands. Each base config is synthesized once per
test worker; each scenario adds one synthesis (no cdk-nag).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from bgctl.change_safety.assembly import Assembly, read_assembly
from bgctl.change_safety.classify import compare
from tests.change_safety.scenarios import (BASES, CODEDEPLOY, DANGEROUS, SAFE, SCENARIOS, Scenario, changed_config,
                                           synthesize)

EXPECTED = "after"  # the day-2 constructs landed; "before" is the verdict the previous templates got

pytestmark = pytest.mark.synth


@pytest.fixture(scope="session")
def base_assembly(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Assembly]:
    cache: dict[str, Assembly] = {}

    def get(name: str) -> Assembly:
        if name not in cache:
            cache[name] = read_assembly(synthesize(BASES[name](), tmp_path_factory.mktemp(f"base-{name}")))
        return cache[name]
    return get


def test_the_table_covers_the_required_scenarios() -> None:
    ids = [s.id for s in SCENARIOS]
    assert len(ids) == len(set(ids)) >= 24
    required = {"image", "env-var", "cpu-memory", "desired-count", "traffic-all-at-once-to-canary",
                "traffic-canary-to-linear", "stickiness", "production-port", "test-port", "container-port",
                "health-check-path", "drain-http", "max-session", "alarm-thresholds", "custom-alarm", "flag-added",
                "flag-targeting", "tls-certificate", "approval-off", "approval-on", "approvers", "approval-expiry",
                "add-domain", "remove-domain", "move-alb-group", "new-shard", "notification-channel", "client-cidrs",
                "alb-idle-timeout", "vpc-cidr", "platform-name", "cdk-flag-flip"}
    assert required <= set(ids)
    for scenario in SCENARIOS:
        assert {scenario.before, scenario.after} <= {SAFE, CODEDEPLOY, DANGEROUS}, scenario.id
        assert bool(scenario.reason) == (scenario.before == DANGEROUS), scenario.id


def test_the_truly_dangerous_stay_dangerous_after_the_day_2_work() -> None:
    after = {s.id: s.after for s in SCENARIOS}
    for scenario_id in ("container-port", "production-port", "test-port", "move-alb-group", "vpc-cidr",
                        "platform-name", "remove-domain", "tls-certificate"):
        assert after[scenario_id] == DANGEROUS, scenario_id
    for scenario_id in ("traffic-all-at-once-to-canary", "stickiness", "image", "desired-count", "flag-added"):
        assert after[scenario_id] != DANGEROUS, scenario_id


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario_verdict(scenario: Scenario, base_assembly: Callable[[str], Assembly], tmp_path: Path) -> None:
    new = read_assembly(synthesize(changed_config(scenario), tmp_path / "new", scenario.context))
    report = compare(base_assembly(scenario.base), new)
    expected = getattr(scenario, EXPECTED)
    changes = [(s.stack, c) for s in report.stacks for c in s.changes]
    assert changes, f"{scenario.id}: the change produced no template change"
    assert report.verdict.label == expected, [(stack, c.logical_id, c.verdict.label, c.reason[:160])
                                              for stack, c in changes if c.verdict.label != SAFE]
    if expected == DANGEROUS and EXPECTED == "before":
        reasons = [c.reason for _, c in changes if c.verdict.label == DANGEROUS]
        assert any(scenario.reason in reason for reason in reasons), reasons
    for type_name, kind in scenario.shows:
        assert any(c.type == type_name and c.change == kind for _, c in changes), (type_name, kind)
