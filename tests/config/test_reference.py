"""docs/configuration.md is generated from the reader and cannot drift from it."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from bluegreen.config.default import DEFAULT_CONFIG
from bluegreen.config.errors import ConfigError
from bluegreen.config.loader import parse_config
from bluegreen.config.reference import KEY_DOCS, recorded_keys, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
CONCRETE = {"<domain>": "payment", "<group>": "internal"}  # payment has custom alarms, approval and checks


def test_every_key_the_reader_takes_is_documented_and_nothing_else():
    recorded = set(recorded_keys())
    assert sorted(recorded - set(KEY_DOCS)) == [], "document these keys in bluegreen/config/reference.py"
    assert sorted(set(KEY_DOCS) - recorded) == [], "these documented keys are not read any more"


def test_the_committed_reference_is_current():
    assert DOC.read_text() == render(), "docs/configuration.md is stale: run `make config-docs`"


def _limits() -> list[tuple[str, float, float]]:
    found = []
    for path, records in recorded_keys().items():
        doc = KEY_DOCS[path]
        minimum = records[0].minimum if records[0].minimum is not None else doc.minimum
        maximum = records[0].maximum if records[0].maximum is not None else doc.maximum
        if minimum is not None and maximum is not None:
            found.append((path, minimum, maximum))
    return found


def _set(raw: dict, path: str, value: object) -> str:
    concrete = path
    for placeholder, name in CONCRETE.items():
        concrete = concrete.replace(placeholder, name)
    parts = re.split(r"\.(?![^\[]*\])", concrete)
    node = raw
    for part in parts[:-1]:
        key, is_item = (part[:-2], True) if part.endswith("[]") else (part, False)
        node = node.setdefault(key, [{}] if is_item else {})
        if is_item:
            node = node[0]
    node[parts[-1]] = value
    return concrete.replace("[]", "[0]")


@pytest.mark.parametrize("path, minimum, maximum", _limits(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_documented_limit_is_enforced(path, minimum, maximum):
    step = 1 if float(minimum).is_integer() and float(maximum).is_integer() else 0.0005
    for outside in (minimum - step, maximum + step):
        raw = copy.deepcopy(DEFAULT_CONFIG)
        value = int(outside) if step == 1 else outside
        field = _set(raw, path, value)
        with pytest.raises(ConfigError) as info:
            parse_config(raw, source="probe")
        assert info.value.field == field, f"{path}={value}: {info.value}"


def test_a_typo_gets_the_nearest_key_suggested():
    raw = copy.deepcopy(DEFAULT_CONFIG)
    raw["domains"]["order"]["approval"]["expiry_minute"] = 30
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source="platform.yaml")
    assert info.value.field == "domains.order.approval.expiry_minute"
    assert info.value.fix.startswith("did you mean `expiry_minutes`? ")


def test_mutable_image_tags_are_refused_unless_allowed():
    raw = copy.deepcopy(DEFAULT_CONFIG)
    raw["domains"]["auth"]["image"] = "public.ecr.aws/nginx/nginx:latest"
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source="x")
    assert info.value.field == "domains.auth.image" and "allow_mutable_image_tag" in info.value.fix
    raw["domains"]["auth"]["allow_mutable_image_tag"] = True
    assert parse_config(raw, source="x").domain("auth").image.endswith(":latest")
    raw["domains"]["auth"]["image"] = "repo/auth:latest@sha256:" + "a" * 64  # a digest pins it
    del raw["domains"]["auth"]["allow_mutable_image_tag"]
    assert parse_config(raw, source="x")
