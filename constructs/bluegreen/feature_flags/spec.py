"""Typed feature-flag specs and the parser for the `feature_flags:` config section.

The rules mirror AWS AppConfig's `AWS.AppConfig.FeatureFlags` type reference, so a bad flag fails
at `cdk synth` with a `ConfigError` instead of at CloudFormation deploy time:

- flag keys and attribute names: `^[a-z][a-zA-Z0-9_-]{0,63}$` (1..64 characters);
- at most 25 attributes per flag; `enabled` is reserved (it is the flag's own on/off value);
- attribute values: string (<= 1024 characters), number, boolean, or a non-empty list of only
  strings or only numbers (AppConfig accepts no booleans or mixed types inside lists);
- descriptions <= 1024 characters; a variant rule <= 16384 characters;
- deployment strategy: duration 0..1440 min, growth factor 1..100 %, final bake 0..1440 min.

Specs are frozen and re-check their own invariants, so a domain team that builds a spec in code
gets the same rules (as `ValueError`) as one that writes YAML (as `ConfigError`).
"""
from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Mapping, Union

from bluegreen.config.errors import ConfigError

FLAG_KEY_RE = re.compile(r"[a-z][a-zA-Z0-9_-]{0,63}", re.ASCII)
FLAG_KEY_RULE = "a lower-case letter, then up to 63 letters, digits, '_' or '-' (AppConfig flag key rule)"
USER_ID_RE = re.compile(r"[A-Za-z0-9._@:+-]{1,128}", re.ASCII)
USER_ID_RULE = "1..128 characters from letters, digits and . _ @ : + - (no quotes, commas, '=' or spaces)"

MAX_ATTRIBUTES_PER_FLAG = 25
MAX_STRING_LENGTH = 1024
MAX_DESCRIPTION_LENGTH = 1024
MAX_RULE_LENGTH = 16384
RESERVED_ATTRIBUTE_NAMES = frozenset({"enabled"})
MAX_DURATION_MINUTES = 1440
MAX_BAKE_MINUTES = 1440
MIN_GROWTH_FACTOR = 1.0
MAX_GROWTH_FACTOR = 100.0

Scalar = Union[str, int, float, bool]
AttributeValue = Union[str, int, float, bool, tuple[str, ...], tuple[Union[int, float], ...]]


class GrowthType(str, Enum):
    """How AppConfig grows the share of targets that receive a new flag version."""

    LINEAR = "LINEAR"
    EXPONENTIAL = "EXPONENTIAL"


class _Invalid(Exception):
    """A broken rule, before it knows its config file and field path."""

    def __init__(self, sub_field: str, problem: str, fix: str) -> None:
        super().__init__(f"{sub_field}: {problem}. Fix: {fix}" if sub_field else f"{problem}. Fix: {fix}")
        self.sub_field = sub_field
        self.problem = problem
        self.fix = fix


# ---------------------------------------------------------------------------------------------
# Rules shared by the dataclasses (ValueError) and the parser (ConfigError)
# ---------------------------------------------------------------------------------------------

def _check_key(key: object, what: str, sub_field: str = "") -> str:
    if not isinstance(key, str):
        raise _Invalid(sub_field, f"{what} must be a string, got {_describe(key)}", f"write the {what} as text")
    if not FLAG_KEY_RE.fullmatch(key):
        raise _Invalid(sub_field, f"{what} {key!r} is not valid in AppConfig", f"use {FLAG_KEY_RULE}")
    return key


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int beyond the double range
        return False


def _check_number(value: object, sub_field: str) -> int | float:
    if not _is_finite(value):  # type: ignore[arg-type]
        raise _Invalid(sub_field, f"{value} is not a finite number", "use a finite number (JSON has no NaN/Infinity)")
    return value  # type: ignore[return-value]


