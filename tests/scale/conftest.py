"""Synthesize each generated config ONCE per test run, even under pytest-xdist.

Session fixtures are per xdist worker, so a plain session fixture would synthesize the 100-domain
app once in every worker. Instead the cloud assemblies live in the run's shared base temp directory
and every worker, on its first request, claims the next unbuilt config (largest first, so two
workers build 101 and 100 side by side) under a per-config file lock, builds it, and moves on;
requests then wait for the config's lock and read the templates back from disk (plain JSON, no jsii).

Synthesis here skips cdk-nag and the CDK's built-in CloudFormation validation: neither changes a
template, both run in tests/stacks, and together they more than double the 100-domain synth time
(see docs/performance.md).
"""
from __future__ import annotations

import fcntl
import json
import os
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.scale_support import ScaleAssembly, generated_config, read_templates, synth_to_disk

# Fixture name -> number of generated domains.
SIZED_FIXTURES = {"scale_1": 1, "scale_25": 25, "scale_100": 100, "scale_101": 101}
PARAMETRIZED = "scale_app"
_NEEDED = pytest.StashKey[set]()


@pytest.hookimpl(trylast=True)  # after -k / -m deselection
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Remember which configs the selected tests need, so `-k` on a small one builds only that."""
    needed: set[int] = set()
    for item in items:
        names = getattr(item, "fixturenames", ())
        needed.update(n for name, n in SIZED_FIXTURES.items() if name in names)
        callspec = getattr(item, "callspec", None)
        if PARAMETRIZED in names and callspec is not None and PARAMETRIZED in callspec.params:
            needed.add(callspec.params[PARAMETRIZED])
    config.stash[_NEEDED] = needed


@contextmanager
def _lock(path: Path, *, blocking: bool) -> Iterator[bool]:
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class ScaleSynthesizer:
    """Builds generated-config assemblies under `root` (shared by all workers of one run)."""

    def __init__(self, root: Path, needed: set[int]) -> None:
        self.root = root
        self.needed = needed
        self._loaded: dict[int, ScaleAssembly] = {}

    def _dir(self, n: int) -> Path:
        return self.root / f"scale-{n:03d}"

    def _marker(self, n: int) -> Path:
        return self._dir(n) / "scale-synth.json"

    def _build(self, n: int) -> None:
        """Synthesize `n` (caller holds its lock); record success or the error for waiting workers."""
        if self._marker(n).exists():
            return
        outdir = self._dir(n)
        outdir.mkdir(parents=True, exist_ok=True)
        try:
            seconds = synth_to_disk(generated_config(n), outdir)
            self._marker(n).write_text(json.dumps({"n": n, "seconds": seconds, "worker": _worker()}))
        except Exception:  # noqa: BLE001 - the waiting workers report the same failure
            self._marker(n).write_text(json.dumps({"n": n, "error": traceback.format_exc()}))

    def _claim_and_build(self, first: int) -> None:
        """Build every needed config nobody else is building, largest first (the requested one included)."""
        for n in sorted(self.needed | {first}, reverse=True):
            if self._marker(n).exists():
                continue
            with _lock(self.root / f"scale-{n:03d}.lock", blocking=False) as claimed:
                if claimed:
                    self._build(n)

    def get(self, n: int) -> ScaleAssembly:
        if n not in self._loaded:
            self._claim_and_build(n)
            with _lock(self.root / f"scale-{n:03d}.lock", blocking=True):
                self._build(n)  # no-op unless the claimant vanished without a marker
            marker = json.loads(self._marker(n).read_text())
            if "error" in marker:
                pytest.fail(f"synthesizing the generated {n}-domain config failed:\n{marker['error']}", pytrace=False)
            self._loaded[n] = ScaleAssembly(n=n, config=generated_config(n), outdir=self._dir(n),
                                            templates=read_templates(self._dir(n)), synth_seconds=marker["seconds"])
        return self._loaded[n]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def scale_synthesizer(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> ScaleSynthesizer:
    base = tmp_path_factory.getbasetemp()
    root = base.parent if "PYTEST_XDIST_WORKER" in os.environ else base
    root = root / "scale-assemblies"
    root.mkdir(exist_ok=True)
    return ScaleSynthesizer(root, set(pytestconfig.stash.get(_NEEDED, set())))


@pytest.fixture(scope="session")
def scale_1(scale_synthesizer: ScaleSynthesizer) -> ScaleAssembly:
    return scale_synthesizer.get(1)


@pytest.fixture(scope="session")
def scale_25(scale_synthesizer: ScaleSynthesizer) -> ScaleAssembly:
    return scale_synthesizer.get(25)


@pytest.fixture(scope="session")
def scale_100(scale_synthesizer: ScaleSynthesizer) -> ScaleAssembly:
    return scale_synthesizer.get(100)


@pytest.fixture(scope="session")
def scale_101(scale_synthesizer: ScaleSynthesizer) -> ScaleAssembly:
    return scale_synthesizer.get(101)


@pytest.fixture(scope="session", params=[1, 25, 100], ids=lambda n: f"{n}-domains")
def scale_app(request: pytest.FixtureRequest, scale_synthesizer: ScaleSynthesizer) -> ScaleAssembly:
    return scale_synthesizer.get(request.param)
