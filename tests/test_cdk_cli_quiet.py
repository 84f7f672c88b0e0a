"""The README's `cdk` commands print only their own output, whatever the caller's environment.

jsii prints a Node end-of-life banner (as Python byte strings) when aws-cdk-lib starts its Node runtime, and
the CLI prints a notice when feature flags are unconfigured. `app.py` silences jsii before importing
aws-cdk-lib and `cdk.json` configures every flag, so neither needs the Makefile's environment.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"
NOISE = ("b'!!", "end-of-life", "feature flags are not configured", "unconfigured feature flag")


def clean_env() -> dict[str, str]:
    """The caller's environment without anything that would silence jsii or the CLI for us.

    AWS credentials are dropped too: `list` and `synth` need none, and with credentials present the CLI's own
    AWS SDK prints a Node-version notice on Node 20 that no app setting can reach (README "Requirements")."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("JSII_", "CDK_", "AWS_"))}


def run_cdk(*args: str) -> subprocess.CompletedProcess:
    if not CDK.exists():
        pytest.fail("node_modules/.bin/cdk is missing: run `make setup` (the README's first command does)")
    return subprocess.run([str(CDK), *args], cwd=REPO_ROOT, env=clean_env(), capture_output=True, text=True,
                          timeout=300)


def test_cdk_list_prints_only_the_stacks():
    result = run_cdk("list")
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).split()
    from tests.seed import default_domain_names

    assert lines == ["Bluegreen-Platform", *[f"Bluegreen-Domain-{d}" for d in default_domain_names()],
                     "Bluegreen-DeployAccess"]


def test_cdk_synth_of_an_example_prints_no_banner_or_flag_notice(tmp_path):
    result = run_cdk("synth", "-c", "config=config/examples/minimal.yaml", "-o", str(tmp_path / "out"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not [noise for noise in NOISE if noise in output], output
    assert "Successfully synthesized" in output
