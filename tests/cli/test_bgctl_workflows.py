"""Lint of .github/workflows (actionlint cannot be installed here): a small JSON schema plus the rules that
matter for this repository, and the changed-domain detection script of the deploy workflow."""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
VERSION_COMMENT = re.compile(r"^\s+# v\d+\.\d+\.\d+$")
# The pins, checked against the actions' own repositories (git tags) when they were chosen; one SHA per action.
KNOWN_PINS = {
    "actions/checkout": ("08c6903cd8c0fde910a37f88322edcfb5dd907a8", "v5.0.0"),
    "actions/setup-python": ("e797f83bcb11b83ae66e0230d6156d7c80228e7c", "v6.0.0"),
    "actions/setup-node": ("a0853c24544627f65ddf259abe73b1d18a591444", "v5.0.0"),
    "aws-actions/configure-aws-credentials": ("00943011d9042930efac3dcd3a170e4273319bc8", "v5.1.0"),
    "aws-actions/amazon-ecr-login": ("062b18b96a7aff071d4dc91bc00c4c1a7945b076", "v2.0.1"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
}
ROLE_ACTION = "aws-actions/configure-aws-credentials"
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
    top = data.get("permissions")
    if not isinstance(top, dict) or "id-token" in top or "write" in top.values():
        found.append(f"workflow permissions must be read-only and grant no id-token (got {top!r})")
    for job_id, job in jobs.items():
        assumes_role = any(step.get("uses", "").split("@")[0] == ROLE_ACTION for step in job["steps"])
        permissions = job.get("permissions")
        if not isinstance(permissions, dict):
            found.append(f"{job_id}: no job-level permissions")
        elif assumes_role != (permissions.get("id-token") == "write"):
            found.append(f"{job_id}: id-token: write must be granted exactly to jobs that assume the AWS role")
        if not job.get("timeout-minutes"):
            found.append(f"{job_id}: no timeout-minutes")
        step_ids = {s.get("id") for s in job["steps"]}
        for step in job["steps"]:
            if ("uses" in step) == ("run" in step):
                found.append(f"{job_id}: step needs exactly one of uses/run")
            uses = step.get("uses")
            if uses and not uses.startswith("./") and not PINNED.match(uses):
                found.append(f"{job_id}: {uses} is not pinned to a full commit SHA")
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


def pin_problems(text: str) -> list[str]:
    """Every `uses:` is `owner/repo@<40-hex sha> # vX.Y.Z`, the SHA of that tag (KNOWN_PINS)."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = USES_LINE.match(line)
        if not match or match["ref"].startswith("./"):
            continue
        action, _, sha = match["ref"].partition("@")
        if not re.fullmatch(r"[0-9a-f]{40}", sha):
            found.append(f"line {number}: {match['ref']} is not pinned to a commit SHA")
        elif not VERSION_COMMENT.match(match["rest"]):
            found.append(f"line {number}: {action} pin has no '# vX.Y.Z' comment")
        elif action not in KNOWN_PINS or KNOWN_PINS[action] != (sha, match["rest"].strip()[2:]):
            found.append(f"line {number}: {action}@{sha} {match['rest'].strip()} is not a reviewed pin")
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_actions_are_pinned_by_sha_with_the_version_in_a_comment(path: Path) -> None:
    text = path.read_text()
    assert pin_problems(text) == []
    assert "@v" not in "".join(line.split("#")[0] for line in text.splitlines() if "uses:" in line)


@pytest.mark.parametrize(("line", "problem"), [
    ("      - uses: actions/checkout@v5.0.0", "not pinned to a commit SHA"),
    ("      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8", "has no '# vX.Y.Z' comment"),
    ("      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v4.0.0", "not a reviewed pin"),
    ("        uses: evil/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0", "not a reviewed pin"),
])
def test_the_pin_check_catches_mistakes(line: str, problem: str) -> None:
    assert any(problem in found for found in pin_problems(line))


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
    elif change == "id-token-everywhere":
        data["permissions"] = {"id-token": "write", "contents": "read"}
    elif change == "id-token-on-changes":
        jobs["changes"]["permissions"]["id-token"] = "write"
    elif change == "no-id-token-on-deploy":
        del jobs["deploy"]["permissions"]["id-token"]
    return data


@pytest.mark.parametrize(("change", "message"), [
    ("unpinned", "is not pinned"), ("both", "schema"), ("no-runs-on", "'runs-on' is a required property"),
    ("unknown-need", "needs unknown job detect"), ("missing-output", "has no output domains"),
    ("unbalanced", "unbalanced"), ("inline-input", "interpolated into a script"),
    ("static-step-id", "unknown step id nope"), ("matrix-from-vars", "computed matrix"),
    ("id-token-everywhere", "workflow permissions must be read-only"),
    ("id-token-on-changes", "changes: id-token: write must be granted exactly"),
    ("no-id-token-on-deploy", "deploy: id-token: write must be granted exactly"),
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
    assert [s["with"]["cache"] for s in _uses(ci, "actions/setup-python")] == ["pip"]
    assert [s["with"]["cache"] for s in _uses(ci, "actions/setup-node")] == ["npm"]
    assert ci["permissions"] == {"contents": "read"}


def test_deploy_workflow_shape() -> None:
    deploy = load(WORKFLOWS / "deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"] and "workflow_dispatch" in deploy["on"]
    assert deploy["on"]["push"]["paths"] == ["services/**"]
    assert deploy["permissions"] == {"contents": "read"}
    jobs = deploy["jobs"]
    changes, job = jobs["changes"], jobs["deploy"]
    assert changes["permissions"] == {"contents": "read"}
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    # one GitHub environment per domain (protection rules per domain; OIDC subject environment:<domain>)
    assert job["environment"] == {"name": "${{ matrix.domain }}", "url": "${{ steps.deploy.outputs.console_url }}"}
    # the matrix comes from a previous job's output
    assert job["strategy"]["matrix"]["domain"] == "${{ fromJSON(needs.changes.outputs.domains) }}"
    assert "changes" in needs_of(job) and "domains" in changes["outputs"]
    assert job["strategy"]["fail-fast"] is False
    assert job["concurrency"]["group"] == "deploy-${{ matrix.domain }}"
    assert any(".github/scripts/changed_domains.py" in s.get("run", "") for s in changes["steps"])
    assert [s["with"] for s in _uses(deploy, "actions/setup-python")] == [
        {"python-version": "3.11", "cache": "pip", "cache-dependency-path": ".github/constraints/bgctl.txt"}]
    credentials = _uses(deploy, "aws-actions/configure-aws-credentials")
    assert all(c["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}" for c in credentials)
    assert all("aws-access-key-id" not in c["with"] for c in credentials)  # OIDC only
    assert _uses(deploy, "aws-actions/amazon-ecr-login")
    names = [s.get("name", "") for s in job["steps"]]
    order = [next(i for i, n in enumerate(names) if key in n) for key in
             ("Install bgctl", "short-lived", "release window", "lasting the whole release", "Log in to Amazon ECR",
              "Build and push", "Deploy through the deploy API")]
    assert order == sorted(order)
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert 'docker build' in runs and 'docker push "$IMAGE"' in runs
    assert '--file "$DIRECTORY/Dockerfile" --tag "$IMAGE" services' in runs
    assert any("${repository}:${GITHUB_SHA}" in s.get("run", "") for s in job["steps"])  # immutable tag = git sha


def test_credentials_outlive_the_release() -> None:
    """First a short session to read the domain's release window, then one sized to it (role max to match)."""
    job = load(WORKFLOWS / "deploy.yml")["jobs"]["deploy"]
    short, sized = _uses({"jobs": {"deploy": job}}, "aws-actions/configure-aws-credentials")
    assert short["with"]["role-duration-seconds"] == 900
    assert sized["with"]["role-duration-seconds"] == "${{ steps.window.outputs.seconds }}"
    assert sized["with"]["unset-current-credentials"] is True
    window = next(s for s in job["steps"] if s.get("id") == "window")
    assert '"$BGCTL" describe "$DOMAIN" --field releaseWindow.roleDurationSeconds' in window["run"]
    assert window["env"]["ROLE_MAX_SESSION_SECONDS"] == "${{ vars.AWS_DEPLOY_ROLE_MAX_SESSION_SECONDS || '10800' }}"
    deploy_step = next(s for s in job["steps"] if s.get("id") == "deploy")
    assert deploy_step["env"]["TIMEOUT_MINUTES"] == "${{ steps.window.outputs.timeout-minutes }}"
    assert '--timeout "$TIMEOUT_MINUTES"' in deploy_step["run"]
    assert job["timeout-minutes"] * 60 >= 165 * 60  # the default config's longest window (voice) fits the job


def test_deploy_runs_bgctl_from_its_pinned_environment() -> None:
    job = load(WORKFLOWS / "deploy.yml")["jobs"]["deploy"]
    assert job["env"]["BGCTL"] == "${{ github.workspace }}/.bgctl/bin/bgctl"
    install = next(s for s in job["steps"] if s.get("name", "").startswith("Install bgctl"))
    assert install["run"].splitlines()[:2] == [
        "python -m venv .bgctl",
        ".bgctl/bin/python -m pip install --disable-pip-version-check --quiet --constraint "
        ".github/constraints/bgctl.txt ./lambdas/layer ."]
    for step in job["steps"]:
        for line in step.get("run", "").splitlines():
            if re.search(r"\bbgctl (deploy|describe|watch|rollback|status)\b", line) and "::notice" not in line:
                assert '"$BGCTL" ' in line, f"bgctl not run from the pinned environment: {line.strip()}"
    deploy_step = next(s for s in job["steps"] if s.get("id") == "deploy")
    assert re.search(r'"\$BGCTL" deploy "\$DOMAIN" --image "\$IMAGE" --wait-until complete', deploy_step["run"])
    assert "--json >" in deploy_step["run"] and "--progress plain" in deploy_step["run"]


def test_pinned_environment_matches_the_repository_pins() -> None:
    def pins(path: Path) -> dict[str, str]:
        found = {}
        for line in path.read_text().splitlines():
            match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line.strip())
            if match:
                found[match.group(1).lower()] = match.group(2)
        return found

    constraints = pins(ROOT / ".github" / "constraints" / "bgctl.txt")
    requirements = pins(ROOT / "requirements.txt")
    assert constraints["boto3"] == requirements["boto3"] and constraints["botocore"] == requirements["botocore"]
    assert not any(name.startswith(("aws-cdk", "constructs", "cdk-nag")) for name in constraints)


