"""Parsing the `feature_flags:` config section and the invariants of the frozen specs."""
from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bluegreen.config.errors import ConfigError
from bluegreen.feature_flags import (
    DomainFlagsSpec,
    FeatureFlagSpec,
    FlagRolloutSpec,
    FlagTargeting,
    GrowthType,
    feature_flags_document,
    parse_domain_flags,
    parse_feature_flags,
)

SOURCE = "config/platform.yaml"
DOMAINS = {"auth", "order", "payment", "voice"}


def valid_section() -> dict[str, Any]:
    return {
        "auth": {
            "rollout": {"growth_type": "EXPONENTIAL", "duration_minutes": 30, "growth_factor": 25,
                        "final_bake_minutes": 15},
            "flags": [
                {"key": "new_login", "description": "Passkey login page", "default": False,
                 "enabled_for_users": ["alice", "bob@example.com"],
                 "attributes": {"button_color": "blue", "max_attempts": 3, "ratio": 0.5, "beta": True,
                                "regions": ["eu-west-1", "us-east-1"], "limits": [1, 2.5]}},
                {"key": "dark-mode", "description": "Dark theme for everyone", "default": True},
                {"key": "kill_switch", "description": "Stops new sessions"},
            ],
        },
        "voice": {"flags": []},
    }


def parse(section: object) -> dict[str, DomainFlagsSpec]:
    return parse_feature_flags(section, source=SOURCE, known_domains=DOMAINS)


def error_for(section: object) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse(section)
    return caught.value


def with_flag(**fields: Any) -> dict[str, Any]:
    flag = {"key": "new_login", "description": "Passkey login page"}
    flag.update(fields)
    return {"auth": {"flags": [flag]}}


# ---------------------------------------------------------------------------------------------
# Good input
# ---------------------------------------------------------------------------------------------

def test_valid_section_parses_into_typed_specs() -> None:
    result = parse(valid_section())
    assert set(result) == {"auth", "voice"}
    auth = result["auth"]
    assert auth.rollout == FlagRolloutSpec(growth_type=GrowthType.EXPONENTIAL, duration_minutes=30,
                                           growth_factor=25.0, final_bake_minutes=15)
    login = auth.flag("new_login")
    assert login.default_enabled is False
    assert login.targeting == FlagTargeting(enabled_for_user_ids=("alice", "bob@example.com"))
    assert dict(login.attributes) == {"button_color": "blue", "max_attempts": 3, "ratio": 0.5, "beta": True,
                                      "regions": ("eu-west-1", "us-east-1"), "limits": (1, 2.5)}
    assert auth.flag("dark-mode").default_enabled is True
    assert auth.flag("kill_switch").default_enabled is False  # no targeting: default may be omitted
    assert [flag.key for flag in auth.flags] == ["new_login", "dark-mode", "kill_switch"]
    assert result["voice"] == DomainFlagsSpec()


def test_absent_section_and_absent_parts_use_defaults() -> None:
    assert parse(None) == {}
    assert parse({}) == {}
    assert parse({"auth": None})["auth"] == DomainFlagsSpec()
    assert parse({"auth": {}})["auth"].rollout == FlagRolloutSpec()


def test_default_rollout_is_linear_20_percent_over_10_minutes_then_10_minutes_bake() -> None:
    assert FlagRolloutSpec() == FlagRolloutSpec(growth_type=GrowthType.LINEAR, duration_minutes=10,
                                                growth_factor=20.0, final_bake_minutes=10)


def test_growth_type_is_case_insensitive_and_boundaries_are_accepted() -> None:
    spec = parse({"auth": {"rollout": {"growth_type": "linear", "duration_minutes": 1440, "growth_factor": 100,
                                       "final_bake_minutes": 0}}})["auth"]
    assert spec.rollout == FlagRolloutSpec(GrowthType.LINEAR, 1440, 100.0, 0)
    spec = parse({"auth": {"rollout": {"duration_minutes": 0, "growth_factor": 1.0, "final_bake_minutes": 1440}}})
    assert spec["auth"].rollout.growth_factor == 1.0


def test_longest_valid_key_and_25_attributes_are_accepted() -> None:
    key = "a" + "B9_-" * 15 + "xyz"
    assert len(key) == 64
    attributes = {f"attr{i}": i for i in range(25)}
    flag = parse(with_flag(key=key, attributes=attributes))["auth"].flags[0]
    assert flag.key == key and len(flag.attributes) == 25


