"""Synthesize one generated config in this (fresh) process and print its figures as JSON.

    .venv/bin/python bench/_synth_one.py N OUTDIR [--nag] [--validation]

Used by bench/synth_scale.py, which runs it in a subprocess to measure wall time and memory.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

started = time.perf_counter()
for _key, _value in {"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
                     "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20,22",
                     "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1"}.items():
    os.environ.setdefault(_key, _value)  # before the jsii kernel starts
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    n, outdir = int(sys.argv[1]), Path(sys.argv[2])
    nag, validation = "--nag" in sys.argv, "--validation" in sys.argv
    import aws_cdk as cdk  # noqa: F401 - timed: loads the jsii assemblies and starts the node kernel

    from stacks.app_builder import build_app
    from tests.scale_support import generated_config, read_templates
    from tests.synth_support import cdk_json_context

    imported = time.perf_counter()
    config = generated_config(n)
    app = cdk.App(outdir=str(outdir), context=cdk_json_context(), builtin_cloud_formation_validation=validation)
    build_app(config, app=app, nag=nag)
    built = time.perf_counter()
    app.synth()
    synthesized = time.perf_counter()
    templates = read_templates(outdir)
    read = time.perf_counter()
    platform = f"{config.platform.name.title().replace('-', '')}-Platform"
    per_stack = sorted(len(t.get("Resources", {})) for t in templates.values())
    domain_counts = sorted(len(t.get("Resources", {})) for name, t in templates.items() if "-Domain-" in name)
    print(json.dumps({
        "n": n, "nag": nag, "validation": validation, "stacks": len(templates),
        "import_s": imported - started, "build_s": built - imported, "synth_s": synthesized - built,
        "read_s": read - synthesized,
        "resources_total": sum(per_stack), "resources_min": per_stack[0], "resources_max": per_stack[-1],
        "resources_median": statistics.median(per_stack),
        "platform_resources": len(templates[platform]["Resources"]),
        "domain_resources_median": statistics.median(domain_counts) if domain_counts else 0,
        "domain_resources_max": domain_counts[-1] if domain_counts else 0,
        "shared_stacks": {name: len(t.get("Resources", {})) for name, t in templates.items() if "-Domain-" not in name},
        "platform_outputs": len(templates[platform].get("Outputs", {})),
        "load_balancers": sum(1 for r in templates[platform]["Resources"].values()
                              if r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"),
        "assembly_bytes": sum(p.stat().st_size for p in outdir.rglob("*") if p.is_file()),
    }))


if __name__ == "__main__":
    main()
