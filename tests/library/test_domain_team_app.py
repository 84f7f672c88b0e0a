"""The third kind of user: a domain team's own app (examples/domain-team-app) built from the library's wheels in
a fresh virtual environment that does not contain this repository, with cdk-nag; its domain stack must be the
very template the platform's own app builds for the same spec."""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import aws_cdk as cdk
import pytest

from bluegreen.config.default import DEFAULT_CONFIG
from bluegreen.config.loader import parse_config
from stacks.app_builder import build_app
from tests.seed import without_port_clashes
from tests.synth_support import REPO_ROOT, cdk_json_context

EXAMPLE = REPO_ROOT / "examples" / "domain-team-app"
# What goes into the wheels (copied, so building never writes into the working tree).
SOURCES = ("lambdas", "constructs", "cli", "pyproject.toml", "README.md")


def _run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """Wheels built from a copy of the sources, installed into a new venv with only the example's requirements."""
    work = tmp_path_factory.mktemp("domain-team")
    source = work / "source"
    for name in SOURCES:
        origin = REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(origin, source / name)
    wheels = work / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check", "-w",
          str(wheels), "./lambdas/layer", "./constructs"], cwd=source)
    environment = work / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--find-links",
          str(wheels), "-r", str(EXAMPLE / "requirements.txt")], cwd=work, env=_clean_env(), timeout=1200)
    app = work / "app"
    shutil.copytree(EXAMPLE, app)
    return {"python": python, "app": app, "wheels": wheels, "work": work}


def test_the_library_installs_alone_from_its_wheels(installed):
    names = sorted(p.name.split("-")[0] for p in installed["wheels"].glob("*.whl"))
    assert names == ["bgruntime", "bluegreen_constructs"]
    where = _run([str(installed["python"]), "-c", "import bluegreen, bgruntime; print(bluegreen.__file__); "
                  "print(bgruntime.__file__)"], cwd=installed["work"], env=_clean_env())
    for line in where.splitlines():
        assert str(REPO_ROOT) not in line and str(installed["work"] / "venv") in line


@pytest.fixture(scope="module")
def example_template(installed) -> dict:
    out = installed["work"] / "out"
    env = {**_clean_env(), "CDK_OUTDIR": str(out),
           "CDK_CONTEXT_JSON": json.dumps(json.loads((installed["app"] / "cdk.json").read_text())["context"])}
    env.pop("CDK_DEFAULT_ACCOUNT", None)
    _run([str(installed["python"]), "app.py"], cwd=installed["app"], env=env)
    report = json.loads((out / "validation-report.json").read_text())
    assert [r["pluginName"] for r in report["pluginReports"]] == ["AwsSolutions"]
    assert all(r["violations"] == [] for r in report["pluginReports"])  # nag ran and passed
    return json.loads((out / "Bluegreen-Domain-shop.template.json").read_text())


def test_the_example_uses_the_platform_apps_feature_flags():
    example = json.loads((EXAMPLE / "cdk.json").read_text())["context"]
    assert example == cdk_json_context()


def test_the_example_builds_what_the_platform_app_builds_for_the_same_spec(example_template, tmp_path):
    """The platform's app with `shop` added to its config under the same keys builds the identical stack."""
    namespace: dict = {}
    exec(compile((EXAMPLE / "app.py").read_text(), "app.py", "exec"), namespace)  # reads SHOP, runs nothing
    shop = copy.deepcopy(namespace["SHOP"])
    raw = without_port_clashes(copy.deepcopy(DEFAULT_CONFIG), shop["alb_group"], (shop["port"], shop["test_port"]))
    raw["domains"]["shop"] = shop
    app = cdk.App(outdir=str(tmp_path), context=cdk_json_context())
    build_app(parse_config(raw, source="test"), app=app, nag=False)
    platform_built = app.synth().get_stack_by_name("Bluegreen-Domain-shop").template
    assert example_template == platform_built


def test_the_example_keeps_every_gate(example_template):
    (trigger,) = [r for r in example_template["Resources"].values()
                  if r["Type"] == "Custom::CodeDeployBlueGreenDeployment"]
    assert sorted(trigger["Properties"]["Hooks"]) == ["AfterAllowTestTraffic", "BeforeAllowTraffic"]
    types = {r["Type"] for r in example_template["Resources"].values()}
    assert {"AWS::CloudWatch::Alarm", "Custom::ProductionListenerStickiness", "AWS::AppConfig::Deployment",
            "AWS::SSM::Parameter", "Custom::CodeDeployDeploymentWaiter"} <= types
