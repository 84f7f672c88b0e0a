"""A throwaway CDK app outside the repository imports the library and synthesizes one domain."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

APP = textwrap.dedent('''
    import aws_cdk as cdk
    from bluegreen.config.loader import parse_config
    from stacks_free_app import build

    app = cdk.App(outdir="out")
    build(app)
    app.synth()
''')

BUILD = textwrap.dedent('''
    import aws_cdk as cdk
    from bluegreen.config.loader import parse_config
    from bluegreen.domain_service import DomainService
    from bluegreen.handles import PlatformHandles

    RAW = {"platform": {"name": "elsewhere"}, "alb_groups": {"internal": {}},
           "domains": {"cart": {"alb_group": "internal", "port": 8090, "test_port": 9090,
                                "image": "repo/cart:1.0",
                                "smoke_checks": [{"name": "cart", "path": "/cart"}]}}}

    def build(app):
        config = parse_config(RAW, source="inline")
        stack = cdk.Stack(app, "Elsewhere", env=cdk.Environment(region="eu-west-1"))
        DomainService(stack, "Cart", spec=config.domains[0], platform=PlatformHandles.from_config(config))
''')



def test_library_synthesizes_from_an_unrelated_directory(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "stacks_free_app.py").write_text(BUILD)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    template = json.loads((tmp_path / "out" / "Elsewhere.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::ECS::Service", "AWS::CodeDeploy::DeploymentGroup", "Custom::CodeDeployBlueGreenDeployment"} <= types
    # A domain stack carries no Lambda code of its own: the platform's release provider serves it.
    assets = json.loads((tmp_path / "out" / "Elsewhere.assets.json").read_text())["files"]
    assert [a["source"]["path"] for a in assets.values()] == ["Elsewhere.template.json"]
