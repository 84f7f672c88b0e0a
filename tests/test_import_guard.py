"""The top-level `constructs/` folder must never shadow the pip `constructs` package (aws-cdk issue 19301)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import constructs

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_constructs_resolves_to_site_packages():
    origin = Path(constructs.__file__).resolve()
    assert "site-packages" in origin.parts, origin
    assert REPO_ROOT / "constructs" not in origin.parents
    from constructs import Construct  # noqa: F401 - the import itself is the assertion

    from constructs import _jsii  # noqa: F401 - what aws-cdk-lib imports (fails when shadowed)


def test_repo_root_on_path_still_gets_real_constructs():
    """Running from the repo root (as `cdk synth` does) must not pick up ./constructs."""
    code = "import constructs, aws_cdk; from constructs import Construct; print(constructs.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert "site-packages" in out.stdout


def test_no_init_files_that_would_shadow():
    assert not (REPO_ROOT / "constructs" / "__init__.py").exists()
    assert not (REPO_ROOT / "tests" / "constructs" / "__init__.py").exists()


def test_library_has_its_own_import_name():
    import bluegreen

    assert Path(bluegreen.__file__).resolve().parent == REPO_ROOT / "constructs" / "bluegreen"