def _check_attribute_value(value: object, sub_field: str) -> AttributeValue:
    if isinstance(value, str):
        if len(value) > MAX_STRING_LENGTH:
            raise _Invalid(sub_field, f"string is {len(value)} characters long, AppConfig allows {MAX_STRING_LENGTH}",
                           "shorten it or keep large data outside feature flags")
        return value
    if isinstance(value, bool):
        return value
    if _is_number(value):
        return _check_number(value, sub_field)
    if isinstance(value, (list, tuple)):
        if not value:
            raise _Invalid(sub_field, "an empty list is ambiguous for AppConfig (string list or number list?)",
                           "give at least one element or remove the attribute")
        if all(isinstance(item, str) for item in value):
            for index, item in enumerate(value):
                if len(item) > MAX_STRING_LENGTH:
                    raise _Invalid(f"{sub_field}[{index}]", f"string is {len(item)} characters long, "
                                   f"AppConfig allows {MAX_STRING_LENGTH}", "shorten it")
            return tuple(value)
        if all(_is_number(item) for item in value):
            return tuple(_check_number(item, f"{sub_field}[{index}]") for index, item in enumerate(value))
        raise _Invalid(sub_field, "a list must hold only strings or only numbers (AppConfig has no boolean, "
                       "mixed or nested lists)", "split it into separate attributes or quote every element")
    raise _Invalid(sub_field, f"expected a string, number, boolean or list, got {_describe(value)}",
                   "use a plain value; AppConfig flag attributes cannot be mappings")


def _check_attributes(attributes: Mapping[object, object], sub_field: str) -> dict[str, AttributeValue]:
    if len(attributes) > MAX_ATTRIBUTES_PER_FLAG:
        raise _Invalid(sub_field, f"{len(attributes)} attributes, AppConfig allows {MAX_ATTRIBUTES_PER_FLAG} per flag",
                       "move some settings to another flag or to the service's own configuration")
    checked: dict[str, AttributeValue] = {}
    for name, value in attributes.items():
        where = f"{sub_field}.{name}" if sub_field else str(name)
        _check_key(name, "attribute name", where)
        if name in RESERVED_ATTRIBUTE_NAMES:
            raise _Invalid(where, f"attribute name {name!r} is reserved for the flag's on/off value",
                           "rename the attribute (for example `is_active`) or use `default`")
        checked[str(name)] = _check_attribute_value(value, where)
    return checked


def targeting_rule(user_ids: tuple[str, ...]) -> str:
    """The AppConfig variant rule matching exactly these user IDs (context key `userId`)."""
    clauses = [f'(eq $userId "{user_id}")' for user_id in user_ids]
    return clauses[0] if len(clauses) == 1 else f"(or {' '.join(clauses)})"


def _check_user_ids(user_ids: object, sub_field: str) -> tuple[str, ...]:
    if not isinstance(user_ids, (list, tuple)):
        raise _Invalid(sub_field, f"expected a list of user IDs, got {_describe(user_ids)}", "write `[user-a, user-b]`")
    if not user_ids:
        raise _Invalid(sub_field, "the list is empty", "name at least one user or remove `enabled_for_users`")
    seen: set[str] = set()
    for index, user_id in enumerate(user_ids):
        where = f"{sub_field}[{index}]"
        if not isinstance(user_id, str):
            raise _Invalid(where, f"expected a user ID string, got {_describe(user_id)}", "quote the user ID")
        if not USER_ID_RE.fullmatch(user_id):
            raise _Invalid(where, f"user ID {user_id!r} cannot be matched safely by an AppConfig rule or sent in "
                           "the agent's `Context` header", f"use {USER_ID_RULE}")
        if user_id in seen:
            raise _Invalid(where, f"user ID {user_id!r} is listed twice", "list each user once")
        seen.add(user_id)
    ids = tuple(user_ids)
    rule = targeting_rule(ids)
    if len(rule) > MAX_RULE_LENGTH:
        raise _Invalid(sub_field, f"{len(ids)} users make a {len(rule)}-character rule, AppConfig allows "
                       f"{MAX_RULE_LENGTH}", "target fewer users, or release to everyone with `default: true`")
    return ids


def _check_description(description: object, sub_field: str) -> str:
    if not isinstance(description, str):
        raise _Invalid(sub_field, f"expected a string, got {_describe(description)}", "describe the flag in words")
    if not description.strip():
        raise _Invalid(sub_field, "is empty", "say what the flag turns on and who owns it")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise _Invalid(sub_field, f"is {len(description)} characters long, AppConfig allows {MAX_DESCRIPTION_LENGTH}",
                       "shorten it and link to the design doc instead")
    return description


