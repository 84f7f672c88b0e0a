"""The seed platform the embedded default describes, for tests that pin its literal values, and helpers that
derive everything else from the config, so adding a domain to the default breaks no test (README, "Adding a
domain": at most `make diagram` and a snapshot update)."""
from __future__ import annotations

from typing import Any, Mapping

SEED_DOMAINS = ("auth", "order", "payment", "voice")


def default_domain_names() -> list[str]:
    from bluegreen.config.loader import load_config

    return [d.name for d in load_config(None).domains]


def free_port_pair(raw: Mapping[str, Any], group: str, start: int = 8000) -> tuple[int, int]:
    """The lowest (port, port + 1000) pair that no domain of `group` uses in the raw config."""
    used = {p for d in raw["domains"].values() if d.get("alb_group") == group
            for p in (d.get("port"), d.get("test_port"))}
    port = start
    while port in used or port + 1000 in used:
        port += 1
    return port, port + 1000


def without_port_clashes(raw: dict[str, Any], group: str, ports: tuple[int, int]) -> dict[str, Any]:
    """`raw` minus the domains of `group` that use one of `ports` (a domain's template does not depend on others)."""
    raw["domains"] = {name: d for name, d in raw["domains"].items()
                      if not (d.get("alb_group") == group and {d.get("port"), d.get("test_port")} & set(ports))}
    return raw
