"""Who is asking: the deploy requester (for the description and Slack) and the caller ARN (for decisions)."""
from __future__ import annotations

from typing import Any, Mapping

from . import inputs


def caller_arn(sts: Any) -> str:
    return str(sts.get_caller_identity()["Arn"])


def requester(explicit: str | None, env: Mapping[str, str], sts_client: Any) -> str:
    """`--requester`, else `github:<GITHUB_ACTOR>`, else the caller's STS identity ARN."""
    if explicit:
        return inputs.requester(explicit)
    actor = env.get("GITHUB_ACTOR", "").strip()
    if actor:
        return inputs.requester(f"github:{actor}")
    return inputs.requester(caller_arn(sts_client()))
