"""The exact AWS.AppConfig.FeatureFlags hosted content rendered from a domain's flag spec."""
from __future__ import annotations

import json
from typing import Any

from bluegreen.feature_flags import (
    DomainFlagsSpec,
    FeatureFlagSpec,
    FlagTargeting,
    feature_flags_document,
    feature_flags_json,
    parse_domain_flags,
)

SPEC = DomainFlagsSpec(flags=(
    FeatureFlagSpec(
        key="new_checkout",
        description="One-page checkout",
        default_enabled=False,
        attributes={"variant_color": "green", "max_items": 50, "ratio": 0.25, "express": True,
                    "regions": ("eu-west-1", "eu-central-1"), "steps": (1, 2, 3)},
        targeting=FlagTargeting(enabled_for_user_ids=("alice", "bob@example.com")),
    ),
    FeatureFlagSpec(key="beta-banner", description="Beta banner", targeting=FlagTargeting(enabled_for_user_ids=("qa-1",))),
    FeatureFlagSpec(key="dark_mode", description="Dark theme", default_enabled=True, attributes={"contrast": "high"}),
    FeatureFlagSpec(key="kill_switch", description="Stops new sessions"),
))

ATTRIBUTE_VALUES = {"variant_color": "green", "max_items": 50, "ratio": 0.25, "express": True,
                    "regions": ["eu-west-1", "eu-central-1"], "steps": [1, 2, 3]}

GOLDEN: dict[str, Any] = {
    "version": "1",
    "flags": {
        "new_checkout": {
            "name": "new_checkout",
            "description": "One-page checkout",
            "attributes": {
                "variant_color": {"constraints": {"type": "string", "required": True}},
                "max_items": {"constraints": {"type": "number", "required": True}},
                "ratio": {"constraints": {"type": "number", "required": True}},
                "express": {"constraints": {"type": "boolean", "required": True}},
                "regions": {"constraints": {"type": "array", "required": True, "elements": {"type": "string"}}},
                "steps": {"constraints": {"type": "array", "required": True, "elements": {"type": "number"}}},
            },
        },
        "beta-banner": {"name": "beta-banner", "description": "Beta banner"},
        "dark_mode": {"name": "dark_mode", "description": "Dark theme",
                      "attributes": {"contrast": {"constraints": {"type": "string", "required": True}}}},
        "kill_switch": {"name": "kill_switch", "description": "Stops new sessions"},
    },
    "values": {
        "new_checkout": {"_variants": [
            {"name": "enabled-for-users", "enabled": True,
             "rule": '(or (eq $userId "alice") (eq $userId "bob@example.com"))',
             "attributeValues": ATTRIBUTE_VALUES},
            {"name": "Default", "enabled": False, "attributeValues": ATTRIBUTE_VALUES},
        ]},
        "beta-banner": {"_variants": [
            {"name": "enabled-for-users", "enabled": True, "rule": '(eq $userId "qa-1")'},
            {"name": "Default", "enabled": False},
        ]},
        "dark_mode": {"enabled": True, "contrast": "high"},
        "kill_switch": {"enabled": False},
    },
}


def test_document_matches_golden_content() -> None:
    assert feature_flags_document(SPEC) == GOLDEN


def test_key_order_is_the_declaration_order() -> None:
    document = feature_flags_document(SPEC)
    assert list(document) == ["version", "flags", "values"]
    assert list(document["flags"]) == ["new_checkout", "beta-banner", "dark_mode", "kill_switch"]
    assert list(document["values"]) == list(document["flags"])
    assert list(document["flags"]["new_checkout"]["attributes"]) == list(ATTRIBUTE_VALUES)
    targeted, default = document["values"]["new_checkout"]["_variants"]
    assert list(targeted) == ["name", "enabled", "rule", "attributeValues"]
    assert "rule" not in default  # AppConfig's default variant is the last one and has no rule


def test_json_is_deterministic_and_round_trips() -> None:
    text = feature_flags_json(SPEC)
    assert text == feature_flags_json(SPEC)
    assert json.loads(text) == GOLDEN
    assert text.isascii()


def test_golden_content_satisfies_appconfig_rules(appconfig_rules: Any) -> None:
    assert not list(appconfig_rules.iter_errors(GOLDEN))


def test_empty_spec_is_a_valid_empty_flag_set(appconfig_rules: Any) -> None:
    document = feature_flags_document(DomainFlagsSpec())
    assert document == {"version": "1", "flags": {}, "values": {}}
    assert not list(appconfig_rules.iter_errors(document))


def test_release_path_from_chosen_users_to_everyone() -> None:
    """Step 1 targets users; step 2 (same key) is a plain flag that is on for everyone."""
    step1 = parse_domain_flags({"flags": [{"key": "new_checkout", "description": "x", "default": False,
                                           "enabled_for_users": ["alice"]}]}, source="s", field="f")
    step2 = parse_domain_flags({"flags": [{"key": "new_checkout", "description": "x", "default": True}]},
                               source="s", field="f")
    assert feature_flags_document(step1)["values"]["new_checkout"]["_variants"][0]["enabled"] is True
    assert feature_flags_document(step2)["values"]["new_checkout"] == {"enabled": True}
