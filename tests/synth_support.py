"""Synthesize apps for tests the same way `cdk synth` does (cdk.json context, nag packs on)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from bluegreen.config.loader import load_config, parse_config
from bluegreen.config.model import PlatformConfig

REPO_ROOT = Path(__file__).resolve().parents[1]
_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def cdk_json_context() -> dict[str, Any]:
    return json.loads((REPO_ROOT / "cdk.json").read_text())["context"]


@dataclass(frozen=True)
class Synthesized:
    config: PlatformConfig
    templates: dict[str, dict]  # stack name -> template
    outdir: Path
    built: Any  # stacks.app_builder.BuiltApp (constructs, for attribute checks)

    def template(self, suffix: str) -> dict:
        matches = [name for name in self.templates if name.endswith(suffix)]
        assert len(matches) == 1, f"{suffix!r} matches {matches}"
        return self.templates[matches[0]]


def synth(config: PlatformConfig, outdir: Path, *, nag: bool = True, validation: bool = True) -> Synthesized:
    """`validation` is the CDK's built-in CloudFormation validation (5-7 s to start per process; cfn-lint runs
    in tests/stacks either way)."""
    from stacks.app_builder import build_app

    app = cdk.App(outdir=str(outdir), context=cdk_json_context(), builtin_cloud_formation_validation=validation)
    built = build_app(config, app=app, nag=nag)
    assembly = app.synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    return Synthesized(config=config, templates=templates, outdir=outdir, built=built)


def synth_default(outdir: Path, *, nag: bool = True, validation: bool = True) -> Synthesized:
    return synth(load_config(None), outdir, nag=nag, validation=validation)


def synth_raw(raw: dict, outdir: Path, source: str = "test config") -> Synthesized:
    return synth(parse_config(raw, source=source), outdir)


def normalize(template: dict) -> dict:
    """Replace asset hashes so snapshots change only when the infrastructure does."""
    text = json.dumps(template, sort_keys=True)
    return json.loads(_ASSET_HASH.sub("<asset-hash>", text))


def resources_of_type(template: dict, type_name: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


def render(value: Any) -> str:
    """A CloudFormation string expression as text: `Fn::Join` joined, `{"Ref": X}` as `${X}`, `Fn::GetAtt` as
    `${X.Attr}` (so a JSON document built with tokens can be parsed and its values compared)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    # Any other intrinsic: a placeholder without double quotes, so a JSON document around it stays parseable.
    return "${" + json.dumps(value, sort_keys=True).replace('"', "'") + "}"


def ssm_parameters(template: dict) -> dict[str, str]:
    """SSM parameter name -> the template parameter (logical id) that reads it at deploy time."""
    return {p["Default"]: logical_id for logical_id, p in template.get("Parameters", {}).items()
            if str(p.get("Type", "")).startswith("AWS::SSM::Parameter::Value")}


def published_ref(template: dict, platform: str, key: str) -> dict:
    """`{"Ref": <parameter>}` of the published platform value `key` (see bluegreen.published)."""
    return {"Ref": ssm_parameters(template)[f"/{platform}/published/{key}"]}
