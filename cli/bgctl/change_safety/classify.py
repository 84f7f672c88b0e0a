"""Compare two cloud assemblies and classify every change (the gate's core; pure, no I/O).

Resources are matched by logical id. A resource whose createOnly property changes is replaced, and every
property elsewhere in the stack that references it (Ref, Fn::GetAtt, Fn::Sub) changes value at deploy time
even though its template text does not: those paths count as changed too, to a fixed point (a replaced VPC
replaces its subnets, which changes the load balancer, ...).
"""
from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from .assembly import Assembly, Template
from .diff import changed_paths, imports, paths_where, references, stack_outputs_read
from .model import OUTPUT_TYPE, STACK_TYPE, Change, Finding, Report, StackReport, Verdict
from .resources import ResourceDelta, describe_name, fixed_names, properties_of, retained_by
from .rules import FIX_EXPORT, FIX_REMOVE_DOMAIN, StackContext, classify, content_identity
from .schemas import SchemaData, differing_pointers, load, schema_for

ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy", "DependsOn", "Condition", "UpdatePolicy", "CreationPolicy")


class SelectionError(Exception):
    """A --stack pattern that matches no stack of either assembly."""


def compare(base: Assembly, new: Assembly, *, select: Sequence[str] = (), schemas: SchemaData | None = None) -> Report:
    schemas = schemas or load()
    index = CrossStackIndex.build(base, new, schemas)
    names = sorted(set(base.stacks) | set(new.stacks))
    chosen = select_stacks(names, select)
    analyses = analyse_all(base, new, names, schemas)
    reports = []
    for name in chosen:
        old, cur = base.stacks.get(name), new.stacks.get(name)
        if old is None:
            report = StackReport(name, "added", (added_stack(name, cur or {}, index, schemas),))
        elif cur is None:
            changes = [removed_stack(name, old, schemas), *output_changes(analyses[name], index)]
            report = StackReport(name, "removed", _ordered(changes))
        else:
            report = StackReport(name, "modified", _ordered(stack_changes(analyses[name], index)))
        if report.changes:
            reports.append(report)
    return Report(base=base.path, new=new.path, stacks=tuple(reports))


@dataclass(frozen=True)
class StackAnalysis:
    """One stack present in the base: its changed resources and its exports, at deploy-time values."""

    name: str
    old: Template
    new: Template | None
    deltas: Mapping[str, ResourceDelta]
    replaced: frozenset[str]
    changed_imports: frozenset[str]  # exports of other stacks that change, which this stack may import

    def exports(self) -> list[tuple[str, str, bool, bool]]:
        """(output id, export name, gone, value changes) for every export of the base template."""
        found = []
        new_outputs = _outputs(self.new) if self.new is not None else {}
        changes = _deploy_time_change(self.name, self.replaced, self.changed_imports)
        for output_id, output in sorted(_outputs(self.old).items()):
            export = resolve_name((output.get("Export") or {}).get("Name"), self.name) if output.get("Export") else None
            if not export:
                continue
            current = new_outputs.get(output_id)
            gone = current is None or resolve_name((current.get("Export") or {}).get("Name"), self.name) != export
            changed = not gone and (current.get("Value") != output.get("Value") or changes(current.get("Value")))
            found.append((output_id, export, gone, changed))
        return found

    @property
    def changed_exports(self) -> frozenset[str]:
        return frozenset(export for _, export, gone, changed in self.exports() if gone or changed)


def analyse_all(base: Assembly, new: Assembly, names: Sequence[str], schemas: SchemaData) -> dict[str, StackAnalysis]:
    """Analyse every stack of the base; an export whose value changes changes its importers' values too, so
    repeat until the set of changing exports is stable (at most one round per stack)."""
    changed: frozenset[str] = frozenset()
    analyses: dict[str, StackAnalysis] = {}
    for _ in range(len(names) + 1):
        analyses = {name: analyse(name, base.stacks[name], new.stacks.get(name), schemas, changed)
                    for name in names if name in base.stacks}
        now = frozenset().union(*(a.changed_exports for a in analyses.values()))
        if now == changed:
            break
        changed = now
    return analyses


