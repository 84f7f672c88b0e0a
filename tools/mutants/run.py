"""`make mutants`: prove the safety tests catch the bugs they exist for.

Every curated mutation (tools/mutants/catalogue/*.py) is applied on its own, on a scratch copy of the
repository, and only the tests it names are run there. The run fails when

- an entry is unusable: its `original` text is not in its file exactly once (the code moved: update the
  entry), it names no test or a snapshot test, or two entries share an id;
- the named tests do not all pass on the unmutated copy (a test that fails anyway kills nothing);
- a mutant survives (its tests pass) or breaks the run instead of failing a test (import or collection error,
  timeout): a mutant must be caught by an assertion.

It prints one row per mutation (verdict, seconds, the tests that failed) and a summary. Mutants run in
parallel on `--jobs` scratch copies (default 2). The copies import the project from themselves: PYTHONPATH
puts their packages before the virtualenv's editable installs, and no bytecode is written. A test that starts
a Python subprocess must pass PYTHONPATH on, or the subprocess runs the unmutated repository (the mutant then
survives, which is how the SIGTERM test was found to need it).

    python -m tools.mutants.run [--only ID ...] [--jobs N] [--list]
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tools.mutants.model import Mutation

REPO = Path(__file__).resolve().parents[2]
MIN_MUTATIONS = 50
MUTANT_TIMEOUT_S = 300
# Not copied: version control, installed environments (linked instead), build output and caches.
_SKIP = {".git", ".venv", "node_modules", "cdk.out", ".nag", "__pycache__", ".hypothesis", ".pytest_cache",
         "build", "dist"}
_LINKED = (".venv", "node_modules")
_IMPORT_ROOTS = ("constructs", "lambdas/layer/python", "cli", ".")


def load_catalogue() -> list[Mutation]:
    import tools.mutants.catalogue as package

    found: list[Mutation] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.extend(getattr(module, "MUTATIONS", []))
    return found


def catalogue_problems(mutations: list[Mutation], repo: Path = REPO) -> list[str]:
    """Every reason the catalogue cannot be run as it stands (empty when it can)."""
    problems: list[str] = []
    if len(mutations) < MIN_MUTATIONS:
        problems.append(f"the catalogue holds {len(mutations)} mutations; at least {MIN_MUTATIONS} are required")
    seen: set[str] = set()
    for m in mutations:
        if m.id in seen:
            problems.append(f"{m.id}: duplicate id")
        seen.add(m.id)
        problems.extend(f"{m.id}: {p}" for p in m.problems())
        path = repo / m.file
        if not path.is_file():
            problems.append(f"{m.id}: no file {m.file}")
            continue
        count = path.read_text(encoding="utf-8").count(m.original)
        if count != 1:
            problems.append(f"{m.id}: its original text occurs {count} times in {m.file} (must be exactly once)")
        for test in m.tests:
            if not (repo / test.split("::", 1)[0]).is_file():
                problems.append(f"{m.id}: no test file {test.split('::', 1)[0]}")
    return problems


def scratch_copy(repo: Path = REPO) -> Path:
    root = Path(tempfile.mkdtemp(prefix="bluegreen-mutants-"))
    target = root / "repo"
    shutil.copytree(repo, target, symlinks=True, ignore=lambda _d, names: [n for n in names if n in _SKIP
                                                                             or n.endswith(".egg-info")])
    for name in _LINKED:
        if (repo / name).exists():
            (target / name).symlink_to(repo / name)
    return target


def _environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str((copy / p).resolve()) for p in _IMPORT_ROOTS)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["BLUEGREEN_TEST_FAST_SYNTH"] = "1"  # the default app without nag packs and built-in validation
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


@dataclass(frozen=True)
class Outcome:
    verdict: str  # killed | survived | broken
    failed: tuple[str, ...]
    seconds: float
    detail: str = ""


def run_tests(copy: Path, tests: tuple[str, ...], *, workers: int = 0) -> Outcome:
    """Run `tests` in `copy`; which of them failed, from pytest's JUnit report."""
    report = copy.parent / f"report-{threading.get_ident()}.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header",
               f"--junitxml={report}", "-o", "junit_family=xunit1", *tests]
    if workers:
        command[3:3] = ["-n", str(workers)]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=copy, env=_environment(copy), capture_output=True, text=True,
                              timeout=MUTANT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return Outcome("broken", (), time.monotonic() - started, f"no answer within {MUTANT_TIMEOUT_S} s")
    seconds = time.monotonic() - started
    failed = _failed_tests(report)
    report.unlink(missing_ok=True)
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-12:])
    if done.returncode == 0:
        return Outcome("survived", (), seconds, tail)
    if done.returncode == 1 and failed:
        return Outcome("killed", failed, seconds, tail)
    return Outcome("broken", failed, seconds, f"pytest exit code {done.returncode}\n{tail}")


