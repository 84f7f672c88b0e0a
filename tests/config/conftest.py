from __future__ import annotations

import copy

import pytest

from bluegreen.config.default import DEFAULT_CONFIG


@pytest.fixture
def raw() -> dict:
    """A fresh, mutable copy of the embedded default."""
    return copy.deepcopy(DEFAULT_CONFIG)
