"""CDK feature flags are decisions, not defaults: every flag the pinned aws-cdk-lib recommends is set in
cdk.json, to the recommended value or to a value documented with its reason in docs/cdk-feature-flags.md.

The pinned aws-cdk-lib writes its flag report (recommended value, how an unset flag behaves) into every
cloud assembly's manifest; `cdk flags --unstable=flags` reads the same report. A new aws-cdk-lib that adds a
flag therefore fails this test until someone decides it (README "Upgrading aws-cdk-lib").
"""
from __future__ import annotations

import json
import re

from tests.synth_support import REPO_ROOT, cdk_json_context

FLAGS_DOC = REPO_ROOT / "docs" / "cdk-feature-flags.md"
_ROW = re.compile(r"^\|\s*`(@[^`]+)`\s*\|\s*`([^`]+)`\s*\|\s*(.+?)\s*\|\s*$")


def flag_report(outdir) -> dict[str, dict]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    (report,) = [artifact["properties"]["flags"] for artifact in manifest["artifacts"].values()
                 if artifact["type"] == "cdk:feature-flag-report"]
    return report


def kept_on_purpose() -> dict[str, tuple[object, str]]:
    """Flags the docs' table keeps at a non-recommended value: name -> (value, reason)."""
    section = FLAGS_DOC.read_text().split("## Kept at another value on purpose", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = _ROW.match(line)
        if match:
            rows[match.group(1)] = (json.loads(match.group(2)), match.group(3))
    return rows


def test_every_flag_is_configured(default_app):
    """A flag whose unset behaviour differs from the recommendation must be set in cdk.json."""
    context = cdk_json_context()
    unconfigured = sorted(name for name, flag in flag_report(default_app.outdir).items()
                          if name not in context
                          and flag.get("unconfiguredBehavesLike", {}).get("v2") != flag["recommendedValue"])
    assert unconfigured == [], (
        f"aws-cdk-lib recommends flags that cdk.json does not configure: {unconfigured}. Decide each one: set it "
        "in cdk.json to the recommended value (review the template diff), or to another value with a row in "
        "docs/cdk-feature-flags.md 'Kept at another value on purpose' (README 'Upgrading aws-cdk-lib').")


def test_configured_values_are_recommended_or_documented(default_app):
    context = cdk_json_context()
    kept = kept_on_purpose()
    deviations = {}
    for name, flag in flag_report(default_app.outdir).items():
        if name in context and context[name] != flag["recommendedValue"]:
            deviations[name] = context[name]
    assert deviations == {name: value for name, (value, _) in kept.items()}, (
        "cdk.json and docs/cdk-feature-flags.md disagree on which flags deviate from aws-cdk-lib's recommendation")
    for name, (_, reason) in kept.items():
        assert len(reason) > 40, f"{name}: say why it stays at this value"


def test_no_stale_flags_in_cdk_json(default_app):
    """A flag the pinned aws-cdk-lib no longer knows does nothing: remove it rather than leave a false promise."""
    report = flag_report(default_app.outdir)
    stale = sorted(name for name in cdk_json_context()
                   if name.startswith("@aws-cdk") and name not in report)
    assert stale == []


def test_flags_this_project_relies_on_are_on(default_app):
    """The behaviours the issue asked for, pinned by flag name (the templates are checked elsewhere)."""
    context = cdk_json_context()
    for name in ("@aws-cdk/aws-lambda:useCdkManagedLogGroup", "@aws-cdk/aws-apigateway:disableCloudWatchRole",
                 "@aws-cdk/aws-apigateway:requestValidatorUniqueId",
                 "@aws-cdk/aws-codedeploy:removeAlarmsFromDeploymentGroup",
                 "@aws-cdk/aws-dynamodb:retainTableReplica", "@aws-cdk/aws-ecs:removeDefaultDeploymentAlarm",
                 "@aws-cdk/aws-elasticloadbalancingv2:usePostQuantumTlsPolicy"):
        assert context[name] is True, name
