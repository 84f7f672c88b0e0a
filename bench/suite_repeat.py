"""Flakiness check: the whole suite N times in a row under `-n 2` on a loaded machine (prints figures).

    .venv/bin/python bench/suite_repeat.py [--runs 20] [--workers 2] [--load 1] [-- extra pytest args]

`--load K` starts K busy-loop processes (one core each) for the whole check, so the suite runs with
less CPU than it has workers: the condition under which a wall-clock bound in a unit test would fail
(README "Testing": no wall-clock bounds). Prints one line per run (result, wall time, warnings, the
failed test ids) and a summary table. Exits 1 if any run did not pass; timing is reported, never judged.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import QUIET_ENV, REPO, print_machine, print_result, pytest_summary  # noqa: E402

FAILED = re.compile(r"^(FAILED|ERROR) (\S+)")
WARNINGS = re.compile(r"(\d+) warnings?")


def _busy() -> None:
    while True:
        pass


def _one_run(cmd: list[str], env: dict[str, str]) -> dict[str, object]:
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=5400)
    wall = time.monotonic() - started
    summary = pytest_summary(done.stdout)
    warnings = WARNINGS.search(summary)
    return {"rc": done.returncode, "wall_s": wall, "summary": summary,
            "warnings": int(warnings.group(1)) if warnings else 0,
            "failed": [m.group(2) for line in done.stdout.splitlines() if (m := FAILED.match(line))]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", default="2")
    parser.add_argument("--load", type=int, default=1, help="busy-loop processes running alongside")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    print_machine(f"suite repeated {args.runs} times, -n {args.workers}, {args.load} busy loop(s)")
    python = REPO / ".venv" / "bin" / "python"
    cmd = [str(python if python.exists() else sys.executable), "-m", "pytest", "-n", args.workers, "-q",
           "-p", "no:cacheprovider", *args.pytest_args]
    env = {**os.environ, **QUIET_ENV}
    hogs = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(args.load)]
    for hog in hogs:
        hog.start()
    runs: list[dict[str, object]] = []
    try:
        for number in range(1, args.runs + 1):
            run = _one_run(cmd, env)
            runs.append(run)
            failed = f" failed: {', '.join(run['failed'])}" if run["failed"] else ""
            print(f"run {number:2d}: rc={run['rc']} {run['wall_s']:6.1f} s  {run['summary']}{failed}", flush=True)
    finally:
        for hog in hogs:
            hog.terminate()
    walls = [float(r["wall_s"]) for r in runs]
    passed = sum(1 for r in runs if r["rc"] == 0)
    print(f"\n| figure | value |\n|---|---|\n| runs passed | {passed} of {len(runs)} |\n"
          f"| wall min / median / max | {min(walls):.1f} / {statistics.median(walls):.1f} / {max(walls):.1f} s |\n"
          f"| runs with warnings | {sum(1 for r in runs if r['warnings'])} |\n"
          f"| distinct failing tests | {len({t for r in runs for t in r['failed']})} |\n")
    print_result([{"metric": f"suite runs passed (-n {args.workers}, {args.load} busy loops)",
                   "value": f"{passed}/{len(runs)}", "unit": ""},
                  {"metric": "suite wall median under load", "value": round(statistics.median(walls), 1),
                   "unit": "s"}])
    return 0 if passed == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
