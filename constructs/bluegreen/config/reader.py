"""Strict reading of one mapping of raw config: known keys only, typed values, dotted field paths."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from bluegreen.config.errors import ConfigError

T = TypeVar("T")
_MISSING = object()

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

    def _take(self, key: str, expected: type, default: object) -> Any:
        self._known.append(key)
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
        value = self._take(key, int, default)
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
        items = self.take_list(key, [])
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise self.error_at(f"{self.field(key)}[{index}]", f"expected a string, got {_describe(item)}",
                                    "quote the value")
        return tuple(items)

    def take_str_map(self, key: str) -> dict[str, str]:
        sub = self.take_section(key)
        result = {}
        for name in sorted(sub.remaining_keys()):
            value = sub._raw.pop(name)
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise sub.error(name, f"expected a string, got {_describe(value)}", "quote the value")
            result[str(name)] = str(value)
        return result

    def take_section(self, key: str) -> "Section":
        self._known.append(key)
        return Section(self._raw.pop(key, None), source=self.source, path=self.field(key))

    def take_choice(self, key: str, choices: tuple[str, ...], default: object = _MISSING) -> Any:
        value = self.take_str(key, default)
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
            known = ", ".join(sorted(set(self._known))) or "(none)"
            raise self.error(unknown[0], "unknown key", f"remove it or use one of: {known}")


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
