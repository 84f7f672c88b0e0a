"""bgctl stays a light pipeline tool: stdlib + boto3/botocore + bgruntime only, and `--help` loads no AWS SDK
(and never aws_cdk). Asserted on the modules actually imported, not on timings."""
from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cli" / "bgctl"
FORBIDDEN_AT_HELP = ("aws_cdk", "jsii", "constructs", "cdk_nag", "boto3", "botocore", "s3transfer", "urllib3",
                     "moto", "yaml", "bluegreen")
ALLOWED_ROOTS = set(sys.stdlib_module_names) | {"boto3", "botocore", "bgruntime", "bgctl"}


def _imported_modules(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "bgctl.main", *args], capture_output=True,
                         text=True, timeout=60, cwd=ROOT)
    modules = set()
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":
                modules.add(name)
    return run, modules


@pytest.mark.parametrize("args", [("--help",), ("deploy", "--help"), ("watch", "--help"), ("--version",)])
def test_help_imports_no_aws_sdk_and_no_cdk(args: tuple[str, ...]) -> None:
    run, modules = _imported_modules(*args)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "bgctl" in run.stdout
    assert {"bgctl", "bgctl.errors"} <= modules  # bgctl.main itself runs as __main__
    heavy = sorted(m for m in modules if m.split(".")[0] in FORBIDDEN_AT_HELP)
    assert heavy == [], f"`bgctl {' '.join(args)}` imported {heavy}"


def test_a_command_imports_boto3_but_never_aws_cdk() -> None:
    # `describe` with no region configured fails after importing boto3: still no CDK anywhere.
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "bgctl.main", "describe", "auth"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env={"PATH": "/usr/bin:/bin", "AWS_CONFIG_FILE": "/nonexistent",
                              "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"})
    names = {line.rsplit("|", 1)[1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert "boto3" in names
    assert not [n for n in names if n.split(".")[0] in ("aws_cdk", "jsii", "constructs", "cdk_nag")]
    assert run.returncode == 7
    assert run.stderr.splitlines()[-1] == ("bgctl: error: no AWS region configured: set AWS_REGION (or "
                                           "AWS_DEFAULT_REGION) or pass --region")


def _imports(tree: ast.AST) -> list[tuple[str, int, bool]]:
    """(root module, line, at module level) for every absolute import."""
    found = []
    top_level = {id(node) for node in getattr(tree, "body", [])}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node.lineno, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], node.lineno, id(node) in top_level))
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_sources_import_only_stdlib_boto3_and_bgruntime(path: Path) -> None:
    for root, line, top in _imports(ast.parse(path.read_text(), filename=str(path))):
        assert root in ALLOWED_ROOTS, f"{path.name}:{line} imports {root}"
        if top:
            assert root not in ("boto3", "botocore"), f"{path.name}:{line}: import {root} lazily inside the command"


def test_package_installs_without_cdk() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert all(not dep.lower().startswith(("aws-cdk", "constructs", "cdk-nag")) for dep in project["dependencies"])
    assert project["scripts"]["bgctl"] == "bgctl.main:main"


def test_console_script_and_module_entry_points() -> None:
    script = Path(sys.executable).parent / "bgctl"
    for command in ([str(script), "--version"], [sys.executable, "-m", "bgctl", "--version"]):
        run = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and run.stdout.startswith("bgctl "), run.stderr
