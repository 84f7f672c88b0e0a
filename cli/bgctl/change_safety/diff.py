"""Pure helpers over template values: which property paths differ, and which resources a value references.

A path is the property names and list indexes below `Properties`, joined with `/`
(`DefaultActions/0/ForwardConfig/TargetGroupStickinessConfig/DurationSeconds`). An intrinsic function
(`Ref`, `Fn::*`) is one value: a changed `Fn::Join` is reported at the path that holds it.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterator

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def is_intrinsic(value: Any) -> bool:
    """`{"Ref": ...}` or `{"Fn::...": ...}`: one value, resolved by CloudFormation at deploy time."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::"))


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Every path whose value differs between `old` and `new` (a missing side counts as a difference)."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict) and not is_intrinsic(old) and not is_intrinsic(new):
        found: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}/{key}" if prefix else str(key)
            if key not in old or key not in new:
                found.append(path)
            else:
                found.extend(changed_paths(old[key], new[key], path))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        found = []
        for index, (a, b) in enumerate(zip(old, new)):
            found.extend(changed_paths(a, b, f"{prefix}/{index}" if prefix else str(index)))
        return found
    return [prefix]


def references(value: Any) -> set[str]:
    """Logical ids that `value` names through Ref, Fn::GetAtt or Fn::Sub (pseudo parameters excluded)."""
    found: set[str] = set()
    for node in _walk(value):
        if not isinstance(node, dict) or len(node) != 1:
            continue
        ((key, argument),) = node.items()
        if key == "Ref" and isinstance(argument, str):
            found.add(argument)
        elif key == "Fn::GetAtt":
            if isinstance(argument, list) and argument and isinstance(argument[0], str):
                found.add(argument[0])
            elif isinstance(argument, str):
                found.add(argument.split(".", 1)[0])
        elif key == "Fn::Sub":
            text, local = (argument, {}) if isinstance(argument, str) else (
                (argument[0], argument[1] if len(argument) > 1 and isinstance(argument[1], dict) else {})
                if isinstance(argument, list) and argument and isinstance(argument[0], str) else ("", {}))
            for variable in _SUB_VARIABLE.findall(text):
                name = variable.split(".", 1)[0]
                if name not in local:
                    found.add(name)
    return {name for name in found if not name.startswith("AWS::")}


def paths_where(value: Any, hit: Callable[[Any], bool], prefix: str = "") -> list[str]:
    """Paths (as `changed_paths` would name them) whose value satisfies `hit` (an intrinsic or a scalar)."""
    if isinstance(value, dict) and not is_intrinsic(value):
        found: list[str] = []
        for key in sorted(value, key=str):
            found.extend(paths_where(value[key], hit, f"{prefix}/{key}" if prefix else str(key)))
        return found
    if isinstance(value, list):
        found = []
        for index, item in enumerate(value):
            found.extend(paths_where(item, hit, f"{prefix}/{index}" if prefix else str(index)))
        return found
    return [prefix] if hit(value) else []


def imports(value: Any) -> Iterator[Any]:
    """The arguments of every Fn::ImportValue in `value`."""
    for node in _walk(value):
        if isinstance(node, dict) and len(node) == 1 and "Fn::ImportValue" in node:
            yield node["Fn::ImportValue"]


def stack_outputs_read(value: Any) -> Iterator[dict[str, Any]]:
    """The arguments of every Fn::GetStackOutput in `value` ({StackName, OutputName, ...})."""
    for node in _walk(value):
        if isinstance(node, dict) and len(node) == 1 and isinstance(node.get("Fn::GetStackOutput"), dict):
            yield node["Fn::GetStackOutput"]


def is_literal(value: Any) -> bool:
    """A value fixed at synth time: plain data, or Fn::Join / Fn::Sub of plain data and pseudo parameters."""
    if isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, list):
        return all(is_literal(item) for item in value)
    if isinstance(value, dict):
        if is_intrinsic(value):
            ((key, argument),) = value.items()
            if key == "Ref":
                return isinstance(argument, str) and argument.startswith("AWS::")
            if key in ("Fn::Join", "Fn::Sub", "Fn::Select"):
                return not references(value) and is_literal(argument)
            return False
        return all(is_literal(item) for item in value.values())
    return value is None


def _walk(value: Any) -> Iterator[Any]:
    stack = [value]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
