"""Run every bench script in bench/ and print a markdown summary (prints figures; never asserts).

    .venv/bin/python bench/run_all.py [--only NAME ...] [--skip NAME ...]     (or `make bench`)

Every `bench/*.py` except this file and helpers (`_*.py`) runs in its own subprocess, one after
the other (they measure time; running them side by side would skew each other). `suite_repeat.py`
(the whole suite 20 times on a loaded machine, about an hour) runs only when named with `--only`. Scripts that print
a `bench-result: [...]` line contribute rows to the summary table; every script's output follows.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import REPO, RESULT_PREFIX, machine, run_measured  # noqa: E402

BENCH = Path(__file__).resolve().parent
ONLY_WHEN_NAMED = {"suite_repeat"}


def scripts(only: list[str], skip: list[str]) -> list[Path]:
    found = sorted(p for p in BENCH.glob("*.py") if not p.name.startswith("_") and p.name != Path(__file__).name)
    if only:
        found = [p for p in found if p.stem in only or p.name in only]
    else:
        found = [p for p in found if p.stem not in ONLY_WHEN_NAMED]
    return [p for p in found if p.stem not in skip and p.name not in skip]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--skip", nargs="*", default=[])
    args = parser.parse_args()
    info = machine()
    print("# Benchmarks\n")
    print("| machine | |\n|---|---|")
    for key, value in info.items():
        print(f"| {key} | {value} |")
    print()
    python = REPO / ".venv" / "bin" / "python"
    runs = []
    for script in scripts(args.only, args.skip):
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        run = run_measured([str(python if python.exists() else sys.executable), str(script)], timeout=5400)
        rows = []
        for line in run["stdout"].splitlines():
            if line.startswith(RESULT_PREFIX):
                rows.extend(json.loads(line[len(RESULT_PREFIX):]))
        runs.append((script, run, rows))

    print("| script | exit | wall s | figure | value |\n|---|---:|---:|---|---|")
    for script, run, rows in runs:
        if not rows:
            print(f"| {script.name} | {run['returncode']} | {run['wall_s']:.2f} | (see output below) | |")
        for index, row in enumerate(rows):
            head = f"| {script.name} | {run['returncode']} | {run['wall_s']:.2f}" if index == 0 else "| | |"
            print(f"{head} | {row['metric']} | {row['value']} {row.get('unit', '')} |")
    for script, run, _ in runs:
        output = "\n".join(line for line in run["stdout"].splitlines() if not line.startswith(RESULT_PREFIX))
        print(f"\n## {script.name} (exit {run['returncode']}, {run['wall_s']:.2f} s)\n\n```text\n{output.strip()}\n```")
        if run["returncode"] != 0 and run["stderr"].strip():
            print(f"\nstderr (tail):\n```text\n{run['stderr'][-2000:].strip()}\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
