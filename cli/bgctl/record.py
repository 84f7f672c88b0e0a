"""The `--json` document: one schema for every command (docs/cli.md, 'Machine output')."""
from __future__ import annotations

import json
from typing import Any

from .errors import OUTCOMES

SCHEMA_VERSION = 1


def document(command: str | None, code: int, error: str | None, ctx: Any) -> dict[str, Any]:
    """`{schemaVersion, command, exitCode, outcome, error, resume, deployment, data, messages}`.

    `data` is what the command recorded; a command that printed a JSON document instead (approvals)
    has it parsed into `data`; any other printed lines are kept in `messages`.
    """
    record = getattr(ctx, "record", None)
    data = record.data if record is not None else None
    messages: list[str] = []
    captured = ctx.captured.getvalue() if ctx is not None else ""
    if captured.strip():
        try:
            parsed = json.loads(captured)
        except ValueError:
            messages = [line for line in captured.splitlines() if line.strip()]
        else:
            if data is None:
                data = parsed
    return {
        "schemaVersion": SCHEMA_VERSION,
        "command": command,
        "exitCode": code,
        "outcome": OUTCOMES.get(code, "internal_error"),
        "error": error,
        "resume": record.resume if record is not None else None,
        "deployment": record.deployment if record is not None else None,
        "data": data,
        "messages": messages,
    }
