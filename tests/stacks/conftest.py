from __future__ import annotations

import pytest

from tests.synth_support import Synthesized, synth_default


@pytest.fixture(scope="session")
def default_app(tmp_path_factory) -> Synthesized:
    """The embedded default app, synthesized once per test worker (nag packs run during synth)."""
    return synth_default(tmp_path_factory.mktemp("default-app"))
