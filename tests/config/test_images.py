"""Every image of the default config and the examples really serves its domain's port and health path
(and the WebSocket upgrade of a WebSocket domain), per the table in docs/images.md."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bluegreen.config.loader import load_config
from bluegreen.config.model import Protocol

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIGS = [None, *sorted(str(p) for p in (REPO_ROOT / "config" / "examples").glob("*.yaml"))]
_ROW = re.compile(r"^\|\s*`([^`]+)`[^|]*\|\s*`?([^|`]+?)`?\s*\|\s*`?([^|`]+?)`?\s*\|\s*(yes|no)\s*\|")


@dataclass(frozen=True)
class KnownImage:
    port: str  # "$PORT" (honours the PORT the platform sets) or a fixed number
    health: str  # "any" or one path
    websocket: bool


def known_images() -> dict[str, KnownImage]:
    rows = {}
    for line in (REPO_ROOT / "docs" / "images.md").read_text().splitlines():
        match = _ROW.match(line)
        if match and match.group(1) != "image":
            rows[match.group(1)] = KnownImage(port=match.group(2).strip(), health=match.group(3).strip(),
                                              websocket=match.group(4) == "yes")
    return rows


def test_the_table_lists_the_placeholder():
    images = known_images()
    assert images["docker.io/jmalloc/echo-server:v0.3.7"] == KnownImage(port="$PORT", health="any", websocket=True)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: "default" if p is None else Path(p).stem)
def test_every_domain_runs_an_image_that_serves_its_port_and_health_path(path):
    images = known_images()
    for domain in load_config(path).domains:
        assert domain.image in images, f"{domain.name}: {domain.image} is not in docs/images.md"
        known = images[domain.image]
        assert known.port == "$PORT" or int(known.port) == domain.container_port, domain.name
        assert known.health in ("any", domain.health_check_path), domain.name
        if domain.protocol is Protocol.WEBSOCKET:
            assert known.websocket, f"{domain.name} is a WebSocket domain but its image does not upgrade"
