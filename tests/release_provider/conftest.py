"""The release provider's code is a Lambda asset whose root is `lambdas/release_provider/` (package `release`)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "lambdas" / "release_provider"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
