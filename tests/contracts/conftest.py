"""Producer/consumer contracts: what the synthesized templates publish, fed unchanged to the code that reads it.

Never real AWS: fake credentials and a fixed region before any boto3 client exists; moto and local fakes.
The shared helpers of the approval and progressive test directories (plain modules with unique names) are
reused, not copied.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.update({"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                   "AWS_EC2_METADATA_DISABLED": "true"})
os.environ.pop("AWS_PROFILE", None)

_TESTS = Path(__file__).resolve().parents[1]
for _helpers in (_TESTS / "approval", _TESTS / "progressive", _TESTS / "cli"):
    if str(_helpers) not in sys.path:
        sys.path.append(str(_helpers))