def test_parse_domain_flags_reports_the_field_it_was_given() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_domain_flags({"flags": [{"key": "x"}]}, source="d.yaml", field="domains.auth.feature_flags")
    assert caught.value.field == "domains.auth.feature_flags.flags[0].description"
    assert caught.value.source == "d.yaml"


def test_specs_are_frozen_and_hashable() -> None:
    flag = parse(valid_section())["auth"].flag("new_login")
    with pytest.raises(AttributeError):
        flag.key = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        flag.attributes["button_color"] = "red"  # type: ignore[index]
    twin = dataclasses.replace(flag)
    assert twin == flag and hash(twin) == hash(flag)
    assert copy.deepcopy(parse(valid_section())) == parse(valid_section())
    assert len({FlagRolloutSpec(), FlagRolloutSpec()}) == 1


# ---------------------------------------------------------------------------------------------
# Bad input: every error names the file, the field and the fix
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["NewLogin", "1flag", "_flag", "-flag", "new login", "new.login", "a" * 65, "",
                                 "ümlaut", "new/login"])
def test_invalid_flag_keys(key: str) -> None:
    error = error_for(with_flag(key=key))
    assert error.source == SOURCE
    assert error.field == "feature_flags.auth.flags[0].key"
    assert "lower-case letter" in error.fix


def test_too_many_attributes() -> None:
    error = error_for(with_flag(attributes={f"attr{i}": i for i in range(26)}))
    assert error.field == "feature_flags.auth.flags[0].attributes"
    assert "26 attributes" in error.problem and "25" in error.problem


@pytest.mark.parametrize("name, expected_in_problem", [
    ("Color", "not valid"), ("9lives", "not valid"), ("a" * 65, "not valid"), ("enabled", "reserved"),
])
def test_invalid_attribute_names(name: str, expected_in_problem: str) -> None:
    error = error_for(with_flag(attributes={name: 1}))
    assert error.field == f"feature_flags.auth.flags[0].attributes.{name}"
    assert expected_in_problem in error.problem


@pytest.mark.parametrize("value, expected_in_problem", [
    ({"nested": 1}, "string, number, boolean or list"),
    ([], "empty list"),
    ([True, False], "only strings or only numbers"),
    (["a", 1], "only strings or only numbers"),
    ([["a"]], "only strings or only numbers"),
    ("x" * 1025, "1025 characters"),
    (float("nan"), "finite"),
    (float("inf"), "finite"),
    (10**400, "finite"),
])
def test_invalid_attribute_values(value: object, expected_in_problem: str) -> None:
    error = error_for(with_flag(attributes={"setting": value}))
    assert error.field.startswith("feature_flags.auth.flags[0].attributes.setting")
    assert expected_in_problem in error.problem


def test_targeting_without_a_default() -> None:
    error = error_for(with_flag(enabled_for_users=["alice"]))
    assert error.field == "feature_flags.auth.flags[0].default"
    assert "required when `enabled_for_users`" in error.problem
    assert "default: false" in error.fix


def test_targeting_with_default_on_is_rejected() -> None:
    error = error_for(with_flag(default=True, enabled_for_users=["alice"]))
    assert error.field == "feature_flags.auth.flags[0].default"
    assert "no effect" in error.problem


@pytest.mark.parametrize("users, field_suffix, expected_in_problem", [
    ([], "enabled_for_users", "empty"),
    ("alice", "enabled_for_users", "list of user IDs"),
    (["alice", "alice"], "enabled_for_users[1]", "twice"),
    (["al ice"], "enabled_for_users[0]", "cannot be matched safely"),
    (['a"b'], "enabled_for_users[0]", "cannot be matched safely"),
    (["a,b"], "enabled_for_users[0]", "cannot be matched safely"),
    (["a=b"], "enabled_for_users[0]", "cannot be matched safely"),
    ([42], "enabled_for_users[0]", "user ID string"),
    ([f"user-{i:0120d}" for i in range(130)], "enabled_for_users", "16384"),
])
def test_invalid_user_lists(users: object, field_suffix: str, expected_in_problem: str) -> None:
    error = error_for(with_flag(default=False, enabled_for_users=users))
    assert error.field == f"feature_flags.auth.flags[0].{field_suffix}"
    assert expected_in_problem in error.problem


def test_duplicate_flags() -> None:
    section = {"auth": {"flags": [{"key": "a", "description": "first"}, {"key": "b", "description": "b"},
                                  {"key": "a", "description": "again"}]}}
    error = error_for(section)
    assert error.field == "feature_flags.auth.flags[2].key"
    assert "already declared at flags[0]" in error.problem


