"""`bgctl describe DOMAIN [--field KEY]`: the published deployment metadata plus the derived `releaseWindow`
(the pipeline reads `ecrRepository` and `releaseWindow.roleDurationSeconds` from here)."""
from __future__ import annotations

import json
from typing import Any

from . import inputs
from .errors import UsageError
from .metadata import load_domain, load_platform
from .release_window import release_window
from .table import to_json


def lookup(document: dict[str, Any], path: str) -> Any:
    """`releaseWindow.roleDurationSeconds` -> the nested value; UsageError naming the known keys."""
    value: Any = document
    walked = []
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            known = ", ".join(sorted(value)) if isinstance(value, dict) else "none (not an object)"
            where = ".".join(walked) or "the metadata"
            raise UsageError(f"{where} has no field {key!r} (fields: {known})")
        value = value[key]
        walked.append(key)
    return value


def run(ctx: Any, args: Any) -> int:
    domain = inputs.domain(args.domain)
    clients = ctx.clients()
    platform = load_platform(clients.client("ssm"), ctx.platform, clients.region)
    platform.require_domain(domain)
    metadata = load_domain(clients.client("ssm"), ctx.platform, domain, clients.region)
    document = {**dict(metadata.raw), "releaseWindow": release_window(metadata.raw)}
    if args.field:
        value = lookup(document, args.field)
        ctx.record.data = {args.field: value}
        if not ctx.json:
            ctx.out(value if isinstance(value, str) else json.dumps(value, sort_keys=True))
        return 0
    ctx.record.data = document
    if not ctx.json:
        ctx.out(to_json(document))
    return 0
