"""One curated mutation: a small deliberate bug in a safety-critical line, and the tests that must catch it."""
from __future__ import annotations

from dataclasses import dataclass

SNAPSHOT_TESTS = "tests/stacks/test_snapshots.py"


@dataclass(frozen=True)
class Mutation:
    """`original` must occur exactly once in `file` (repository-relative); the mutant replaces it with
    `replacement`. `tests` are pytest node ids (or files) that must fail on the mutant: never a snapshot test,
    so a snapshot update can never be the only thing between the bug and production."""

    id: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]
    why: str

    def problems(self) -> list[str]:
        """What makes the entry itself unusable (checked before anything runs)."""
        found = []
        if self.original == self.replacement:
            found.append("replacement equals original")
        if not self.tests:
            found.append("names no test")
        if any(t.split("::", 1)[0] == SNAPSHOT_TESTS for t in self.tests):
            found.append("relies on a snapshot test")
        if not self.why.strip():
            found.append("says nothing about why it matters")
        return found
