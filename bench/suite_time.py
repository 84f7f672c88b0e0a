"""Wall time of the whole test suite, as `make test` runs it (prints figures; never asserts).

    .venv/bin/python bench/suite_time.py [--workers auto] [--durations 15] [-- extra pytest args]

Runs `.venv/bin/python -m pytest -n auto -q` in a subprocess and prints its wall and CPU time,
peak memory of the process tree (pytest workers + their jsii node kernels), the pytest summary
line and the slowest test phases (from `--durations`), grouped by directory.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import REPO, print_machine, print_result, pytest_summary, run_measured  # noqa: E402

DURATION = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(\S+)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="auto")
    parser.add_argument("--durations", type=int, default=15)
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    print_machine("test suite")
    python = REPO / ".venv" / "bin" / "python"
    cmd = [str(python if python.exists() else sys.executable), "-m", "pytest", "-n", args.workers, "-q",
           f"--durations={args.durations}", "--durations-min=0.5", *args.pytest_args]
    print(f"command: {' '.join(cmd[1:])}", flush=True)
    run = run_measured(cmd, timeout=5400)
    lines = run["stdout"].splitlines()
    summary = pytest_summary(run["stdout"])
    print(f"\n| figure | value |\n|---|---|\n| wall time | {run['wall_s']:.1f} s |\n| CPU time (all processes) | "
          f"{run['cpu_s']:.1f} s |\n| peak memory (process tree) | {run['peak_tree_rss_mib']:.0f} MiB |\n"
          f"| pytest exit code | {run['returncode']} |\n| pytest summary | {summary} |\n")
    slow = [(float(m.group(1)), m.group(2), m.group(3)) for line in lines if (m := DURATION.match(line))]
    if slow:
        print("slowest phases (setup time is mostly fixture synthesis):\n")
        for seconds, phase, test in slow:
            print(f"  {seconds:7.2f} s  {phase:8s} {test}")
        per_dir: dict[str, float] = defaultdict(float)
        for seconds, _, test in slow:
            per_dir[test.split("::")[0].rsplit("/", 1)[0]] += seconds
        print("\nlisted time per directory: " + ", ".join(f"{d} {s:.0f} s" for d, s in
                                                          sorted(per_dir.items(), key=lambda x: -x[1])))
    if run["returncode"] not in (0, 1):
        print(f"\npytest stderr (tail):\n{run['stderr'][-2000:]}")
    print_result([{"metric": f"test suite wall (pytest -n {args.workers})", "value": round(run["wall_s"], 1),
                   "unit": "s"},
                  {"metric": "test suite CPU", "value": round(run["cpu_s"], 1), "unit": "s"},
                  {"metric": "test suite result", "value": summary, "unit": ""}])
    return 0


if __name__ == "__main__":
    sys.exit(main())
