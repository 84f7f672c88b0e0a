"""Synthesis cost at 1, 4, 25 and 100 generated domains (prints figures; never asserts).

    .venv/bin/python bench/synth_scale.py [--sizes 1 4 25 100] [--modes app lean]

Each synth runs in a fresh subprocess (bench/_synth_one.py) so the figures include Python start-up,
loading aws-cdk-lib into the jsii Node kernel, building the constructs, synthesis and validation.
Memory is the peak summed RSS of the whole process tree (python + node kernel), sampled every
100 ms, and the largest single process (getrusage RUSAGE_CHILDREN ru_maxrss).

Modes:
  app     what `cdk synth` runs (app.py): cdk-nag packs + CDK's built-in CloudFormation validation
  lean    what tests/scale runs: neither (they change no template; compliance is tested in tests/stacks)
  lean-O  lean under `python -O`: jsii's generated bindings skip their typeguard argument checks
          (not run by default: `--modes app lean lean-O`)
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import REPO, print_machine, print_result, run_measured  # noqa: E402

# mode -> (python flags, _synth_one.py flags)
MODES = {"app": ([], ["--nag", "--validation"]), "lean": ([], []), "lean-O": (["-O"], [])}
MODE_TITLES = {"app": "cdk synth (cdk-nag + built-in validation)", "lean": "lean (no nag, no built-in validation)",
               "lean-O": "lean under `python -O` (skips jsii's runtime type checks)"}


def measure(n: int, mode: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-synth-{n}-") as outdir:
        python_flags, flags = MODES[mode]
        run = run_measured([sys.executable, *python_flags, str(REPO / "bench" / "_synth_one.py"), str(n), outdir,
                            *flags], timeout=1800)
    if run["returncode"] != 0:
        print(f"synth of {n} domains ({mode}) failed:\n{run['stderr'][-3000:]}", file=sys.stderr)
        return {"n": n, "mode": mode, "failed": True}
    figures = json.loads(run["stdout"].strip().splitlines()[-1])
    return {**figures, **{k: run[k] for k in ("wall_s", "cpu_s", "max_single_rss_mib", "peak_tree_rss_mib")},
            "mode": mode}


def table(rows: list[dict]) -> str:
    out = ["| domains | stacks | wall s | CPU s | import / build / synth s | peak memory MiB (tree / largest process) "
           "| resources per stack min / median / max | domain stack median / max | platform resources | load balancers |",
           "|---:|---:|---:|---:|---|---|---|---|---:|---:|"]
    for r in rows:
        if r.get("failed"):
            out.append(f"| {r['n']} | failed | | | | | | | | |")
            continue
        out.append(f"| {r['n']} | {r['stacks']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                   f"{r['import_s']:.1f} / {r['build_s']:.1f} / {r['synth_s']:.1f} | "
                   f"{r['peak_tree_rss_mib']:.0f} / {r['max_single_rss_mib']:.0f} | "
                   f"{r['resources_min']} / {r['resources_median']:g} / {r['resources_max']} | "
                   f"{r['domain_resources_median']:g} / {r['domain_resources_max']} | "
                   f"{r['platform_resources']} | {r['load_balancers']} |")
    return "\n".join(out)


def marginal(rows: list[dict]) -> list[dict]:
    ok = [r for r in rows if not r.get("failed")]
    result = []
    for low, high in zip(ok, ok[1:]):
        span = high["n"] - low["n"]
        result.append({
            "from": low["n"], "to": high["n"],
            "wall_s": (high["wall_s"] - low["wall_s"]) / span, "cpu_s": (high["cpu_s"] - low["cpu_s"]) / span,
            "build_s": (high["build_s"] - low["build_s"]) / span, "synth_s": (high["synth_s"] - low["synth_s"]) / span,
            "resources": (high["resources_total"] - low["resources_total"]) / span,
            "platform_resources": (high["platform_resources"] - low["platform_resources"]) / span,
            "memory_mib": (high["peak_tree_rss_mib"] - low["peak_tree_rss_mib"]) / span,
        })
    return result


def marginal_table(steps: list[dict]) -> str:
    out = ["| per added domain | wall s | CPU s | build s | synth s | resources (all stacks) | platform resources "
           "| peak memory MiB |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in steps:
        out.append(f"| {s['from']} → {s['to']} | {s['wall_s']:.2f} | {s['cpu_s']:.2f} | {s['build_s']:.2f} | "
                   f"{s['synth_s']:.2f} | {s['resources']:.1f} | {s['platform_resources']:.2f} | {s['memory_mib']:.1f} |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 25, 100])
    parser.add_argument("--modes", nargs="+", choices=sorted(MODES), default=["app", "lean"])
    args = parser.parse_args()
    print_machine("synth scale")
    results = []
    for mode in args.modes:
        rows = []
        for n in sorted(args.sizes):
            print(f"  synthesizing {n} domains ({mode}) ...", file=sys.stderr, flush=True)
            rows.append(measure(n, mode))
        print(f"### {MODE_TITLES[mode]}\n\n{table(rows)}\n\n{marginal_table(marginal(rows))}\n")
        for r in rows:
            if not r.get("failed"):
                results += [
                    {"metric": f"synth {r['n']} domains ({mode}) wall", "value": round(r["wall_s"], 1), "unit": "s"},
                    {"metric": f"synth {r['n']} domains ({mode}) peak memory", "value": round(r["peak_tree_rss_mib"]),
                     "unit": "MiB"},
                ]
        steps = marginal(rows)
        if steps:
            results.append({"metric": f"marginal wall per domain {steps[-1]['from']}->{steps[-1]['to']} ({mode})",
                            "value": round(steps[-1]["wall_s"], 2), "unit": "s"})
    print_result(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