def analyse(name: str, old: Template, new: Template | None, schemas: SchemaData,
            changed_imports: frozenset[str]) -> StackAnalysis:
    if new is None:
        return StackAnalysis(name, old, None, {}, frozenset(), changed_imports)
    deltas = resource_deltas(name, old, new, schemas, changed_imports)
    replaced = frozenset(d.logical_id for d in deltas.values() if d.replaced or d.type_changed)
    return StackAnalysis(name, old, new, deltas, replaced, changed_imports)


def select_stacks(names: Sequence[str], patterns: Sequence[str]) -> list[str]:
    if not patterns:
        return list(names)
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(name, pattern) for name in names):
            raise SelectionError(f"--stack {pattern}: no such stack in either assembly (stacks: {', '.join(names)})")
    return [name for name in names if any(fnmatch.fnmatchcase(name, p) for p in patterns)]


# ------------------------------------------------------------------------------------------ cross-stack


@dataclass(frozen=True)
class CrossStackIndex:
    importers: Mapping[str, frozenset[str]]  # export name -> stacks of either assembly importing it
    readers: Mapping[tuple[str, str], frozenset[str]]  # (stack, output) -> stacks reading it (Fn::GetStackOutput)
    texts: Mapping[str, str]  # stack -> its base and new templates as text (to find users of a name)
    base_names: Mapping[tuple[str, str], str]  # (type, fixed name) -> "stack/LogicalId" in the base assembly

    @classmethod
    def build(cls, base: Assembly, new: Assembly, schemas: SchemaData) -> "CrossStackIndex":
        importers: dict[str, set[str]] = {}
        readers: dict[tuple[str, str], set[str]] = {}
        texts: dict[str, str] = {}
        for assembly in (base, new):
            for stack, template in assembly.stacks.items():
                texts[stack] = texts.get(stack, "") + json.dumps(template)
                for argument in imports(template):
                    export = resolve_name(argument, stack)
                    if export:
                        importers.setdefault(export, set()).add(stack)
                for argument in stack_outputs_read(template):
                    producer, output = argument.get("StackName"), argument.get("OutputName")
                    if isinstance(producer, str) and isinstance(output, str):
                        readers.setdefault((producer, output), set()).add(stack)
        base_names: dict[tuple[str, str], str] = {}
        for stack, template in base.stacks.items():
            for logical_id, resource in _resources(template).items():
                for value in fixed_names(resource, schema_for(str(resource.get("Type")), schemas)).values():
                    base_names[(str(resource.get("Type")), describe_name(value))] = f"{stack}/{logical_id}"
        return cls(importers={k: frozenset(v) for k, v in importers.items()},
                   readers={k: frozenset(v) for k, v in readers.items()}, texts=texts, base_names=base_names)

    def name_users(self, name: str, owner: str) -> tuple[str, ...]:
        needle = json.dumps(name)[1:-1]
        return tuple(sorted(stack for stack, text in self.texts.items() if stack != owner and needle in text))