def _check_rollout_numbers(duration_minutes: object, growth_factor: object, final_bake_minutes: object) -> None:
    for name, value, maximum in (("duration_minutes", duration_minutes, MAX_DURATION_MINUTES),
                                 ("final_bake_minutes", final_bake_minutes, MAX_BAKE_MINUTES)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Invalid(name, f"expected a whole number of minutes, got {_describe(value)}",
                           f"write {name} as an integer between 0 and {maximum}")
        if not 0 <= value <= maximum:
            raise _Invalid(name, f"{value} is outside AppConfig's range 0..{maximum}",
                           f"use a value between 0 and {maximum} minutes")
    if not _is_number(growth_factor) or not _is_finite(growth_factor):  # type: ignore[arg-type]
        raise _Invalid("growth_factor", f"expected a number, got {_describe(growth_factor)}",
                       "write growth_factor as a percentage between 1 and 100")
    if not MIN_GROWTH_FACTOR <= growth_factor <= MAX_GROWTH_FACTOR:  # type: ignore[operator]
        raise _Invalid("growth_factor", f"{growth_factor} is outside AppConfig's range 1..100 (percent)",
                       "use a percentage between 1 and 100")


def _as_value_error(invalid: _Invalid) -> ValueError:
    return ValueError(str(invalid))


# ---------------------------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlagTargeting:
    """Turn a flag on for these users only (an AppConfig multi-variant flag keyed on `userId`)."""

    enabled_for_user_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "enabled_for_user_ids", _check_user_ids(self.enabled_for_user_ids, ""))
        except _Invalid as invalid:
            raise _as_value_error(invalid) from None

    @property
    def rule(self) -> str:
        return targeting_rule(self.enabled_for_user_ids)


@dataclass(frozen=True)
class FeatureFlagSpec:
    """One flag: its key, what it is for, its default, optional attributes and optional user targeting.

    With `targeting`, `default_enabled` must be False: the flag is on for the listed users and off for
    everyone else. Releasing to everyone means `default_enabled=True` and no targeting.
    """

    key: str
    description: str
    default_enabled: bool = False
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict, hash=False)
    targeting: FlagTargeting | None = None

    def __post_init__(self) -> None:
        try:
            _check_key(self.key, "flag key", "key")
            _check_description(self.description, "description")
            if not isinstance(self.default_enabled, bool):
                raise _Invalid("default_enabled", f"expected true/false, got {_describe(self.default_enabled)}",
                               "use True or False")
            if not isinstance(self.attributes, Mapping):
                raise _Invalid("attributes", f"expected a mapping, got {_describe(self.attributes)}",
                               "pass a dict of name -> value")
            checked = _check_attributes(self.attributes, "attributes")
            if self.targeting is not None:
                if not isinstance(self.targeting, FlagTargeting):
                    raise _Invalid("targeting", f"expected FlagTargeting, got {_describe(self.targeting)}",
                                   "pass FlagTargeting(enabled_for_user_ids=(...))")
                if self.default_enabled:
                    raise _Invalid("default_enabled", "targeting chosen users has no effect when the flag is on for "
                                   "everyone", "keep default off while targeting users; drop the user list when "
                                   "releasing to everyone")
        except _Invalid as invalid:
            raise _as_value_error(invalid) from None
        object.__setattr__(self, "attributes", MappingProxyType(checked))

    def __copy__(self) -> "FeatureFlagSpec":
        return self  # immutable: copies may share (a mappingproxy cannot be deep-copied)

    def __deepcopy__(self, memo: dict[int, object]) -> "FeatureFlagSpec":
        return self


@dataclass(frozen=True)
class FlagRolloutSpec:
    """The AppConfig deployment strategy for a domain's flag changes.

    Default: linear, 20 % of targets per step over 10 minutes (5 steps of 2 minutes), then 10 minutes
    of bake during which the rollback alarms can still roll the change back.
    """

    growth_type: GrowthType = GrowthType.LINEAR
    duration_minutes: int = 10
    growth_factor: float = 20.0
    final_bake_minutes: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.growth_type, GrowthType):
            raise ValueError(f"growth_type: expected GrowthType, got {_describe(self.growth_type)}")
        try:
            _check_rollout_numbers(self.duration_minutes, self.growth_factor, self.final_bake_minutes)
        except _Invalid as invalid:
            raise _as_value_error(invalid) from None
        object.__setattr__(self, "growth_factor", float(self.growth_factor))

    @property
    def shape(self) -> str:
        """A name for this rollout made of its content (`linear-20pct-10m-bake10m`): the shared strategy of every
        domain with the same rollout, so adding a shape never renames another."""
        return (f"{self.growth_type.value.lower()}-{self.growth_factor:g}pct-{self.duration_minutes}m-"
                f"bake{self.final_bake_minutes}m").replace(".", "_")


