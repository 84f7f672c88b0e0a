"""`bgctl check-changes` as users and CI run it: exit codes, human and JSON output, bad input, imports."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from bgctl.context import Runtime
from bgctl.main import COMMANDS, main
from tests.change_safety.gate_support import DOMAIN, changed, template, write_assembly

REPO = Path(__file__).resolve().parents[2]
CHANGE = {
    "type": "object", "additionalProperties": False,
    "required": ["logicalId", "type", "change", "properties", "verdict", "reason", "fix"],
    "properties": {
        "logicalId": {"type": "string"}, "type": {"type": "string"},
        "change": {"enum": ["added", "removed", "modified", "replaced"]},
        "properties": {"type": "array", "items": {"type": "string"}},
        "verdict": {"enum": ["safe", "through-codedeploy", "dangerous"]},
        "reason": {"type": "string", "minLength": 1}, "fix": {"type": ["string", "null"]},
    },
}
# The schema documented in docs/change-safety.md ("JSON report").
REPORT_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["schemaVersion", "verdict", "exitCode", "base", "new", "counts", "stacks"],
    "properties": {
        "schemaVersion": {"const": 1},
        "verdict": {"enum": ["safe", "through-codedeploy", "dangerous"]},
        "exitCode": {"enum": [0, 10, 20]},
        "base": {"type": "string"}, "new": {"type": "string"},
        "counts": {"type": "object", "additionalProperties": False,
                   "required": ["safe", "through-codedeploy", "dangerous"],
                   "properties": {k: {"type": "integer", "minimum": 0}
                                  for k in ("safe", "through-codedeploy", "dangerous")}},
        "stacks": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["stack", "status", "verdict", "changes"],
            "properties": {"stack": {"type": "string"}, "status": {"enum": ["added", "removed", "modified"]},
                           "verdict": {"enum": ["safe", "through-codedeploy", "dangerous"]},
                           "changes": {"type": "array", "minItems": 1, "items": CHANGE}}}},
    },
}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["check-changes", *argv], runtime=Runtime(env={}, stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def assemblies(tmp_path: Path) -> dict[str, str]:
    """base, and one new assembly per verdict."""
    base = {"Bluegreen-Domain-order": template(DOMAIN)}
    variants = {
        "same": base,
        "safe": {"Bluegreen-Domain-order": template(changed(DOMAIN, "Service", DesiredCount=4))},
        "codedeploy": {"Bluegreen-Domain-order": template(changed(DOMAIN, "TaskDef", Cpu="1024"))},
        "dangerous": {"Bluegreen-Domain-order": template(changed(DOMAIN, "Prod", Port=8092))},
    }
    paths = {"base": str(write_assembly(tmp_path / "base", base))}
    for name, stacks in variants.items():
        paths[name] = str(write_assembly(tmp_path / name, stacks))
    return paths


@pytest.mark.parametrize("variant, code, verdict", [
    ("same", 0, "SAFE"), ("safe", 0, "SAFE"), ("codedeploy", 10, "THROUGH-CODEDEPLOY"), ("dangerous", 20, "DANGEROUS"),
])
def test_exit_codes_and_summary(assemblies: dict[str, str], variant: str, code: int, verdict: str) -> None:
    exit_code, out, err = run(assemblies["base"], assemblies[variant])
    assert (exit_code, err) == (code, "")
    assert f"verdict: {verdict} (exit {code})" in out


def test_human_lines(assemblies: dict[str, str]) -> None:
    _, out, _ = run(assemblies["base"], assemblies["dangerous"])
    lines = out.splitlines()
    assert lines[0] == "Bluegreen-Domain-order: DANGEROUS (modified, 1 change)"
    assert lines[1].startswith("Bluegreen-Domain-order  Prod (AWS::ElasticLoadBalancingV2::Listener)  DANGEROUS  "
                               "modified: listener update (Port): a listener update re-applies its template "
                               "DefaultActions")
    assert "  -> keep listener properties identical" in lines[1]
    assert lines[-2] == ("verdict: DANGEROUS (exit 20): 1 dangerous, 0 through CodeDeploy, 0 safe change(s) in 1 "
                         "stack(s)")
    assert "accepted-migration" in lines[-1]


def test_no_changes_says_so(assemblies: dict[str, str]) -> None:
    code, out, _ = run(assemblies["base"], assemblies["same"])
    assert code == 0 and out.startswith("no changes: ")


@pytest.mark.parametrize("variant", ["same", "safe", "codedeploy", "dangerous"])
def test_json_report_matches_the_documented_schema(assemblies: dict[str, str], variant: str) -> None:
    code, out, _ = run(assemblies["base"], assemblies[variant], "--json")
    report = json.loads(out)["data"]
    jsonschema.validate(report, REPORT_SCHEMA)
    assert report["exitCode"] == code and report["base"] == assemblies["base"]


def test_json_values(assemblies: dict[str, str]) -> None:
    _, out, _ = run(assemblies["base"], assemblies["codedeploy"], "--json")
    document = json.loads(out)
    assert (document["command"], document["exitCode"], document["outcome"]) == (
        "check-changes", 10, "through_codedeploy")
    report = document["data"]
    assert (report["verdict"], report["counts"]) == ("through-codedeploy",
                                                     {"safe": 0, "through-codedeploy": 2, "dangerous": 0})
    (stack,) = report["stacks"]
    assert [(c["logicalId"], c["change"], c["verdict"], c["properties"]) for c in stack["changes"]] == [
        ("TaskDef", "replaced", "through-codedeploy", ["Cpu"]), ("Trigger", "modified", "through-codedeploy", ["TaskDefinitionArn"])]
    assert stack["changes"][0]["fix"] is None


def test_stack_option(assemblies: dict[str, str], tmp_path: Path) -> None:
    code, out, _ = run(assemblies["base"], assemblies["dangerous"], "--stack", "Bluegreen-Domain-*", "Bluegreen-Domain-order")
    assert code == 20
    code, _, err = run(assemblies["base"], assemblies["dangerous"], "--stack", "Nope")
    assert code == 2 and err.startswith("bgctl: error: --stack Nope: no such stack in either assembly")


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    cases: dict[str, tuple[Path, str]] = {}
    cases["missing"] = (tmp_path / "missing", "no such directory")
    (tmp_path / "empty").mkdir()
    cases["no-manifest"] = (tmp_path / "empty", "not a cloud assembly (no manifest.json)")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    cases["bad-json"] = (broken, "manifest.json: invalid JSON at line 1 column 2")
    no_artifacts = tmp_path / "no-artifacts"
    no_artifacts.mkdir()
    (no_artifacts / "manifest.json").write_text('{"version": "55.0.0"}')
    cases["no-artifacts"] = (no_artifacts, 'not a cloud assembly manifest (no "artifacts" object)')
    missing_template = write_assembly(tmp_path / "missing-template", {"S": template({})})
    (missing_template / "S.template.json").unlink()
    cases["missing-template"] = (missing_template, "S.template.json: file named in the manifest is missing")
    bad_template = write_assembly(tmp_path / "bad-template", {"S": template({})})
    (bad_template / "S.template.json").write_text('{"Resources": []}')
    cases["bad-template"] = (bad_template, "S.template.json: not a CloudFormation template (no Resources object)")
    return cases


@pytest.mark.parametrize("case", ["missing", "no-manifest", "bad-json", "no-artifacts", "missing-template",
                                  "bad-template"])
@pytest.mark.parametrize("side", ["base", "new"])
def test_bad_input_is_one_line_and_exit_2(assemblies: dict[str, str], tmp_path: Path, case: str, side: str) -> None:
    bad, message = _bad_inputs(tmp_path)[case]
    args = (str(bad), assemblies["base"]) if side == "base" else (assemblies["base"], str(bad))
    code, out, err = run(*args)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith(f"bgctl: error: {bad}") and message in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    ([], "bgctl check-changes: the following arguments are required: BASE_ASSEMBLY_DIR, NEW_ASSEMBLY_DIR"),
    (["only-one"], "bgctl check-changes: the following arguments are required: NEW_ASSEMBLY_DIR"),
    (["a", "b", "--bogus"], "bgctl: unrecognized arguments: --bogus"),
])
def test_usage_errors(argv: list[str], message: str) -> None:
    code, _, err = run(*argv)
    assert code == 2 and err.startswith(f"bgctl: error: {message}") and err.count("\n") == 1


def test_nested_assemblies_are_read(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    write_assembly(outer / "assembly-Stage", {"Stage-App": template(DOMAIN)})
    (outer / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {
        "assembly-Stage": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Stage"}}}}))
    new = write_assembly(tmp_path / "flat", {"Stage-App": template(changed(DOMAIN, "Prod", Port=1))})
    code, out, _ = run(str(outer), str(new))
    assert code == 20 and "Stage-App  Prod" in out


def test_registered_as_a_bgctl_command() -> None:
    assert COMMANDS["check-changes"] == "bgctl.change_safety.command"


def test_python_dash_m_runs_without_aws_sdk_or_cdk(assemblies: dict[str, str]) -> None:
    run_ = subprocess.run([sys.executable, "-X", "importtime", "-m", "bgctl.change_safety", assemblies["base"],
                           assemblies["codedeploy"], "--json"], capture_output=True, text=True, timeout=120, cwd=REPO,
                          env={"PATH": "/usr/bin:/bin"})
    assert run_.returncode == 10, run_.stderr[-2000:]
    assert json.loads(run_.stdout)["data"]["verdict"] == "through-codedeploy"
    modules = {line.rsplit("|", 1)[1].strip() for line in run_.stderr.splitlines() if line.startswith("import time:")}
    heavy = sorted(m for m in modules if m.split(".")[0] in ("aws_cdk", "jsii", "constructs", "boto3", "botocore",
                                                             "cfnlint", "yaml", "bluegreen"))
    assert heavy == []


def test_the_package_imports_only_the_standard_library() -> None:
    import ast

    allowed = set(sys.stdlib_module_names) | {"bgctl"}
    for path in sorted((REPO / "cli" / "bgctl" / "change_safety").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            assert set(roots) <= allowed, f"{path.name}:{node.lineno} imports {roots}"


def test_packaged_for_pip_install() -> None:
    import tomllib

    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "bgctl.change_safety" in setuptools["packages"]
    assert "create_only_properties.json" in setuptools["package-data"]["bgctl.change_safety"]
