"""Suite-wide settings: never reach real AWS, keep jsii quiet, make the repo root importable."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

for key, value in {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_EC2_METADATA_DISABLED": "true",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20,22",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
}.items():
    os.environ.setdefault(key, value)
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def default_app(tmp_path_factory):
    """The embedded default app, synthesized once per test worker (nag packs run during synth); shared by every
    test directory that reads the real templates (stacks, safety, IAM allow-lists, producer/consumer contracts).

    `make mutants` sets BLUEGREEN_TEST_FAST_SYNTH=1: its targeted tests assert on templates, which the nag packs
    and the CDK's built-in validation only report on (the compliance tests, which read the nag report,
    synthesize their own apps with everything on). 4 s per synthesis instead of 12-16 s."""
    from tests.synth_support import synth_default

    fast = os.environ.get("BLUEGREEN_TEST_FAST_SYNTH") == "1"
    return synth_default(tmp_path_factory.mktemp("default-app"), nag=not fast, validation=not fast)
