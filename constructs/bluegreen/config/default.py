"""The embedded default platform: `default.yaml` in this package (three HTTP API domains, one WebSocket voice
domain). `cdk synth` with no `-c config=...` synthesizes exactly this; adding a domain is adding a block under
`domains:` in that file."""
from __future__ import annotations

from importlib import resources
from typing import Any

DEFAULT_CONFIG_RESOURCE = "default.yaml"
# Serves every path with 200 and upgrades any path to a WebSocket echo, on $PORT (docs/images.md).
PLACEHOLDER_IMAGE = "docker.io/jmalloc/echo-server:v0.3.7"


def default_config_text() -> str:
    return resources.files("bluegreen.config").joinpath(DEFAULT_CONFIG_RESOURCE).read_text(encoding="utf-8")


def default_config() -> dict[str, Any]:
    """A fresh (mutable) copy of the embedded default, as parsed from the YAML file."""
    import yaml

    return yaml.safe_load(default_config_text())


DEFAULT_CONFIG: dict[str, Any] = default_config()
