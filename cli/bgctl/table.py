"""Plain-text tables and JSON output for `status` and `approvals`."""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["-" if v in (None, "") else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=_default)


def short_time(value: Any) -> str | None:
    """ISO / datetime -> `2026-01-05 10:00` (UTC)."""
    from .progress import parse_time

    moment = parse_time(value)
    if moment is None:
        return None
    from datetime import timezone

    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def clip(text: Any, width: int) -> str | None:
    if text in (None, ""):
        return None
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "~"
