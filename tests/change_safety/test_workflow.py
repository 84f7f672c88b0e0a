"""The change-safety workflow: triggers, permissions, SHA pinning, the label escape hatch, and the gate's own
steps run with bash against a stand-in `bgctl` for every exit code."""
from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "change-safety.yml"
# Read from each action's repository (git tag -> commit): actions/checkout v7.0.1, setup-python v7.0.0,
# setup-node v7.0.0, upload-artifact v7.0.0.
from tests.cli.test_bgctl_workflows import KNOWN_PINS as PINS  # noqa: E402 - one reviewed list for every workflow
LABEL_EXPRESSION = "${{ contains(github.event.pull_request.labels.*.name, 'accepted-migration') }}"


def load() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load()


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    return job["steps"]


def step(workflow: dict[str, Any], name_part: str) -> dict[str, Any]:
    (found,) = [s for s in steps(workflow) if name_part in s.get("name", "")]
    return found


def test_runs_on_pull_requests_and_label_changes_only(workflow: dict[str, Any]) -> None:
    assert list(workflow["on"]) == ["pull_request"]  # never pull_request_target: no secrets, read-only token
    assert set(workflow["on"]["pull_request"]["types"]) == {"opened", "synchronize", "reopened", "labeled",
                                                            "unlabeled"}


def test_permissions_are_read_only(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}
    assert all(job.get("permissions") == {"contents": "read"} for job in workflow["jobs"].values())
    assert "secrets." not in WORKFLOW.read_text()
    for checkout in [s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout@")]:
        assert checkout["with"]["persist-credentials"] is False


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    uses = [line.strip() for line in WORKFLOW.read_text().splitlines() if line.strip().startswith("uses:")]
    assert len(uses) == 5
    for line in uses:
        match = re.fullmatch(r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)", line)
        assert match, f"not pinned by full SHA with a # vX.Y.Z comment: {line}"
        action, sha, version = match.groups()
        assert PINS[action] == (sha, version), line


def test_two_checkouts_and_a_synth_in_each(workflow: dict[str, Any]) -> None:
    checkouts = [s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout@")]
    assert [c["with"]["path"] for c in checkouts] == ["head", "base"]
    assert "ref" not in checkouts[0]["with"]  # the pull request's merge commit
    assert checkouts[1]["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    synths = [(s["working-directory"], s["run"].strip()) for s in steps(workflow) if "make synth" in s.get("run", "")]
    assert synths == [("base", "make synth"), ("head", "make synth")]
    names = [s.get("name", "") for s in steps(workflow)]
    assert names.index("make synth (base)") < names.index("Classify the changes")
    assert "aws-actions/configure-aws-credentials" not in WORKFLOW.read_text()


def test_the_gate_runs_from_the_projects_pinned_venv(workflow: dict[str, Any]) -> None:
    gate = step(workflow, "Classify the changes")
    assert gate["working-directory"] == "head" and gate["id"] == "gate"
    assert ".venv/bin/bgctl check-changes ../base/cdk.out cdk.out --json > ../change-safety.json" in gate["run"]
    assert '"$GITHUB_STEP_SUMMARY"' in gate["run"] and '"$GITHUB_OUTPUT"' in gate["run"]
    upload = step(workflow, "Upload the JSON report")
    assert upload["if"] == "always()" and upload["with"]["path"] == "change-safety.json"


def test_the_label_is_the_only_escape_hatch(workflow: dict[str, Any]) -> None:
    fail = step(workflow, "Fail on dangerous changes")
    assert fail["if"] == "steps.gate.outputs.exit_code == '20'"
    assert fail["env"] == {"ACCEPTED": LABEL_EXPRESSION}
    assert "${{" not in fail["run"]  # the label reaches the script through env, never interpolated


def _run_step(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # GitHub's default shell for `run` on Linux: bash -e {0}
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env={"PATH": os.environ["PATH"], **env},
                          capture_output=True, text=True, timeout=60)


def _job(workflow: dict[str, Any], tmp_path: Path, gate_exit: int, labelled: bool) -> tuple[bool, str, str]:
    """Run the gate step and (if its condition holds) the fail step; returns (job passed, summary, output)."""
    head, base = tmp_path / "head", tmp_path / "base"
    (head / ".venv" / "bin").mkdir(parents=True)
    (base / "cdk.out").mkdir(parents=True)
    (head / "cdk.out").mkdir()
    fake = head / ".venv" / "bin" / "bgctl"
    fake.write_text(f'#!/bin/bash\necho "report for $*"\nexit {gate_exit}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    output, summary = tmp_path / "output", tmp_path / "summary"
    env = {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    gate = _run_step(step(workflow, "Classify the changes")["run"], head, env)
    if gate.returncode != 0:
        return False, summary.read_text(), gate.stdout
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert (tmp_path / "change-safety.json").read_text().startswith("report for check-changes ../base/cdk.out cdk.out")
    if outputs["exit_code"] != "20":  # `if: steps.gate.outputs.exit_code == '20'`
        return True, summary.read_text(), gate.stdout
    fail = _run_step(step(workflow, "Fail on dangerous changes")["run"], head, {"ACCEPTED": str(labelled).lower()})
    return fail.returncode == 0, summary.read_text(), fail.stdout


@pytest.mark.parametrize("gate_exit, labelled, passes", [
    (0, False, True), (10, False, True), (20, False, False), (20, True, True), (2, True, False), (1, False, False),
])
def test_job_outcome_per_exit_code_and_label(workflow: dict[str, Any], tmp_path: Path, gate_exit: int,
                                             labelled: bool, passes: bool) -> None:
    passed, summary, output = _job(workflow, tmp_path, gate_exit, labelled)
    assert passed is passes
    assert summary.startswith(f"## Change-safety gate (exit {gate_exit})\n\n```text\nreport for check-changes")
    if gate_exit == 20:
        assert ("::warning title=change-safety::dangerous changes accepted" if labelled else
                "::error title=change-safety::dangerous changes") in output
