"""`bgctl describe DOMAIN [--field KEY]`: the published deployment metadata (the pipeline reads
`ecrRepository` from here instead of hard-coding registry URIs)."""
from __future__ import annotations

import json
from typing import Any

from . import inputs
from .errors import UsageError
from .metadata import load_domain, load_platform
from .table import to_json


def run(ctx: Any, args: Any) -> int:
    domain = inputs.domain(args.domain)
    clients = ctx.clients()
    platform = load_platform(clients.client("ssm"), ctx.platform, clients.region)
    platform.require_domain(domain)
    metadata = load_domain(clients.client("ssm"), ctx.platform, domain, clients.region)
    if args.field:
        if args.field not in metadata.raw:
            raise UsageError(f"metadata of {domain!r} has no field {args.field!r} "
                             f"(fields: {', '.join(sorted(metadata.raw))})")
        value = metadata.raw[args.field]
        ctx.out(value if isinstance(value, str) else json.dumps(value, sort_keys=True))
        return 0
    ctx.out(to_json(dict(metadata.raw)))
    return 0