@dataclass(frozen=True)
class DomainFlagsSpec:
    """Every flag of one domain plus how changes to them roll out."""

    flags: tuple[FeatureFlagSpec, ...] = ()
    rollout: FlagRolloutSpec = field(default_factory=FlagRolloutSpec)

    def __post_init__(self) -> None:
        flags = tuple(self.flags)
        seen: set[str] = set()
        for index, flag in enumerate(flags):
            if not isinstance(flag, FeatureFlagSpec):
                raise ValueError(f"flags[{index}]: expected FeatureFlagSpec, got {_describe(flag)}")
            if flag.key in seen:
                raise ValueError(f"flags[{index}]: flag key {flag.key!r} is declared twice")
            seen.add(flag.key)
        if not isinstance(self.rollout, FlagRolloutSpec):
            raise ValueError(f"rollout: expected FlagRolloutSpec, got {_describe(self.rollout)}")
        object.__setattr__(self, "flags", flags)

    def flag(self, key: str) -> FeatureFlagSpec:
        for flag in self.flags:
            if flag.key == key:
                return flag
        raise KeyError(key)


# ---------------------------------------------------------------------------------------------
# Parser for the raw `feature_flags:` section
# ---------------------------------------------------------------------------------------------

_DOMAIN_KEYS = ("rollout", "flags")
_ROLLOUT_KEYS = ("growth_type", "duration_minutes", "growth_factor", "final_bake_minutes")
_FLAG_KEYS = ("key", "description", "default", "attributes", "enabled_for_users")


class _Reader:
    """Error helper bound to one config file and one dotted field path."""

    def __init__(self, source: str, path: str) -> None:
        self.source = source
        self.path = path

    def at(self, sub: str) -> "_Reader":
        if not sub:
            return self
        joiner = "" if sub.startswith("[") else "."
        return _Reader(self.source, f"{self.path}{joiner}{sub}" if self.path else sub)

    def error(self, problem: str, fix: str) -> ConfigError:
        return ConfigError(source=self.source, field=self.path or "(top level)", problem=problem, fix=fix)

    def from_invalid(self, invalid: _Invalid) -> ConfigError:
        return self.at(invalid.sub_field).error(invalid.problem, invalid.fix)

    def mapping(self, raw: object, allowed: tuple[str, ...] | None) -> dict[str, object]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.error(f"expected a mapping, got {_describe(raw)}", "write `key: value` pairs here")
        for key in raw:
            if not isinstance(key, str):
                raise self.error(f"key {key!r} is not a string", "use a plain name as the key")
        if allowed is not None:
            for key in raw:
                if key not in allowed:
                    close = difflib.get_close_matches(key, allowed, n=1)
                    hint = f"did you mean `{close[0]}`? " if close else ""
                    raise self.at(key).error("unknown key", f"{hint}allowed keys: {', '.join(allowed)}")
        return dict(raw)


def parse_domain_flags(raw: object, *, source: str, field: str) -> DomainFlagsSpec:
    """Parse one domain's `{rollout: {...}, flags: [...]}` mapping found at `field` in `source`."""
    reader = _Reader(source, field)
    section = reader.mapping(raw, _DOMAIN_KEYS)
    rollout = _parse_rollout(section.get("rollout"), reader.at("rollout"))
    flags_raw = section.get("flags")
    flags_reader = reader.at("flags")
    if flags_raw is None:
        flags_raw = []
    if not isinstance(flags_raw, list):
        raise flags_reader.error(f"expected a list of flags, got {_describe(flags_raw)}",
                                 "write each flag as a `- key: ...` list item")
    flags: list[FeatureFlagSpec] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(flags_raw):
        flag = _parse_flag(item, flags_reader.at(f"[{index}]"))
        if flag.key in first_index:
            raise flags_reader.at(f"[{index}]").at("key").error(
                f"flag key {flag.key!r} is already declared at flags[{first_index[flag.key]}]",
                "give every flag a unique key (keys cannot be renamed later without a new flag)")
        first_index[flag.key] = index
        flags.append(flag)
    return DomainFlagsSpec(flags=tuple(flags), rollout=rollout)


