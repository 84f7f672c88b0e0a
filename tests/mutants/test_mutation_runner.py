"""`make mutants` itself: the catalogue is runnable as the code stands, entries that could prove nothing are
refused, and the verdicts are right on a tiny project (killed, survived, broken)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools.mutants.model import Mutation
from tools.mutants.run import (MIN_MUTATIONS, catalogue_problems, killers, load_catalogue, run_mutants,
                               scratch_copy)


def test_the_catalogue_still_matches_the_code():
    """Fails as soon as a safety line moves or changes: its mutation must be updated with it."""
    mutations = load_catalogue()
    assert catalogue_problems(mutations) == []
    assert len(mutations) >= MIN_MUTATIONS == 50


def _mutation(**overrides) -> Mutation:
    fields = dict(id="m", file="pkg/calc.py", original="a + b", replacement="a - b",
                  tests=("tests/test_calc.py",), why="adds")
    fields.update(overrides)
    return Mutation(**fields)


@pytest.fixture()
def project(tmp_path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "calc.py").write_text("def add(a, b):\n    return a + b\n\n\ndef twice(a):\n    return a * 2\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(
        "from pkg.calc import add, twice\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_twice():\n    assert twice(2) == 4\n")
    return tmp_path


def test_entries_that_cannot_prove_anything_are_refused(project):
    entries = [
        _mutation(id="snapshot", tests=("tests/stacks/test_snapshots.py::test_stack_snapshot",)),
        _mutation(id="nothing", tests=()),
        _mutation(id="same", replacement="a + b"),
        _mutation(id="twice-in-file", original="return a"),
        _mutation(id="gone", original="a * b"),
        _mutation(id="no-file", file="pkg/missing.py"),
        _mutation(id="no-test-file", tests=("tests/test_missing.py::test_x",)),
        _mutation(id="dup"), _mutation(id="dup"),
    ]
    problems = catalogue_problems(entries, repo=project)
    for expected in ("snapshot: relies on a snapshot test", "nothing: names no test",
                     "same: replacement equals original",
                     "twice-in-file: its original text occurs 2 times in pkg/calc.py (must be exactly once)",
                     "gone: its original text occurs 0 times in pkg/calc.py (must be exactly once)",
                     "no-file: no file pkg/missing.py", "no-test-file: no test file tests/test_missing.py",
                     "dup: duplicate id", f"the catalogue holds 9 mutations; at least {MIN_MUTATIONS} are required"):
        assert expected in problems


def test_verdicts_on_a_tiny_project(project):
    mutations = [
        _mutation(id="subtracts"),                                   # test_add fails
        _mutation(id="commutes", replacement="b + a"),               # every test still passes
        _mutation(id="syntax", replacement="a +"),                   # collection error, not an assertion
        _mutation(id="doubles-wrong", original="a * 2", replacement="a * 3",
                  tests=("tests/test_calc.py::test_twice", "tests/test_calc.py::test_add")),
    ]
    copy = scratch_copy(project)
    try:
        outcomes = run_mutants(mutations, [copy])
        # Every mutant is undone: the copy ends as it started.
        assert (copy / "pkg" / "calc.py").read_text() == (project / "pkg" / "calc.py").read_text()
    finally:
        shutil.rmtree(copy.parent)
    assert outcomes["subtracts"].verdict == "killed"
    assert outcomes["subtracts"].failed == ("tests/test_calc.py::test_add",)
    assert outcomes["commutes"].verdict == "survived"
    assert outcomes["syntax"].verdict == "broken"
    assert outcomes["doubles-wrong"].verdict == "killed"
    assert outcomes["doubles-wrong"].failed == ("tests/test_calc.py::test_twice",)


def test_the_table_counts_parametrized_cases():
    assert killers(("tests/a/test_x.py::test_y[auth]", "tests/a/test_x.py::test_y[voice]",
                    "tests/b/test_z.py::test_w")) == "test_x.py::test_y (2), test_z.py::test_w"
    assert killers(()) == "-"
