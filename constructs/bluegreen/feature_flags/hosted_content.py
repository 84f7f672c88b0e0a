"""Pure rendering of a `DomainFlagsSpec` into AppConfig `AWS.AppConfig.FeatureFlags` hosted content.

Shape (AppConfig type reference, schema version "1"):

    {"version": "1",
     "flags":  {<key>: {"name", "description", "attributes": {<attr>: {"constraints": {...}}}}},
     "values": {<key>: {"enabled": bool, <attr>: value}}}

A targeted flag becomes a multi-variant flag: its value holds only `_variants`, evaluated in order by
the AppConfig agent against the request context. The first variant matches the listed `userId`s and
is on; the last, rule-less variant is AppConfig's default variant and is off for everyone else:

    {"_variants": [{"name": "enabled-for-users", "enabled": true,
                    "rule": "(or (eq $userId \\"a\\") (eq $userId \\"b\\"))", "attributeValues": {...}},
                   {"name": "Default", "enabled": false, "attributeValues": {...}}]}

Key order follows the declaration order, so the same spec always renders the same bytes.
"""
from __future__ import annotations

import json
from typing import Any

from bluegreen.feature_flags.spec import AttributeValue, DomainFlagsSpec, FeatureFlagSpec

SCHEMA_VERSION = "1"
CONTENT_TYPE = "application/json"
TARGETED_VARIANT_NAME = "enabled-for-users"
DEFAULT_VARIANT_NAME = "Default"
USER_CONTEXT_KEY = "userId"


def _constraints(value: AttributeValue) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean", "required": True}
    if isinstance(value, str):
        return {"type": "string", "required": True}
    if isinstance(value, tuple):
        element = "string" if all(isinstance(item, str) for item in value) else "number"
        return {"type": "array", "required": True, "elements": {"type": element}}
    return {"type": "number", "required": True}


def _json_value(value: AttributeValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _definition(flag: FeatureFlagSpec) -> dict[str, Any]:
    definition: dict[str, Any] = {"name": flag.key, "description": flag.description}
    if flag.attributes:
        definition["attributes"] = {name: {"constraints": _constraints(value)}
                                    for name, value in flag.attributes.items()}
    return definition


def _value(flag: FeatureFlagSpec) -> dict[str, Any]:
    attributes = {name: _json_value(value) for name, value in flag.attributes.items()}
    if flag.targeting is None:
        return {"enabled": flag.default_enabled, **attributes}
    targeted: dict[str, Any] = {"name": TARGETED_VARIANT_NAME, "enabled": True, "rule": flag.targeting.rule}
    default: dict[str, Any] = {"name": DEFAULT_VARIANT_NAME, "enabled": flag.default_enabled}
    if attributes:
        targeted["attributeValues"] = dict(attributes)
        default["attributeValues"] = dict(attributes)
    return {"_variants": [targeted, default]}


def feature_flags_document(spec: DomainFlagsSpec) -> dict[str, Any]:
    """The exact hosted content AppConfig stores for this domain's flags."""
    return {
        "version": SCHEMA_VERSION,
        "flags": {flag.key: _definition(flag) for flag in spec.flags},
        "values": {flag.key: _value(flag) for flag in spec.flags},
    }


def feature_flags_json(spec: DomainFlagsSpec) -> str:
    """`feature_flags_document` serialized deterministically (what the hosted configuration version holds)."""
    return json.dumps(feature_flags_document(spec), indent=2, ensure_ascii=True, allow_nan=False)
