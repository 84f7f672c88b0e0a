"""Two synths of the default config give byte-identical templates (CI needs deterministic output)."""
from __future__ import annotations

from tests.synth_support import synth_default


def test_two_synths_are_byte_identical(default_app, tmp_path):
    second = synth_default(tmp_path / "again")
    for path in sorted(default_app.outdir.glob("*.template.json")):
        assert (second.outdir / path.name).read_bytes() == path.read_bytes(), path.name