def parse_feature_flags(raw: object, *, source: str, known_domains: set[str]) -> dict[str, DomainFlagsSpec]:
    """Parse the top-level `feature_flags: {<domain>: {...}}` section (None or absent -> no flags)."""
    reader = _Reader(source, "feature_flags")
    section = reader.mapping(raw, None)
    result: dict[str, DomainFlagsSpec] = {}
    for domain, value in section.items():
        if domain not in known_domains:
            close = difflib.get_close_matches(domain, sorted(known_domains), n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            known = ", ".join(sorted(known_domains)) or "(none declared)"
            raise reader.at(domain).error(f"unknown domain {domain!r}",
                                          f"{hint}declare it under `domains:` or use one of: {known}")
        result[domain] = parse_domain_flags(value, source=source, field=f"feature_flags.{domain}")
    return result


def _parse_rollout(raw: object, reader: _Reader) -> FlagRolloutSpec:
    section = reader.mapping(raw, _ROLLOUT_KEYS)
    defaults = FlagRolloutSpec()
    growth_raw = section.get("growth_type", defaults.growth_type.value)
    if not isinstance(growth_raw, str) or growth_raw.upper() not in GrowthType.__members__:
        raise reader.at("growth_type").error(f"{_describe(growth_raw)} is not a growth type",
                                             "use LINEAR or EXPONENTIAL")
    duration = section.get("duration_minutes", defaults.duration_minutes)
    factor = section.get("growth_factor", defaults.growth_factor)
    bake = section.get("final_bake_minutes", defaults.final_bake_minutes)
    try:
        _check_rollout_numbers(duration, factor, bake)
    except _Invalid as invalid:
        raise reader.from_invalid(invalid) from None
    return FlagRolloutSpec(growth_type=GrowthType[growth_raw.upper()], duration_minutes=duration,  # type: ignore[arg-type]
                           growth_factor=float(factor), final_bake_minutes=bake)  # type: ignore[arg-type]


def _parse_flag(raw: object, reader: _Reader) -> FeatureFlagSpec:
    if raw is None:
        raise reader.error("empty flag entry", "write `- key: my_flag` with a description")
    section = reader.mapping(raw, _FLAG_KEYS)
    for required in ("key", "description"):
        if required not in section or section[required] is None:
            raise reader.at(required).error("is required", f"add `{required}: ...` to the flag")
    try:
        key = _check_key(section["key"], "flag key", "key")
        description = _check_description(section["description"], "description")
        attributes_raw = section.get("attributes")
        attributes: dict[str, AttributeValue] = {}
        if attributes_raw is not None:
            if not isinstance(attributes_raw, dict):
                raise _Invalid("attributes", f"expected a mapping, got {_describe(attributes_raw)}",
                               "write attributes as `name: value` pairs")
            attributes = _check_attributes(attributes_raw, "attributes")
        users_raw = section.get("enabled_for_users")
        targeting = None
        has_default = "default" in section and section["default"] is not None
        default = section.get("default")
        if has_default and not isinstance(default, bool):
            raise _Invalid("default", f"expected true/false, got {_describe(default)}", "write `default: false` or "
                           "`default: true`")
        if users_raw is not None:
            user_ids = _check_user_ids(users_raw, "enabled_for_users")
            if not has_default:
                raise _Invalid("default", "is required when `enabled_for_users` is set", "add `default: false` so "
                               "everyone else is explicitly off")
            if default:
                raise _Invalid("default", "is true, so `enabled_for_users` would have no effect",
                               "use `default: false` while releasing to chosen users, or remove "
                               "`enabled_for_users` to release to everyone")
            targeting = FlagTargeting(enabled_for_user_ids=user_ids)
    except _Invalid as invalid:
        raise reader.from_invalid(invalid) from None
    return FeatureFlagSpec(key=key, description=description, default_enabled=bool(default), attributes=attributes,
                           targeting=targeting)


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {json.dumps(value[:40])}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (dict, Mapping)):
        return "a mapping"
    return type(value).__name__
