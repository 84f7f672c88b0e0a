"""The change-safety scenarios: verdict before/after the day-2 work, and synth/classify time per scenario.

    .venv/bin/python bench/change_safety_scenarios.py [--only ID ...] [--reasons]

Synthesizes each base config once and each scenario's changed config once (in this process, no cdk-nag,
like tests/change_safety/test_scenarios.py), classifies the pair with the gate and prints one row per
scenario: the verdict measured now, the `before` and `after` columns of the table in
tests/change_safety/scenarios.py, and the times. Prints figures; never asserts.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tests.conftest  # noqa: E402,F401  (quiet jsii, no AWS)
from _machine import print_machine, print_result  # noqa: E402
from bgctl.change_safety.assembly import read_assembly  # noqa: E402
from bgctl.change_safety.classify import compare  # noqa: E402
from tests.change_safety.scenarios import BASES, SCENARIOS, changed_config, synthesize  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], metavar="ID")
    parser.add_argument("--reasons", action="store_true", help="print the non-safe changes of each scenario")
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if not args.only or s.id in args.only]
    print_machine("Change-safety gate: config-change scenarios")
    rows, total_synth, total_classify = [], 0.0, 0.0
    with tempfile.TemporaryDirectory(prefix="change-safety-") as tmp:
        root = Path(tmp)
        bases = {}
        for name in sorted({s.base for s in scenarios}):
            started = time.perf_counter()
            bases[name] = read_assembly(synthesize(BASES[name](), root / f"base-{name}"))
            print(f"base {name}: synthesized in {time.perf_counter() - started:.2f} s")
        print()
        print("| scenario | change | before (table) | measured now | after (day-2 target) | synth s | classify s |")
        print("|---|---|---|---|---|---|---|")
        for scenario in scenarios:
            started = time.perf_counter()
            outdir = synthesize(changed_config(scenario), root / scenario.id, scenario.context)
            synthesized = time.perf_counter()
            report = compare(bases[scenario.base], read_assembly(outdir))
            classified = time.perf_counter()
            total_synth += synthesized - started
            total_classify += classified - synthesized
            measured = report.verdict.label
            flag = "" if measured == scenario.before else " (differs!)"
            print(f"| {scenario.id} | {scenario.description} | {scenario.before} | {measured}{flag} | {scenario.after} "
                  f"| {synthesized - started:.2f} | {classified - synthesized:.3f} |")
            rows.append({"scenario": scenario.id, "before": scenario.before, "measured": measured,
                         "after": scenario.after, "synth_s": round(synthesized - started, 2),
                         "classify_s": round(classified - synthesized, 3)})
            if args.reasons:
                for stack in report.stacks:
                    for change in stack.changes:
                        if change.verdict.label != "safe":
                            print(f"|   | {stack.stack} {change.logical_id} ({change.type}) {change.verdict.label}: "
                                  f"{change.reason[:220]} | | | | | |")
    print()
    print(f"{len(rows)} scenarios: synth {total_synth:.1f} s, classify {total_classify:.2f} s in total")
    differing = [r["scenario"] for r in rows if r["measured"] != r["before"]]
    print_result([{"metric": "scenarios", "value": len(rows), "unit": ""},
                  {"metric": "synth of the changed configs, total", "value": round(total_synth, 1), "unit": "s"},
                  {"metric": "classification, total", "value": round(total_classify, 2), "unit": "s"},
                  {"metric": "measured verdict differs from the table's before column",
                   "value": ", ".join(differing) or "none", "unit": ""}])
    return 0


if __name__ == "__main__":
    sys.exit(main())
