"""Regenerate `create_only_properties.json` from the CloudFormation provider schemas bundled with cfn-lint.

    .venv/bin/python -m bgctl.change_safety.refresh_schemas [ASSEMBLY_DIR ...] [--type TYPE ...] [--check]

Covers every type already vendored, every resource type in the given cloud assemblies (`Custom::X` counts as
AWS::CloudFormation::CustomResource) and each `--type`. Reads the schema files of the installed cfn-lint
(pinned in requirements-dev.txt; `data/schemas/providers/us-east-1.json` maps a type to
`data/schemas/resources/<hash>.json`) without importing cfn-lint. `--check` writes nothing and exits 1 when
the vendored file differs from what the schemas say (the test suite asserts the same).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Iterable, Sequence

from .assembly import AssemblyError, read_assembly
from .schemas import DATA_FILE, schema_type

REGION = "us-east-1"  # cfn-lint's reference region (its fallback for regions without a provider file)


class SchemaSourceError(Exception):
    """cfn-lint or one of its schema files is missing; one line."""


def cfn_lint_schema_dir() -> Path:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or spec.origin is None:
        raise SchemaSourceError("cfn-lint is not installed: `make setup` installs it from requirements-dev.txt")
    directory = Path(spec.origin).parent / "data" / "schemas"
    if not (directory / "providers" / f"{REGION}.json").is_file():
        raise SchemaSourceError(f"{directory}: no bundled provider schemas for {REGION} in this cfn-lint")
    return directory


def cfn_lint_version() -> str:
    try:
        return metadata.version("cfn-lint")
    except metadata.PackageNotFoundError:
        return "unknown"


def build(schema_dir: Path, types: Iterable[str], *, version: str) -> dict:
    """The vendored document for `types`, from the schema files under `schema_dir`."""
    providers = json.loads((schema_dir / "providers" / f"{REGION}.json").read_text(encoding="utf-8"))
    schema_date = json.loads((schema_dir / "version.json").read_text(encoding="utf-8")).get("schema_date", "unknown")
    entries: dict[str, dict[str, list[str]]] = {}
    missing = []
    for type_name in sorted({schema_type(t) for t in types}):
        digest = providers.get(type_name)
        if digest is None:
            missing.append(type_name)
            continue
        schema = json.loads((schema_dir / "resources" / f"{digest}.json").read_text(encoding="utf-8"))
        entry = {"createOnlyProperties": list(schema.get("createOnlyProperties", []))}
        if schema.get("conditionalCreateOnlyProperties"):
            entry["conditionalCreateOnlyProperties"] = list(schema["conditionalCreateOnlyProperties"])
        entries[type_name] = entry
    if missing:
        raise SchemaSourceError(f"no {REGION} resource schema in cfn-lint {version} for: {', '.join(missing)}")
    return {"source": f"createOnlyProperties and conditionalCreateOnlyProperties from the CloudFormation resource "
                      f"provider schemas ({REGION}) bundled with cfn-lint {version}, schema_date {schema_date}",
            "generatedBy": "python -m bgctl.change_safety.refresh_schemas",
            "types": entries}


def render(document: dict) -> str:
    """Stable, compact JSON: one line per resource type."""
    lines = ["{", f'  "source": {json.dumps(document["source"])},',
             f'  "generatedBy": {json.dumps(document["generatedBy"])},', '  "types": {']
    items = sorted(document["types"].items())
    for index, (name, entry) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        lines.append(f"    {json.dumps(name)}: {json.dumps(entry, sort_keys=True)}{comma}")
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def assembly_types(paths: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        for template in read_assembly(path).stacks.values():
            found.update(str(r.get("Type")) for r in template.get("Resources", {}).values() if isinstance(r, dict))
    return found


def vendored_types() -> set[str]:
    if not DATA_FILE.is_file():
        return set()
    return set(json.loads(DATA_FILE.read_text(encoding="utf-8"))["types"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bgctl.change_safety.refresh_schemas",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("assemblies", nargs="*", metavar="ASSEMBLY_DIR", help="cloud assemblies whose types to add")
    parser.add_argument("--type", action="append", default=[], metavar="TYPE", help="a resource type to add")
    parser.add_argument("--check", action="store_true", help="exit 1 if the vendored file is not current")
    args = parser.parse_args(argv)
    try:
        types = vendored_types() | assembly_types(args.assemblies) | set(args.type)
        text = render(build(cfn_lint_schema_dir(), types, version=cfn_lint_version()))
    except (AssemblyError, SchemaSourceError) as error:
        print(f"refresh_schemas: error: {error}", file=sys.stderr)
        return 2
    current = DATA_FILE.read_text(encoding="utf-8") if DATA_FILE.is_file() else ""
    if args.check:
        if text != current:
            print(f"{DATA_FILE.name} is not current: run python -m bgctl.change_safety.refresh_schemas",
                  file=sys.stderr)
            return 1
        print(f"{DATA_FILE.name} is current ({len(json.loads(text)['types'])} types)")
        return 0
    DATA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {DATA_FILE} ({len(json.loads(text)['types'])} types)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