def _failed_tests(report: Path) -> tuple[str, ...]:
    if not report.exists():
        return ()
    failed = []
    for case in ET.parse(report).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            path = case.get("file") or case.get("classname", "").replace(".", "/") + ".py"
            failed.append(f"{path}::{case.get('name')}")
    return tuple(failed)


def apply(copy: Path, mutation: Mutation) -> str:
    """Write the mutant into `copy`; returns the original text of the file to restore it."""
    path = copy / mutation.file
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(mutation.original, mutation.replacement, 1), encoding="utf-8")
    return text


def run_mutants(mutations: list[Mutation], copies: list[Path]) -> dict[str, Outcome]:
    work: queue.Queue[Mutation] = queue.Queue()
    for mutation in mutations:
        work.put(mutation)
    outcomes: dict[str, Outcome] = {}
    lock = threading.Lock()

    def worker(copy: Path) -> None:
        while True:
            try:
                mutation = work.get_nowait()
            except queue.Empty:
                return
            original = apply(copy, mutation)
            try:
                outcome = run_tests(copy, mutation.tests)
            finally:
                (copy / mutation.file).write_text(original, encoding="utf-8")
            with lock:
                outcomes[mutation.id] = outcome
                print(f"  {outcome.verdict:<8} {outcome.seconds:5.1f} s  {mutation.id}", flush=True)

    threads = [threading.Thread(target=worker, args=(copy,)) for copy in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def killers(failed: tuple[str, ...]) -> str:
    """`test_x.py::test_y (4)`: failed tests by name, parametrized cases counted."""
    counts: dict[str, int] = {}
    for test in failed:
        name = test.split("/")[-1].split("[", 1)[0]
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{name} ({n})" if n > 1 else name for name, n in counts.items()) or "-"


def table(mutations: list[Mutation], outcomes: dict[str, Outcome]) -> str:
    rows = [("mutation", "file", "verdict", "s", "killed by")]
    for m in mutations:
        o = outcomes[m.id]
        rows.append((m.id, m.file, o.verdict, f"{o.seconds:.1f}", killers(o.failed)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make mutants", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="run these mutations only")
    parser.add_argument("--jobs", type=int, default=2, help="scratch copies run in parallel (default 2)")
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")
    args = parser.parse_args(argv)

    started = time.monotonic()
    mutations = load_catalogue()
    problems = catalogue_problems(mutations)
    if problems:
        print("the mutation catalogue cannot run:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    if args.list:
        for m in mutations:
            print(f"{m.id}\n  {m.file}: {m.why}\n  tests: {', '.join(m.tests)}")
        return 0
    if args.only:
        unknown = sorted(set(args.only) - {m.id for m in mutations})
        if unknown:
            print(f"unknown mutation ids: {', '.join(unknown)}", file=sys.stderr)
            return 2
        mutations = [m for m in mutations if m.id in set(args.only)]

    copies = [scratch_copy() for _ in range(max(1, args.jobs))]
    try:
        tests = tuple(sorted({t for m in mutations for t in m.tests}))
        print(f"baseline: {len(tests)} named tests on the unmutated copy", flush=True)
        baseline = run_tests(copies[0], tests, workers=max(1, args.jobs))
        if baseline.verdict != "survived":  # every named test must pass before any mutant counts as caught
            print(f"the named tests do not pass unmutated ({baseline.seconds:.0f} s):\n"
                  + ("\n".join(baseline.failed) or baseline.detail), file=sys.stderr)
            return 1
        print(f"baseline passed in {baseline.seconds:.0f} s; {len(mutations)} mutants on {len(copies)} copies",
              flush=True)
        outcomes = run_mutants(mutations, copies)
    finally:
        for copy in copies:
            shutil.rmtree(copy.parent, ignore_errors=True)

    print()
    print(table(mutations, outcomes))
    bad = [m for m in mutations if outcomes[m.id].verdict != "killed"]
    for m in bad:
        o = outcomes[m.id]
        print(f"\n{o.verdict.upper()}: {m.id} ({m.file}): {m.why}\n  tests: {', '.join(m.tests)}\n"
              + "\n".join(f"    {line}" for line in o.detail.splitlines()), file=sys.stderr)
    killed = len(mutations) - len(bad)
    print(f"\n{killed} of {len(mutations)} mutants killed by targeted tests; "
          f"{sum(o.verdict == 'survived' for o in outcomes.values())} survived, "
          f"{sum(o.verdict == 'broken' for o in outcomes.values())} broke the run; "
          f"wall time {time.monotonic() - started:.0f} s")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
