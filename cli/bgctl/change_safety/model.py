"""What the gate reports: verdicts, one change, one stack, the whole comparison, and the exit codes."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

EXIT_SAFE = 0
EXIT_THROUGH_CODEDEPLOY = 10
EXIT_DANGEROUS = 20
EXIT_USAGE = 2


class Verdict(IntEnum):
    """Ordered: the verdict of a stack or an assembly is the worst (max) of its changes."""

    SAFE = 0
    THROUGH_CODEDEPLOY = 1
    DANGEROUS = 2

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def exit_code(self) -> int:
        return _EXIT_CODES[self]


_LABELS = {Verdict.SAFE: "safe", Verdict.THROUGH_CODEDEPLOY: "through-codedeploy", Verdict.DANGEROUS: "dangerous"}
_EXIT_CODES = {Verdict.SAFE: EXIT_SAFE, Verdict.THROUGH_CODEDEPLOY: EXIT_THROUGH_CODEDEPLOY,
               Verdict.DANGEROUS: EXIT_DANGEROUS}

STACK_TYPE = "AWS::CloudFormation::Stack"  # the type shown for a whole added or removed stack
OUTPUT_TYPE = "Output"  # the type shown for a stack output (exports, Fn::GetStackOutput)


@dataclass(frozen=True)
class Finding:
    """A rule's decision about one change."""

    verdict: Verdict
    reason: str
    fix: str | None = None


@dataclass(frozen=True)
class Change:
    """One classified change of a resource, an output or a whole stack."""

    logical_id: str
    type: str
    change: str  # added | removed | modified | replaced
    properties: tuple[str, ...]
    verdict: Verdict
    reason: str
    fix: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"logicalId": self.logical_id, "type": self.type, "change": self.change,
                "properties": list(self.properties), "verdict": self.verdict.label, "reason": self.reason,
                "fix": self.fix}


def worst(verdicts: "list[Verdict] | tuple[Verdict, ...]") -> Verdict:
    return max(verdicts, default=Verdict.SAFE)


@dataclass(frozen=True)
class StackReport:
    stack: str
    status: str  # added | removed | modified
    changes: tuple[Change, ...]

    @property
    def verdict(self) -> Verdict:
        return worst([c.verdict for c in self.changes])

    def to_json(self) -> dict[str, object]:
        return {"stack": self.stack, "status": self.status, "verdict": self.verdict.label,
                "changes": [c.to_json() for c in self.changes]}


@dataclass(frozen=True)
class Report:
    base: str
    new: str
    stacks: tuple[StackReport, ...] = field(default_factory=tuple)

    @property
    def verdict(self) -> Verdict:
        return worst([s.verdict for s in self.stacks])

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    def counts(self) -> dict[str, int]:
        counts = {v.label: 0 for v in Verdict}
        for stack in self.stacks:
            for change in stack.changes:
                counts[change.verdict.label] += 1
        return counts

    def to_json(self) -> dict[str, object]:
        return {"schemaVersion": 1, "verdict": self.verdict.label, "exitCode": self.exit_code,
                "base": self.base, "new": self.new, "counts": self.counts(),
                "stacks": [s.to_json() for s in self.stacks]}

EXIT_CODES_HELP = f"""\
exit codes:
  {EXIT_SAFE}    no change, or only safe changes (in-place updates, new resources and stacks)
  {EXIT_THROUGH_CODEDEPLOY}   at least one change goes through CodeDeploy (a new task-definition revision released
       blue/green), none is dangerous
  {EXIT_DANGEROUS}   at least one dangerous change (see its reason and fix; docs/change-safety.md)
  {EXIT_USAGE}    usage or input error (missing directory, not a cloud assembly, unknown --stack)"""