def resolve_name(value: Any, stack: str) -> str | None:
    """An export name fixed at synth time (a string, or Fn::Sub / Fn::Join using only AWS::StackName)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        text = value["Fn::Sub"].replace("${AWS::StackName}", stack)
        return None if "${" in text else text
    if isinstance(value, dict) and isinstance(value.get("Fn::Join"), list) and len(value["Fn::Join"]) == 2:
        separator, parts = value["Fn::Join"]
        resolved = [resolve_name(p, stack) if not (isinstance(p, dict) and p.get("Ref") == "AWS::StackName") else stack
                    for p in parts]
        return separator.join(resolved) if all(isinstance(r, str) for r in resolved) else None
    return None


# ---------------------------------------------------------------------------------------------- stacks


def added_stack(name: str, template: Template, index: CrossStackIndex, schemas: SchemaData) -> Change:
    resources = _resources(template)
    clashes = []
    for logical_id, resource in sorted(resources.items()):
        type_name = str(resource.get("Type"))
        for value in fixed_names(resource, schema_for(type_name, schemas)).values():
            holder = index.base_names.get((type_name, describe_name(value)))
            if holder and not holder.startswith(f"{name}/"):
                clashes.append(f"{describe_name(value)} ({logical_id}, held by {holder})")
    if clashes:
        return Change(name, STACK_TYPE, "added", (), Verdict.DANGEROUS,
                      f"new stack creates resources whose fixed names the base still holds: {'; '.join(clashes)}: "
                      "creating the stack fails while those exist (a renamed stack is a new stack)",
                      "keep the stack name, or give the new stack's resources new names in an accepted migration")
    return Change(name, STACK_TYPE, "added", (), Verdict.SAFE,
                  f"new stack: CloudFormation creates its {len(resources)} resources")


def removed_stack(name: str, template: Template, schemas: SchemaData) -> Change:
    resources = _resources(template)
    retained = []
    for logical_id, resource in sorted(resources.items()):
        if retained_by(resource, "DeletionPolicy"):
            names = fixed_names(resource, schema_for(str(resource.get("Type")), schemas))
            label = ", ".join(describe_name(v) for v in names.values())
            retained.append(f"{resource.get('Type')} {label or logical_id}" + (" (fixed name)" if label else ""))
    reason = (f"stack removed from the app: `cdk deploy` leaves it running unmanaged, and destroying it deletes its "
              f"{len(resources)} resources")
    if retained:
        reason += (f"; DeletionPolicy Retain keeps {len(retained)}: {'; '.join(retained)}. Fixed names stay taken, so "
                   "re-creating the stack fails until they are deleted or imported")
    return Change(name, STACK_TYPE, "removed", (), Verdict.DANGEROUS, reason, FIX_REMOVE_DOMAIN)


def stack_changes(analysis: StackAnalysis, index: CrossStackIndex) -> list[Change]:
    identities = {}
    for logical_id, resource in _resources(analysis.old).items():
        identity = content_identity(ResourceDelta(analysis.name, logical_id, resource, resource, None))
        if identity is not None:
            identities[(str(resource.get("Type")), identity)] = logical_id
    context = StackContext(stack=analysis.name, deltas=analysis.deltas, name_users=index.name_users,
                           name_holder=lambda type_name, value: index.base_names.get((type_name, value)),
                           identity_holder=lambda type_name, identity: identities.get((type_name, identity)))
    changes = [_change(delta, classify(delta, context)) for delta in analysis.deltas.values()]
    return changes + output_changes(analysis, index)


def _change(delta: ResourceDelta, finding: Finding) -> Change:
    return Change(delta.logical_id, delta.type, delta.kind, delta.properties, finding.verdict, finding.reason,
                  finding.fix)


def resource_deltas(stack: str, old: Template, new: Template, schemas: SchemaData,
                    changed_imports: frozenset[str] = frozenset()) -> dict[str, ResourceDelta]:
    """Every added, removed or changed resource, with replacements (and changing imported values) propagated
    through references."""
    old_resources, new_resources = _resources(old), _resources(new)
    common = [logical_id for logical_id in new_resources if logical_id in old_resources]
    text = {i: changed_paths(properties_of(old_resources[i]), properties_of(new_resources[i])) for i in common}
    attributes = {i: tuple(a for a in ATTRIBUTES if old_resources[i].get(a) != new_resources[i].get(a)) for i in common}
    replaced: set[str] = set()
    while True:
        deltas = {i: _delta(stack, i, old_resources[i], new_resources[i], text[i], attributes[i],
                            _deploy_time_change(stack, replaced - {i}, changed_imports), schemas)
                  for i in common}
        now = {i for i, d in deltas.items() if d.replaced or d.type_changed}
        if now == replaced:
            break
        replaced = now
    found = {i: d for i, d in deltas.items() if d.paths or d.attributes}
    for logical_id in new_resources.keys() - old_resources.keys():
        found[logical_id] = ResourceDelta(stack, logical_id, None, new_resources[logical_id],
                                          schema_for(str(new_resources[logical_id].get("Type")), schemas))
    for logical_id in old_resources.keys() - new_resources.keys():
        found[logical_id] = ResourceDelta(stack, logical_id, old_resources[logical_id], None,
                                          schema_for(str(old_resources[logical_id].get("Type")), schemas))
    return dict(sorted(found.items()))


def _deploy_time_change(stack: str, replaced: set[str] | frozenset[str],
                        changed_imports: frozenset[str]) -> Callable[[Any], bool]:
    """Whether a value that reads the same in both templates resolves differently at deploy time: it references
    a replaced resource, or imports an export whose value changes."""
    def changes(value: Any) -> bool:
        if replaced and references(value) & replaced:
            return True
        return bool(changed_imports) and any(resolve_name(a, stack) in changed_imports for a in imports(value))
    return changes


def _delta(stack: str, logical_id: str, old: Mapping[str, Any], new: Mapping[str, Any], text: list[str],
           attributes: tuple[str, ...], changes: Callable[[Any], bool], schemas: SchemaData) -> ResourceDelta:
    old_properties, new_properties = properties_of(old), properties_of(new)
    dynamic = [p for p in paths_where(new_properties, changes) if p not in text]
    schema = schema_for(str(new.get("Type")), schemas)
    create_only = conditional = ()
    if schema is not None:
        create_only = tuple(differing_pointers(schema.create_only, old_properties, new_properties, dynamic))
        conditional = tuple(differing_pointers(schema.conditional_create_only, old_properties, new_properties, dynamic))
    return ResourceDelta(stack, logical_id, old, new, schema, paths=tuple(sorted({*text, *dynamic})),
                         dynamic_paths=tuple(dynamic), attributes=attributes, create_only=create_only,
                         conditional=conditional, references=frozenset(references(new_properties)))


# --------------------------------------------------------------------------------------------- outputs


def output_changes(analysis: StackAnalysis, index: CrossStackIndex) -> list[Change]:
    """Exports whose value changes or which disappear (dangerous while imported), and outputs that
    Fn::GetStackOutput readers lose."""
    changes = []
    for output_id, export, gone, changed in analysis.exports():
        if gone or changed:
            importers = sorted(index.importers.get(export, frozenset()) - {analysis.name})
            changes.append(_export_change(output_id, export, gone, importers))
    new_outputs = _outputs(analysis.new) if analysis.new is not None else {}
    value_changes = _deploy_time_change(analysis.name, analysis.replaced, analysis.changed_imports)
    for output_id, output in sorted(_outputs(analysis.old).items()):
        readers = sorted(index.readers.get((analysis.name, output_id), frozenset()) - {analysis.name})
        if output.get("Export") or not readers:
            continue
        current = new_outputs.get(output_id)
        if current is None or current.get("Value") != output.get("Value") or value_changes(current.get("Value")):
            changes.append(_read_output_change(output_id, current is None, readers))
    return changes


def _export_change(output_id: str, export: str, gone: bool, importers: list[str]) -> Change:
    what = "is removed" if gone else "changes value"
    if importers:
        return Change(output_id, OUTPUT_TYPE, "removed" if gone else "modified", ("Export",), Verdict.DANGEROUS,
                      f"export {export} {what} while {_stacks(importers)} (Fn::ImportValue): the exporting "
                      "stack's update fails (CloudFormation cannot change or delete an export in use)", FIX_EXPORT)
    return Change(output_id, OUTPUT_TYPE, "removed" if gone else "modified", ("Export",), Verdict.SAFE,
                  f"export {export} {what}; no stack of either assembly imports it")


def _read_output_change(output_id: str, gone: bool, readers: list[str]) -> Change:
    if gone:
        return Change(output_id, OUTPUT_TYPE, "removed", ("Value",), Verdict.DANGEROUS,
                      f"output removed while {_stacks(readers, 'read')} (Fn::GetStackOutput): their next update "
                      "fails", "keep the output until the readers no longer use it")
    return Change(output_id, OUTPUT_TYPE, "modified", ("Value",), Verdict.SAFE,
                  f"output value changes; {', '.join(readers)} read it (Fn::GetStackOutput) and get the new value on "
                  "their next update")


# ----------------------------------------------------------------------------------------------- helpers


def _resources(template: Template) -> dict[str, Mapping[str, Any]]:
    resources = template.get("Resources") or {}
    return {k: v for k, v in resources.items() if isinstance(v, dict)}


def _outputs(template: Template) -> dict[str, Mapping[str, Any]]:
    outputs = template.get("Outputs") or {}
    return {k: v for k, v in outputs.items() if isinstance(v, dict)}


def _stacks(names: list[str], verb: str = "import") -> str:
    return f"{', '.join(names)} {verb}{'s' if len(names) == 1 else ''} it"


def _ordered(changes: list[Change]) -> tuple[Change, ...]:
    return tuple(sorted(changes, key=lambda c: (-c.verdict, c.logical_id)))