def test_unknown_domain() -> None:
    error = error_for({"auht": {"flags": []}})
    assert error.field == "feature_flags.auht"
    assert "unknown domain" in error.problem
    assert "did you mean `auth`" in error.fix


@pytest.mark.parametrize("rollout, field, expected_in_problem", [
    ({"duration_minutes": 1441}, "duration_minutes", "0..1440"),
    ({"duration_minutes": -1}, "duration_minutes", "0..1440"),
    ({"final_bake_minutes": 1441}, "final_bake_minutes", "0..1440"),
    ({"final_bake_minutes": -5}, "final_bake_minutes", "0..1440"),
    ({"growth_factor": 0.5}, "growth_factor", "1..100"),
    ({"growth_factor": 0}, "growth_factor", "1..100"),
    ({"growth_factor": 100.5}, "growth_factor", "1..100"),
    ({"growth_factor": float("nan")}, "growth_factor", "expected a number"),
    ({"duration_minutes": 10.5}, "duration_minutes", "whole number"),
    ({"duration_minutes": True}, "duration_minutes", "whole number"),
    ({"growth_factor": "20%"}, "growth_factor", "expected a number"),
    ({"growth_type": "CANARY"}, "growth_type", "not a growth type"),
    ({"growth_type": 1}, "growth_type", "not a growth type"),
])
def test_rollout_numbers_outside_appconfig_ranges(rollout: dict[str, Any], field: str,
                                                  expected_in_problem: str) -> None:
    error = error_for({"auth": {"rollout": rollout}})
    assert error.field == f"feature_flags.auth.rollout.{field}"
    assert expected_in_problem in error.problem


@pytest.mark.parametrize("section, field, expected_in_fix", [
    ({"auth": {"flagz": []}}, "feature_flags.auth.flagz", "did you mean `flags`"),
    ({"auth": {"rollout": {"bake_minutes": 3}}}, "feature_flags.auth.rollout.bake_minutes", "final_bake_minutes"),
    (with_flag(enabled_for_user=["a"]), "feature_flags.auth.flags[0].enabled_for_user",
     "did you mean `enabled_for_users`"),
    (with_flag(name="x"), "feature_flags.auth.flags[0].name", "allowed keys"),
])
def test_unknown_keys(section: dict[str, Any], field: str, expected_in_fix: str) -> None:
    error = error_for(section)
    assert error.field == field
    assert error.problem == "unknown key"
    assert expected_in_fix in error.fix


@pytest.mark.parametrize("section, field, expected_in_problem", [
    (["auth"], "feature_flags", "expected a mapping"),
    ({"auth": ["flags"]}, "feature_flags.auth", "expected a mapping"),
    ({"auth": {"flags": {"key": "a"}}}, "feature_flags.auth.flags", "list of flags"),
    ({"auth": {"flags": ["new_login"]}}, "feature_flags.auth.flags[0]", "expected a mapping"),
    ({"auth": {"flags": [None]}}, "feature_flags.auth.flags[0]", "empty flag entry"),
    ({"auth": {"rollout": 5}}, "feature_flags.auth.rollout", "expected a mapping"),
    ({1: {}}, "feature_flags", "not a string"),
    (with_flag(key=7), "feature_flags.auth.flags[0].key", "must be a string"),
    (with_flag(description=["x"]), "feature_flags.auth.flags[0].description", "expected a string"),
    (with_flag(description="  "), "feature_flags.auth.flags[0].description", "empty"),
    (with_flag(description="d" * 1025), "feature_flags.auth.flags[0].description", "1025 characters"),
    (with_flag(default="yes"), "feature_flags.auth.flags[0].default", "expected true/false"),
    (with_flag(default=1), "feature_flags.auth.flags[0].default", "expected true/false"),
    (with_flag(attributes=["a"]), "feature_flags.auth.flags[0].attributes", "expected a mapping"),
    ({"auth": {"flags": [{"description": "no key"}]}}, "feature_flags.auth.flags[0].key", "required"),
])
def test_wrong_types(section: object, field: str, expected_in_problem: str) -> None:
    error = error_for(section)
    assert error.field == field
    assert expected_in_problem in error.problem
    assert str(error).startswith(f"{SOURCE}: {field}: ")


