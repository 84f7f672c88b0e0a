"""`cdk synth -c config=bad.yaml` runs app.py: one line naming file, field and fix; exit 2; nothing written."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_app(tmp_path: Path, config_path: Path) -> subprocess.CompletedProcess:
    outdir = tmp_path / "cdk.out"
    env = {**os.environ, "CDK_OUTDIR": str(outdir),
           "CDK_CONTEXT_JSON": json.dumps({"config": str(config_path)})}
    return subprocess.run([sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_bad_config_exits_2_with_one_clear_line_and_no_output(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("platform: {name: ok}\nalb_groups: {internal: {}}\ndomains:\n"
                   "  auth: {alb_group: internal, port: 70000, test_port: 9081, image: 'a/b:1'}\n")
    result = run_app(tmp_path, bad)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("config error:")]
    assert len(lines) == 1
    assert str(bad) in lines[0] and "domains.auth.port" in lines[0] and "Fix:" in lines[0]
    assert not (tmp_path / "cdk.out").exists() or not list((tmp_path / "cdk.out").glob("*.template.json"))
