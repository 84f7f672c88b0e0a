"""CloudFormation's update behaviour per resource type, from the vendored resource-schema extract.

`createOnlyProperties` in a resource schema are the properties whose change makes CloudFormation replace
the resource (create the new one, then delete the old); `conditionalCreateOnlyProperties` may do so.
`create_only_properties.json` holds both lists for every type this project synthesizes, extracted from the
provider schemas bundled with cfn-lint by `python -m bgctl.change_safety.refresh_schemas`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

DATA_FILE = Path(__file__).with_name("create_only_properties.json")
CUSTOM_RESOURCE_TYPE = "AWS::CloudFormation::CustomResource"
_MISSING = object()


@dataclass(frozen=True)
class ResourceSchema:
    type_name: str  # the schema's type (Custom::X resources use AWS::CloudFormation::CustomResource)
    create_only: tuple[str, ...]  # JSON pointers, "/properties/Name"
    conditional_create_only: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemaData:
    source: str
    types: dict[str, ResourceSchema]


def schema_type(type_name: str) -> str:
    """The schema that governs `type_name`: every `Custom::X` is an AWS::CloudFormation::CustomResource."""
    return CUSTOM_RESOURCE_TYPE if type_name.startswith("Custom::") else type_name


@lru_cache(maxsize=1)
def load() -> SchemaData:
    return parse(json.loads(DATA_FILE.read_text(encoding="utf-8")))


def parse(data: dict[str, Any]) -> SchemaData:
    types = {name: ResourceSchema(type_name=name, create_only=tuple(entry.get("createOnlyProperties", ())),
                                  conditional_create_only=tuple(entry.get("conditionalCreateOnlyProperties", ())))
             for name, entry in data["types"].items()}
    return SchemaData(source=str(data.get("source", "")), types=types)


def schema_for(type_name: str, data: SchemaData | None = None) -> ResourceSchema | None:
    return (data or load()).types.get(schema_type(type_name))


def property_name(pointer: str) -> str:
    """`/properties/HealthCheck/Path` -> `HealthCheck/Path` (the path style of the report)."""
    return pointer.removeprefix("/properties/")


def differing_pointers(pointers: Iterable[str], old: Any, new: Any, dynamic_paths: Iterable[str] = ()) -> list[str]:
    """The pointers whose value differs between the old and new `Properties`, or which hold (or lie under)
    a path whose deploy-time value changes (`dynamic_paths`: a Ref/GetAtt of a replaced resource)."""
    dynamic = [tuple(path.split("/")) for path in dynamic_paths]
    found = []
    for pointer in pointers:
        segments = tuple(property_name(pointer).split("/"))
        if _value_at(old, segments) != _value_at(new, segments) or any(
                _overlaps(segments, path) for path in dynamic):
            found.append(pointer)
    return found


def _value_at(value: Any, segments: tuple[str, ...]) -> Any:
    for index, segment in enumerate(segments):
        if segment == "*" and isinstance(value, list):
            return [_value_at(item, segments[index + 1:]) for item in value]
        if isinstance(value, dict) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return _MISSING
    return value


def _overlaps(pointer: tuple[str, ...], path: tuple[str, ...]) -> bool:
    """One is a prefix of the other (`*` in the pointer matches any list index)."""
    return all(a == b or (a == "*" and b.isdigit()) for a, b in zip(pointer, path))
