"""Read a cloud assembly (`cdk.out`): the manifest's CloudFormation stack artifacts and their templates."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"  # CDK stages write their stacks into a nested assembly

Template = Mapping[str, Any]


class AssemblyError(Exception):
    """An assembly that cannot be read; the message is one line naming the path and what to do."""


@dataclass(frozen=True)
class Assembly:
    path: str
    stacks: Mapping[str, Template]  # CloudFormation stack name -> template


def read_assembly(path: str | Path) -> Assembly:
    root = Path(path)
    if not root.is_dir():
        raise AssemblyError(f"{root}: no such directory (expected a cloud assembly such as cdk.out; "
                            "create one with `make synth`)")
    stacks: dict[str, Template] = {}
    _read_into(root, stacks, depth=0)
    return Assembly(path=str(root), stacks=stacks)


def _read_into(directory: Path, stacks: dict[str, Template], *, depth: int) -> None:
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise AssemblyError(f"{directory}: not a cloud assembly (no manifest.json); create one with `make synth` "
                            "or `cdk synth -o DIR`")
    manifest = _read_json(manifest_path)
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    if not isinstance(artifacts, dict):
        raise AssemblyError(f"{manifest_path}: not a cloud assembly manifest (no \"artifacts\" object)")
    for artifact_id, artifact in sorted(artifacts.items()):
        kind = artifact.get("type") if isinstance(artifact, dict) else None
        properties = (artifact.get("properties") or {}) if isinstance(artifact, dict) else {}
        if kind == STACK_ARTIFACT:
            template_file = properties.get("templateFile")
            if not isinstance(template_file, str):
                raise AssemblyError(f"{manifest_path}: stack artifact {artifact_id} has no templateFile")
            name = properties.get("stackName") or artifact_id
            if name in stacks:
                raise AssemblyError(f"{manifest_path}: two stack artifacts are named {name}")
            template = _read_json(directory / template_file)
            if not isinstance(template, dict) or not isinstance(template.get("Resources", {}), dict):
                raise AssemblyError(f"{directory / template_file}: not a CloudFormation template (no Resources object)")
            stacks[name] = template
        elif kind == NESTED_ASSEMBLY_ARTIFACT and depth < 5 and isinstance(properties.get("directoryName"), str):
            _read_into(directory / properties["directoryName"], stacks, depth=depth + 1)


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AssemblyError(f"{path}: file named in the manifest is missing (incomplete synth?)") from None
    except OSError as error:
        raise AssemblyError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise AssemblyError(f"{path}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