# ---------------------------------------------------------------------------------------------
# Specs built in code follow the same rules (ValueError: there is no config file to name)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [
    lambda: FeatureFlagSpec(key="Bad", description="x"),
    lambda: FeatureFlagSpec(key="ok", description=""),
    lambda: FeatureFlagSpec(key="ok", description="x", attributes={f"a{i}": 1 for i in range(26)}),
    lambda: FeatureFlagSpec(key="ok", description="x", attributes={"enabled": True}),
    lambda: FeatureFlagSpec(key="ok", description="x", default_enabled=True,
                            targeting=FlagTargeting(enabled_for_user_ids=("alice",))),
    lambda: FeatureFlagSpec(key="ok", description="x", default_enabled="no"),  # type: ignore[arg-type]
    lambda: FlagTargeting(enabled_for_user_ids=()),
    lambda: FlagTargeting(enabled_for_user_ids=("a b",)),
    lambda: FlagRolloutSpec(duration_minutes=2000),
    lambda: FlagRolloutSpec(growth_factor=0.1),
    lambda: FlagRolloutSpec(growth_type="LINEAR"),  # type: ignore[arg-type]
    lambda: DomainFlagsSpec(flags=(FeatureFlagSpec(key="a", description="x"), FeatureFlagSpec(key="a", description="y"))),
    lambda: DomainFlagsSpec(flags=("a",)),  # type: ignore[arg-type]
])
def test_specs_built_in_code_check_the_same_rules(build: Any) -> None:
    with pytest.raises(ValueError):
        build()


def test_parsing_needs_no_aws_cdk() -> None:
    """The config loader and the flag client can import this package without aws-cdk-lib."""
    code = ("import sys; import bluegreen.feature_flags as f; from bluegreen.feature_flags.sdk import bluegreen_flags; "
            "f.parse_feature_flags({}, source='x', known_domains=set()); "
            "assert 'aws_cdk' not in sys.modules, 'aws_cdk imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**6, max_value=10**6),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                     st.sampled_from(["auth", "flags", "rollout", "key", "description", "default", "attributes",
                                      "enabled_for_users", "LINEAR", "enabled", "new_login", "alice"]))
_json_like = st.recursive(
    _scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(
                                   ["auth", "flags", "rollout", "key", "description", "default", "attributes",
                                    "enabled_for_users", "growth_type", "duration_minutes", "growth_factor",
                                    "final_bake_minutes"]), st.integers()), children, max_size=5)),
    max_leaves=25,
)


@st.composite
def mutated_valid_sections(draw: st.DrawFn) -> dict[str, Any]:
    """A valid section with one random part replaced by random JSON-like data."""
    section = valid_section()
    paths: list[tuple[Any, Any]] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((node, key))
                collect(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                paths.append((node, index))
                collect(value)

    collect(section)
    parent, key = draw(st.sampled_from(paths))
    parent[key] = draw(_json_like)
    return section


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_json_like, mutated_valid_sections()))
def test_parser_raises_nothing_but_config_error(raw: object) -> None:
    try:
        result = parse(raw)
    except ConfigError as error:
        assert error.source == SOURCE and error.field and error.problem and error.fix
        return
    assert all(isinstance(spec, DomainFlagsSpec) for spec in result.values())


_keys = st.from_regex(r"[a-z][a-zA-Z0-9_-]{0,63}", fullmatch=True)
_user_ids = st.from_regex(r"[A-Za-z0-9._@:+-]{1,40}", fullmatch=True)
_values = st.one_of(st.text(max_size=50), st.booleans(), st.integers(-10**9, 10**9),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.lists(st.text(max_size=10), min_size=1, max_size=4),
                    st.lists(st.integers(-1000, 1000), min_size=1, max_size=4))


@st.composite
def valid_flags(draw: st.DrawFn) -> dict[str, Any]:
    flag: dict[str, Any] = {"key": draw(_keys), "description": draw(st.text(min_size=1, max_size=40).filter(str.strip))}
    attribute_names = draw(st.lists(_keys.filter(lambda k: k != "enabled"), max_size=25, unique=True))
    if attribute_names:
        flag["attributes"] = {name: draw(_values) for name in attribute_names}
    if draw(st.booleans()):
        flag["default"] = False
        flag["enabled_for_users"] = draw(st.lists(_user_ids, min_size=1, max_size=5, unique=True))
    elif draw(st.booleans()):
        flag["default"] = draw(st.booleans())
    return flag


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flags=st.lists(valid_flags(), max_size=4, unique_by=lambda f: f["key"]))
def test_every_valid_section_renders_content_appconfig_accepts(flags: list[dict[str, Any]], appconfig_rules: Any) -> None:
    spec = parse({"order": {"flags": flags}})["order"]
    document = feature_flags_document(spec)
    errors = sorted(appconfig_rules.iter_errors(document), key=str)
    assert not errors, errors[0].message
    assert list(document["values"]) == [flag["key"] for flag in flags]