# ----------------------------------------------------------------------------------------------------------
# .github/scripts/changed_domains.py


@pytest.fixture(scope="module")
def detect() -> Any:
    spec = importlib.util.spec_from_file_location("changed_domains", ROOT / ".github" / "scripts" /
                                                  "changed_domains.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


MAP = json.dumps({"shared": ["services/_lib/"], "domains": {
    "auth": {"directory": "services/shared-app"}, "order": {"directory": "services/shared-app"},
    "payment": {"directory": "services/payment-app"}}})


def test_paths_map_to_the_domains_that_build_from_them(detect: Any) -> None:
    service_map = detect.parse_map(MAP, conventional=["voice"])
    assert service_map.directories == {"auth": "services/shared-app", "order": "services/shared-app",
                                       "payment": "services/payment-app", "voice": "services/voice"}
    affected = detect.affected_domains
    assert affected(["services/shared-app/server.py"], service_map) == ["auth", "order"]  # one directory, 2 domains
    assert affected(["services/payment-app/Dockerfile", "docs/cli.md"], service_map) == ["payment"]
    assert affected(["services/voice/app.py"], service_map) == ["voice"]  # convention: services/<domain>/
    assert affected(["services/_lib/websocket.py"], service_map) == ["auth", "order", "payment", "voice"]  # shared
    assert affected(["services/shared-app-old/x.py", "services/README.md", "stacks/app.py"], service_map) == []
    # a move counts on both sides: out of payment's directory into the shared one
    assert affected(["services/payment-app/lib.py", "services/shared-app/lib.py"], service_map) == [
        "auth", "order", "payment"]
    # services/domains.json: only the entries that changed (or were added)
    before = detect.parse_map(MAP)
    after = detect.parse_map(MAP.replace("services/payment-app", "services/shared-app"))
    assert affected(["services/domains.json"], after, before) == ["payment"]


def test_domains_from_input(detect: Any) -> None:
    known = ["auth", "order", "voice"]
    assert detect.domains_from_input("all", known) == known
    assert detect.domains_from_input("all,auth", known) == known
    assert detect.domains_from_input(" order, auth order ", known) == ["auth", "order"]
    with pytest.raises(SystemExit, match="unknown domain"):
        detect.domains_from_input("payment", known)
    with pytest.raises(SystemExit, match="unknown domain"):
        detect.domains_from_input("all,payment", known)


def test_the_repository_deploys_every_default_domain(detect: Any) -> None:
    """A fork with the platform deployed gets a real first release: every default domain has an image to build."""
    from bluegreen.config.default import DEFAULT_CONFIG

    from tests.seed import SEED_DOMAINS

    service_map = detect.load_map(ROOT)
    # Every seed domain has an image to build; a domain added to the config gets one when its team adds its service.
    assert set(SEED_DOMAINS) <= set(service_map.domains) <= set(DEFAULT_CONFIG["domains"])
    for directory in set(service_map.directories.values()):
        assert (ROOT / directory / "Dockerfile").is_file(), directory
    assert detect.main(["--root", str(ROOT), "--directory", "voice"]) == 0
    assert detect.select(ROOT, input_text="all", base="", head="HEAD") == ["auth", "order", "payment", "voice"]


def test_detection_on_a_real_git_history(detect: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()

    def commit(message: str) -> str:
        git("add", "-A")
        git("commit", "-qm", message)
        return git("rev-parse", "HEAD")

    git("init", "-q")
    git("config", "user.email", "ci@example.com")
    git("config", "user.name", "ci")
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "domains.json").write_text(MAP)
    for directory in ("shared-app", "payment-app", "_lib"):
        (tmp_path / "services" / directory).mkdir()
        (tmp_path / "services" / directory / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "services" / "payment-app" / "rules.py").write_text("LIMIT = 100\n" * 20)
    base = commit("one")
    (tmp_path / "services" / "payment-app" / "rules.py").rename(tmp_path / "services" / "shared-app" / "rules.py")
    moved = commit("move a file out of payment-app into shared-app")
    (tmp_path / "services" / "_lib" / "util.py").write_text("X = 1\n")
    shared = commit("shared code")
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert detect.changed_paths(tmp_path, base, moved) == ["services/payment-app/rules.py",
                                                           "services/shared-app/rules.py"]
    assert detect.select(tmp_path, input_text="", base=base, head=moved) == ["auth", "order", "payment"]
    assert detect.select(tmp_path, input_text="", base=moved, head=shared) == ["auth", "order", "payment"]
    assert detect.select(tmp_path, input_text="", base="0" * 40, head=shared) == ["auth", "order", "payment"]
    assert detect.select(tmp_path, input_text="", base="f" * 40, head=shared) == ["auth", "order", "payment"]
    assert detect.main(["--root", str(tmp_path), "--base", base, "--head", moved]) == 0
    assert output.read_text() == 'domains=["auth","order","payment"]\n'
