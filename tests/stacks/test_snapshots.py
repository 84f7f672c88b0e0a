"""Whole-stack snapshots (asset hashes normalized). Update only on purpose: pytest --snapshot-update."""
from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.synth_support import normalize

STACKS = ["Bluegreen-Platform", "Bluegreen-DeployAccess", "Bluegreen-Domain-auth", "Bluegreen-Domain-order", "Bluegreen-Domain-payment",
          "Bluegreen-Domain-voice"]


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_snapshot(default_app, snapshot_json, stack):
    assert normalize(default_app.templates[stack]) == snapshot_json
