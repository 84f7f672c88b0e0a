"""cdk-nag (run during synth as CDK validation plugins) and cfn-lint on every synthesized template."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.synth_support import Synthesized, synth
from bluegreen.config.loader import load_config

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO_ROOT / "config" / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def all_synths(default_app, tmp_path_factory) -> dict[str, Synthesized]:
    # Synthesis itself fails on any unacknowledged cdk-nag finding (the packs are validation plugins).
    synths = {"default": default_app}
    for example in EXAMPLES:
        synths[example.stem] = synth(load_config(str(example)), tmp_path_factory.mktemp(f"compliance-{example.stem}"))
    return synths


@pytest.fixture(scope="module", params=["default", *[e.stem for e in EXAMPLES]])
def synthesized(request, all_synths) -> Synthesized:
    return all_synths[request.param]


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


def test_no_context_lookups_so_synth_needs_no_aws_account(synthesized):
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    assert "missing" not in manifest, manifest.get("missing")


def test_acknowledgment_table_in_the_docs_is_current(all_synths):
    """docs/nag-acknowledgments.md must list exactly what the default app and the TLS example acknowledge."""
    from bluegreen.compliance_report import render

    reports = [report(all_synths["default"]), report(all_synths["tls"])]
    committed = (REPO_ROOT / "docs" / "nag-acknowledgments.md").read_text()
    assert committed == render(reports), "docs/nag-acknowledgments.md is stale: run `make nag-docs`"


def test_tls_listeners_use_the_pinned_post_quantum_policy(all_synths):
    """Pinned (never CDK's moving default): a listener property must not change after create. The value is
    the policy `@aws-cdk/aws-elasticloadbalancingv2:usePostQuantumTlsPolicy` selects."""
    listeners = [resource["Properties"] for template in all_synths["tls"].templates.values()
                 for resource in template["Resources"].values()
                 if resource["Type"] == "AWS::ElasticLoadBalancingV2::Listener"]
    assert len(listeners) == 2
    assert {listener["SslPolicy"] for listener in listeners} == {"ELBSecurityPolicy-TLS13-1-2-PQ-2025-09"}
