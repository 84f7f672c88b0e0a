"""Lint of .github/workflows (actionlint cannot be installed here): a small JSON schema plus the rules that
matter for this repository, and the changed-domain detection script of the deploy workflow."""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_./-]+)?@(?:v\d+\.\d+\.\d+|[0-9a-f]{40})$")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
UNTRUSTED = re.compile(r"\b(github\.event\.|inputs\.|github\.head_ref)")

STEP = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "id": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
                   "uses": {"type": "string"}, "run": {"type": "string"}, "with": {"type": "object"},
                   "env": {"type": "object"}, "if": {"type": ["string", "boolean"]},
                   "shell": {"type": "string"}, "working-directory": {"type": "string"},
                   "continue-on-error": {"type": ["boolean", "string"]}, "timeout-minutes": {"type": "number"}},
    "additionalProperties": False,
    "oneOf": [{"required": ["uses"], "not": {"required": ["run"]}},
              {"required": ["run"], "not": {"required": ["uses"]}}],
}
SCHEMA = {
    "type": "object",
    "required": ["name", "on", "jobs"],
    "properties": {
        "name": {"type": "string"},
        "on": {"type": ["object", "string", "array"]},
        "permissions": {"type": ["object", "string"]},
        "env": {"type": "object"},
        "concurrency": {"type": ["object", "string"]},
        "defaults": {"type": "object"},
        "jobs": {
            "type": "object", "minProperties": 1,
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
            "additionalProperties": {
                "type": "object",
                "required": ["runs-on", "steps"],
                "properties": {
                    "name": {"type": "string"}, "runs-on": {"type": ["string", "array", "object"]},
                    "needs": {"type": ["string", "array"], "items": {"type": "string"}},
                    "if": {"type": ["string", "boolean"]}, "timeout-minutes": {"type": "number"},
                    "outputs": {"type": "object", "additionalProperties": {"type": "string"}},
                    "strategy": {"type": "object"}, "env": {"type": "object"},
                    "permissions": {"type": ["object", "string"]}, "concurrency": {"type": ["object", "string"]},
                    "environment": {"type": ["object", "string"]},
                    "steps": {"type": "array", "minItems": 1, "items": STEP},
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as boolean true
        data["on"] = data.pop(True)
    return data


def strings(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{where}[{index}]")
    elif isinstance(node, str):
        yield where, node


def needs_of(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def steps(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in data["jobs"].items():
        for step in job["steps"]:
            yield job_id, step


def problems(data: dict[str, Any]) -> list[str]:
    """Everything wrong with one parsed workflow (empty when it is fine)."""
    found: list[str] = []
    try:
        jsonschema.validate(data, SCHEMA)
    except jsonschema.ValidationError as error:
        found.append(f"schema: {error.message} at {'/'.join(str(p) for p in error.absolute_path)}")
        return found
    jobs = data["jobs"]
    for job_id, job in jobs.items():
        if not job.get("timeout-minutes"):
            found.append(f"{job_id}: no timeout-minutes")
        step_ids = {s.get("id") for s in job["steps"]}
        for step in job["steps"]:
            if ("uses" in step) == ("run" in step):
                found.append(f"{job_id}: step needs exactly one of uses/run")
            uses = step.get("uses")
            if uses and not uses.startswith("./") and not PINNED.match(uses):
                found.append(f"{job_id}: {uses} is not pinned to vX.Y.Z or a commit SHA")
            for expression in EXPRESSION.findall(step.get("run", "")):
                if UNTRUSTED.search(expression):
                    found.append(f"{job_id}: {expression.strip()} interpolated into a script (use env)")
        for need in needs_of(job):
            if need not in jobs or need == job_id:
                found.append(f"{job_id}: needs unknown job {need}")
        for where, text in strings(job):
            for other, output in re.findall(r"needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", text):
                if other not in needs_of(job):
                    found.append(f"{job_id}{where}: uses needs.{other} without needing it")
                elif output not in jobs.get(other, {}).get("outputs", {}):
                    found.append(f"{job_id}{where}: job {other} has no output {output}")
            for step_id in re.findall(r"steps\.([A-Za-z0-9_-]+)\.", text):
                if step_id not in step_ids:
                    found.append(f"{job_id}{where}: unknown step id {step_id}")
        for name, value in job.get("outputs", {}).items():
            match = re.fullmatch(r"\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}", value)
            if not match or match.group(1) not in step_ids:
                found.append(f"{job_id}.outputs.{name}: must come from a step of the job")
        matrix = (job.get("strategy") or {}).get("matrix")
        if isinstance(matrix, str) or any(isinstance(v, str) and "${{" in v for v in (matrix or {}).values()):
            text = json.dumps(matrix)
            if not re.search(r"fromJSON\(needs\.[A-Za-z0-9_-]+\.outputs\.[A-Za-z0-9_-]+\)", text):
                found.append(f"{job_id}: a computed matrix must be fromJSON(needs.<job>.outputs.<name>)")
    for where, text in strings(data):
        expressions = EXPRESSION.findall(text)
        if not text.count("${{") == text.count("}}") == len(expressions):
            found.append(f"{where}: unbalanced ${{{{ }}}} in {text!r}")
        for expression in expressions:
            if not expression.strip() or expression.count("(") != expression.count(")") or expression.count("'") % 2:
                found.append(f"{where}: malformed expression {expression!r}")
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_workflow_has_no_problems(path: Path) -> None:
    assert problems(load(path)) == []


def test_both_workflows_exist() -> None:
    assert {p.name for p in FILES} >= {"ci.yml", "deploy.yml"}


def _broken(change: str) -> dict[str, Any]:
    data = load(WORKFLOWS / "deploy.yml")
    jobs = data["jobs"]
    if change == "unpinned":
        jobs["deploy"]["steps"][0]["uses"] = "actions/checkout@v5"
    elif change == "both":
        jobs["deploy"]["steps"][0]["run"] = "echo"
    elif change == "no-runs-on":
        del jobs["changes"]["runs-on"]
    elif change == "unknown-need":
        jobs["deploy"]["needs"] = ["detect"]
    elif change == "missing-output":
        del jobs["changes"]["outputs"]
    elif change == "unbalanced":
        jobs["deploy"]["env"]["DOMAIN"] = "${{ matrix.domain }"
    elif change == "inline-input":
        jobs["changes"]["steps"][1]["run"] = "echo ${{ inputs.domains }}"
    elif change == "static-step-id":
        jobs["deploy"]["steps"][-1]["env"]["DEPLOYMENT_ID"] = "${{ steps.nope.outputs.deployment_id }}"
    elif change == "matrix-from-vars":
        jobs["deploy"]["strategy"]["matrix"]["domain"] = "${{ fromJSON(vars.DOMAINS) }}"
    return data


@pytest.mark.parametrize(("change", "message"), [
    ("unpinned", "is not pinned"), ("both", "schema"), ("no-runs-on", "'runs-on' is a required property"),
    ("unknown-need", "needs unknown job detect"), ("missing-output", "has no output domains"),
    ("unbalanced", "unbalanced"), ("inline-input", "interpolated into a script"),
    ("static-step-id", "unknown step id nope"), ("matrix-from-vars", "computed matrix"),
])
def test_the_linter_catches_mistakes(change: str, message: str) -> None:
    found = problems(_broken(change))
    assert any(message in problem for problem in found), found


def _uses(data: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for _job, step in steps(data) if step.get("uses", "").split("@")[0] == action]


def test_ci_runs_the_readme_commands() -> None:
    ci = load(WORKFLOWS / "ci.yml")
    runs = [step["run"].strip() for _job, step in steps(ci) if "run" in step]
    assert runs == ["make synth", "make test"]
    assert _uses(ci, "actions/checkout")
    assert [s["with"]["python-version"] for s in _uses(ci, "actions/setup-python")] == ["3.11"]
    assert [str(s["with"]["node-version"]) for s in _uses(ci, "actions/setup-node")] == ["20"]
    assert ci["permissions"] == {"contents": "read"}


def test_deploy_workflow_shape() -> None:
    deploy = load(WORKFLOWS / "deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"] and "workflow_dispatch" in deploy["on"]
    assert deploy["permissions"] == {"id-token": "write", "contents": "read"}
    jobs = deploy["jobs"]
    changes, job = jobs["changes"], jobs["deploy"]
    # the matrix comes from a previous job's output
    assert job["strategy"]["matrix"]["domain"] == "${{ fromJSON(needs.changes.outputs.domains) }}"
    assert "changes" in needs_of(job) and "domains" in changes["outputs"]
    assert job["strategy"]["fail-fast"] is False
    assert job["concurrency"]["group"] == "deploy-${{ matrix.domain }}"
    assert any(".github/scripts/changed_domains.py" in s.get("run", "") for s in changes["steps"])
    credentials = _uses(deploy, "aws-actions/configure-aws-credentials")
    assert len(credentials) == 1 and credentials[0]["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "aws-access-key-id" not in credentials[0]["with"]  # OIDC only
    assert _uses(deploy, "aws-actions/amazon-ecr-login")
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "pip install" in runs and " ." in runs and "-r requirements" not in runs  # CLI only, no CDK
    assert 'docker build' in runs and 'docker push "$IMAGE"' in runs
    assert any("${repository}:${GITHUB_SHA}" in s.get("run", "") for s in job["steps"])  # immutable tag = git sha
    deploy_step = next(s for s in job["steps"] if "bgctl deploy" in s.get("run", ""))
    assert re.search(r'bgctl deploy "\$DOMAIN" --image "\$IMAGE" .*--wait-until complete', deploy_step["run"])
    names = [s.get("name", "") for s in job["steps"]]
    order = [next(i for i, n in enumerate(names) if key in n) for key in
             ("Install bgctl", "Configure AWS", "Log in to Amazon ECR", "Build and push", "Deploy through CodeDeploy")]
    assert order == sorted(order)


# ----------------------------------------------------------------------------------------------------------
# .github/scripts/changed_domains.py


@pytest.fixture(scope="module")
def detect() -> Any:
    spec = importlib.util.spec_from_file_location("changed_domains", ROOT / ".github" / "scripts" /
                                                  "changed_domains.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_domains_from_paths(detect: Any) -> None:
    paths = ["services/auth/app.py", "services/auth/Dockerfile", "services/order/src/x.py", "docs/cli.md",
             "services/README.md", "services/gone/app.py", "stacks/app.py"]
    assert detect.domains_from_paths(paths, ["auth", "order", "payment"]) == ["auth", "order"]


def test_domains_from_input(detect: Any) -> None:
    assert detect.domains_from_input("all", ["auth", "order"]) == ["auth", "order"]
    assert detect.domains_from_input(" order, auth order ", ["auth", "order"]) == ["auth", "order"]
    with pytest.raises(SystemExit, match="unknown domain"):
        detect.domains_from_input("payment", ["auth", "order"])


def test_detection_on_a_real_git_history(detect: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("config", "user.email", "ci@example.com")
    git("config", "user.name", "ci")
    for domain in ("auth", "order"):
        (tmp_path / "services" / domain).mkdir(parents=True)
        (tmp_path / "services" / domain / "Dockerfile").write_text("FROM scratch\n")
    git("add", ".")
    git("commit", "-qm", "one")
    base = git("rev-parse", "HEAD")
    (tmp_path / "services" / "order" / "app.py").write_text("print('v2')\n")
    git("add", ".")
    git("commit", "-qm", "two")
    head = git("rev-parse", "HEAD")
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert detect.select(tmp_path, input_text="", base=base, head=head) == ["order"]
    assert detect.select(tmp_path, input_text="", base="0" * 40, head=head) == ["auth", "order"]
    assert detect.select(tmp_path, input_text="", base="f" * 40, head=head) == ["auth", "order"]  # unknown base
    assert detect.main(["--root", str(tmp_path), "--base", base, "--head", head]) == 0
    assert output.read_text() == 'domains=["order"]\n'
    assert json.loads(output.read_text().split("=", 1)[1]) == ["order"]
