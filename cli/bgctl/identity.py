"""Who is asking: the caller's IAM ARN (break-glass decisions record it). Deploy requesters are no longer
chosen by the client: the deploy API records the verified caller (docs/deploy-api.md)."""
from __future__ import annotations

from typing import Any


def caller_arn(sts: Any) -> str:
    return str(sts.get_caller_identity()["Arn"])
