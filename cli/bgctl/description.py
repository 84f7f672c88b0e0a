"""Deployment descriptions (docs/contracts.md): free text, ` | `, then space-separated `key=value` tokens.

Parsing is delegated to `bgruntime.deployments.parse_description_tokens`, the parser the hooks use, so the
CLI and the Lambdas can never disagree about what a description says.
"""
from __future__ import annotations

from typing import Mapping

from bgruntime.deployments import parse_description_tokens

SEPARATOR = " | "


def build(summary: str, tokens: Mapping[str, str]) -> str:
    """`build("Deploy auth auth:v2", {"requester": "github:alice", ...})`; the summary loses any `|`."""
    for key, value in tokens.items():
        if not value or any(c.isspace() for c in value) or "|" in value:
            raise ValueError(f"description token {key}={value!r} must be non-empty without spaces or '|'")
    text = " ".join(summary.replace("|", "/").split())
    return f"{text}{SEPARATOR}" + " ".join(f"{k}={v}" for k, v in tokens.items())


def tokens(description: str | None) -> dict[str, str]:
    """The `key=value` tokens after the last `|` (empty if there are none)."""
    return parse_description_tokens(description)
