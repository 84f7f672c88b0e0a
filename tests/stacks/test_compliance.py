"""cdk-nag (run during synth as CDK validation plugins) and cfn-lint on every synthesized template."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.synth_support import Synthesized, synth
from bluegreen.config.loader import load_config

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO_ROOT / "config" / "examples").glob("*.yaml"))


@pytest.fixture(scope="module", params=[None, *EXAMPLES], ids=["default", *[e.stem for e in EXAMPLES]])
def synthesized(request, tmp_path_factory) -> Synthesized:
    # Synthesis itself fails on any unacknowledged cdk-nag finding (the packs are validation plugins).
    if request.param is None:
        return request.getfixturevalue("default_app")
    return synth(load_config(None if request.param is None else str(request.param)),
                 tmp_path_factory.mktemp("compliance"))


def report(synthesized: Synthesized) -> dict:
    return json.loads((synthesized.outdir / "validation-report.json").read_text())


def test_nag_packs_ran_with_zero_unacknowledged_findings(synthesized):
    plugin_reports = report(synthesized)["pluginReports"]
    names = {r["pluginName"] for r in plugin_reports}
    assert "AwsSolutions" in names
    if synthesized.config.uses_tls:
        assert any("HIPAA" in name for name in names)
    for plugin in plugin_reports:
        assert plugin["conclusion"] == "success", plugin["pluginName"]
        assert plugin["violations"] == []


def test_every_acknowledgment_has_a_real_reason(synthesized):
    for plugin in report(synthesized)["pluginReports"]:
        for ack in plugin.get("suppressedViolations", []):
            assert len(ack["reason"]) >= 40, ack["ruleName"]


def test_cfn_lint_reports_no_errors(synthesized):
    from cfnlint.api import ManualArgs, lint_all, lint_file  # noqa: F401

    templates = sorted(synthesized.outdir.glob("*.template.json"))
    assert len(templates) == len(synthesized.templates)
    for path in templates:
        matches = lint_file(path, config=ManualArgs(regions=[synthesized.config.platform.region]))
        errors = [f"{m.rule.id} {m.message} ({m.path})" for m in matches if m.rule.severity == "error"]
        assert errors == [], f"{path.name}: {errors}"
