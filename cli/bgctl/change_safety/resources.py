"""One changed resource, as the rules see it, and the facts about it they ask for (names, retention)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .diff import is_literal
from .schemas import ResourceSchema, property_name, schema_type

RETAINING_POLICIES = ("Retain", "RetainExceptOnCreate")
# `*Name` properties that name another resource, not this one.
_REFERENCE_NAMES = {"HostedZoneName", "EventBusName", "SourceSecurityGroupName", "KeyName"}
_REFERENCE_NAMES_BY_TYPE = {
    "AWS::Lambda::Permission": {"FunctionName"},
    "AWS::CodeDeploy::DeploymentGroup": {"ApplicationName"},
    "AWS::EC2::FlowLog": {"LogGroupName"},
    "AWS::EC2::SecurityGroupIngress": {"GroupName"},
    "AWS::EC2::SecurityGroupEgress": {"GroupName"},
}


@dataclass(frozen=True)
class ResourceDelta:
    """A resource that was added, removed or changed between the base and the new template of a stack."""

    stack: str
    logical_id: str
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    schema: ResourceSchema | None
    paths: tuple[str, ...] = ()  # changed property paths (template text or deploy-time values)
    dynamic_paths: tuple[str, ...] = ()  # the part of `paths` that changes because a referenced resource is replaced
    attributes: tuple[str, ...] = ()  # changed resource attributes: DeletionPolicy, DependsOn, ...
    create_only: tuple[str, ...] = ()  # createOnlyProperties pointers whose value changes
    conditional: tuple[str, ...] = ()  # conditionalCreateOnlyProperties pointers whose value changes
    references: frozenset[str] = frozenset()  # logical ids the new properties name (Ref, Fn::GetAtt, Fn::Sub)

    @property
    def type(self) -> str:
        return str((self.new or self.old or {}).get("Type", "?"))

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "replaced" if self.replaced else "modified"

    @property
    def type_changed(self) -> bool:
        return self.old is not None and self.new is not None and self.old.get("Type") != self.new.get("Type")

    @property
    def unknown_schema(self) -> bool:
        return self.schema is None

    @property
    def replaced(self) -> bool:
        """CloudFormation replaces it (or, without a schema for its type, may: assumed)."""
        if self.old is None or self.new is None or self.type_changed:
            return False
        return bool(self.create_only or self.conditional or (self.unknown_schema and self.paths))

    @property
    def properties(self) -> tuple[str, ...]:
        return self.paths + self.attributes

    def citation(self) -> str:
        """Which schema entries make it a replacement, cited."""
        parts = []
        if self.create_only:
            parts.append(f"{_names(self.create_only)} in createOnlyProperties of the CloudFormation resource schema "
                         f"for {schema_type(self.type)}")
        if self.conditional:
            parts.append(f"{_names(self.conditional)} in conditionalCreateOnlyProperties of the CloudFormation "
                         f"resource schema for {schema_type(self.type)} (replacement possible)")
        if self.unknown_schema:
            parts.append(f"no CloudFormation resource schema is vendored for {self.type}, so replacement is assumed")
        return "; ".join(parts)


def _names(pointers: tuple[str, ...]) -> str:
    return ", ".join(property_name(p) for p in pointers)


def properties_of(resource: Mapping[str, Any] | None) -> Mapping[str, Any]:
    properties = (resource or {}).get("Properties")
    return properties if isinstance(properties, dict) else {}


def fixed_names(resource: Mapping[str, Any] | None, schema: ResourceSchema | None) -> dict[str, Any]:
    """The resource's own physical name properties set to a value fixed at synth time ({property: value}).

    A name property is a top-level `*Name` (or `Name`) property in the type's createOnlyProperties (the name
    cannot change in place; it *is* the physical id); without a schema every literal `*Name` property counts."""
    if resource is None:
        return {}
    type_name = str(resource.get("Type", ""))
    excluded = _REFERENCE_NAMES | _REFERENCE_NAMES_BY_TYPE.get(type_name, set())
    create_only = {property_name(p) for p in schema.create_only} if schema else None
    return {key: value for key, value in properties_of(resource).items()
            if key.endswith("Name") and key not in excluded and (create_only is None or key in create_only)
            and is_literal(value)}


def retained_by(resource: Mapping[str, Any] | None, attribute: str) -> bool:
    return (resource or {}).get(attribute) in RETAINING_POLICIES


def describe_name(value: Any) -> str:
    """A name for a message: the literal, or the literal parts of a Fn::Join/Fn::Sub."""
    if isinstance(value, str):
        return value
    join = value.get("Fn::Join") if isinstance(value, dict) else None
    if isinstance(join, list) and len(join) == 2 and isinstance(join[0], str) and isinstance(join[1], list):
        return join[0].join(p if isinstance(p, str) else "${" + str(next(iter(p.values()), "")) + "}"
                            if isinstance(p, dict) else str(p) for p in join[1])
    if isinstance(value, dict) and "Fn::Sub" in value:
        argument = value["Fn::Sub"]
        return argument if isinstance(argument, str) else str(argument[0])
    return str(value)
