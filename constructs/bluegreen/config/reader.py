"""Strict reading of one mapping of raw config: known keys only, typed values, dotted field paths."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from bluegreen.config.errors import ConfigError

T = TypeVar("T")
_MISSING = object()


@dataclass(frozen=True)
class KeyRecord:
    """One key as the reader consumed it: what `docs/configuration.md` is generated from."""

    path: str  # normalized: domains.<domain>.port, domains.<domain>.smoke_checks[].path, ...
    type: str
    default: str  # "required", "unset" or the JSON-ish default the reader used
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()


# While a list is installed here (bluegreen.config.reference does it), every key the reader takes is recorded.
_recording: list[KeyRecord] | None = None
_USER_NAMED = (("domains.", "<domain>"), ("alb_groups.", "<group>"))


def record_keys(into: list[KeyRecord] | None) -> None:
    global _recording
    _recording = into


def normalized(path: str) -> str:
    path = re.sub(r"\[\d+\]", "[]", path)
    for prefix, placeholder in _USER_NAMED:
        if path.startswith(prefix):
            rest = path[len(prefix):]
            tail = re.split(r"(?=[.\[])", rest, maxsplit=1)
            path = prefix + placeholder + (tail[1] if len(tail) > 1 else "")
    return path


def _default_text(default: object) -> str:
    if default is _MISSING:
        return "required"
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, (list, tuple)):
        return "[]" if not default else repr(list(default))
    return str(default)

_TYPE_NAMES = {bool: "true/false", int: "an integer", float: "a number", str: "a string",
               list: "a list", dict: "a mapping"}


class Section:
    """Wraps a raw mapping; every `take_*` consumes a key, `done()` rejects leftovers."""

    def __init__(self, raw: object, *, source: str, path: str) -> None:
        self.source = source
        self.path = path
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise self.error_at(path or "(top level)", f"expected a mapping, got {_describe(raw)}",
                                "write key: value pairs here")
        self._raw: dict[str, Any] = dict(raw)
        self._known: list[str] = []

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, problem: str, fix: str) -> ConfigError:
        return self.error_at(self.field(key), problem, fix)

    def error_at(self, field: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(source=self.source, field=field, problem=problem, fix=fix)

    def _record(self, key: str, type_name: str, default: object, minimum: int | None = None,
                maximum: int | None = None, choices: tuple[str, ...] = ()) -> None:
        if _recording is not None:
            _recording.append(KeyRecord(path=normalized(self.field(key)), type=type_name,
                                        default=_default_text(default), minimum=minimum, maximum=maximum,
                                        choices=choices))

    def _take(self, key: str, expected: type, default: object, *, minimum: int | None = None,
              maximum: int | None = None, choices: tuple[str, ...] = ()) -> Any:
        self._known.append(key)
        self._record(key, _TYPE_NAMES[expected], default, minimum, maximum, choices)
        value = self._raw.pop(key, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                raise self.error(key, "is required", f"add `{key}: <{_TYPE_NAMES[expected]}>`")
            return default
        ok = isinstance(value, expected) and not (expected in (int, float) and isinstance(value, bool))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise self.error(key, f"expected {_TYPE_NAMES[expected]}, got {_describe(value)}",
                             f"write {key} as {_TYPE_NAMES[expected]}")
        return value

    def take_str(self, key: str, default: object = _MISSING) -> Any:
        return self._take(key, str, default)

    def take_int(self, key: str, default: object = _MISSING, *, minimum: int | None = None,
                 maximum: int | None = None) -> Any:
        value = self._take(key, int, default, minimum=minimum, maximum=maximum)
        if isinstance(value, int) and not isinstance(value, bool):
            if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
                raise self.error(key, f"{value} is outside the allowed range {minimum}..{maximum}",
                                 f"use a value between {minimum} and {maximum}")
        return value

    def take_float(self, key: str, default: object = _MISSING) -> Any:
        return self._take(key, float, default)

    def take_bool(self, key: str, default: object = _MISSING) -> Any:
        return self._take(key, bool, default)

    def take_list(self, key: str, default: object = _MISSING) -> Any:
        return self._take(key, list, default)

    def take_str_list(self, key: str) -> tuple[str, ...]:
        items = self._take(key, list, [])
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise self.error_at(f"{self.field(key)}[{index}]", f"expected a string, got {_describe(item)}",
                                    "quote the value")
        return tuple(items)

    def take_str_map(self, key: str) -> dict[str, str]:
        self._record(key, "a mapping of strings", {})
        sub = self._section(key)
        result = {}
        for name in sorted(sub.remaining_keys()):
            value = sub._raw.pop(name)
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise sub.error(name, f"expected a string, got {_describe(value)}", "quote the value")
            result[str(name)] = str(value)
        return result

    def take_section(self, key: str) -> "Section":
        self._record(key, "a mapping", {})
        return self._section(key)

    def _section(self, key: str) -> "Section":
        self._known.append(key)
        return Section(self._raw.pop(key, None), source=self.source, path=self.field(key))

    def take_choice(self, key: str, choices: tuple[str, ...], default: object = _MISSING) -> Any:
        value = self._take(key, str, default, choices=tuple(choices))
        if value not in choices:
            raise self.error(key, f"{value!r} is not one of {', '.join(choices)}", f"use one of {', '.join(choices)}")
        return value

    def remaining_keys(self) -> list[str]:
        return [str(k) for k in self._raw]

    def items(self) -> list[tuple[str, Any]]:
        """Consume every remaining entry (for mappings keyed by user-chosen names)."""
        entries = [(k, self._raw[k]) for k in self._raw]
        self._raw.clear()
        for key, _ in entries:
            if not isinstance(key, str):
                raise self.error_at(self.path, f"key {key!r} is not a string", "use a plain name as the key")
        return entries

    def done(self) -> None:
        if self._raw:
            unknown = sorted(str(k) for k in self._raw)
            known = sorted(set(self._known))
            close = difflib.get_close_matches(unknown[0], known, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`? " if close else ""
            raise self.error(unknown[0], "unknown key",
                             f"{hint}remove it or use one of: {', '.join(known) or '(none)'}")


def parse_each(items: list[Any], parse: Callable[[int, Any], T]) -> tuple[T, ...]:
    return tuple(parse(index, item) for index, item in enumerate(items))


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {value}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
