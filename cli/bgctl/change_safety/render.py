"""The report for people (one line per change, grouped per stack, then a summary) and for machines (JSON)."""
from __future__ import annotations

import json

from .model import Report, Verdict

DOCS = "docs/change-safety.md"


def human(report: Report) -> str:
    if not report.stacks:
        return (f"no changes: {report.base} and {report.new} hold the same CloudFormation resources, exports and "
                f"stacks\nverdict: SAFE (exit {report.exit_code})\n")
    lines: list[str] = []
    for stack in report.stacks:
        lines.append(f"{stack.stack}: {stack.verdict.label.upper()} ({stack.status}, {len(stack.changes)} "
                     f"change{'s' if len(stack.changes) != 1 else ''})")
        for change in stack.changes:
            line = (f"{stack.stack}  {change.logical_id} ({change.type})  {change.verdict.label.upper()}  "
                    f"{change.change}: {change.reason}")
            lines.append(line + (f"  -> {change.fix}" if change.fix else ""))
        lines.append("")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def summary(report: Report) -> str:
    counts = report.counts()
    text = (f"verdict: {report.verdict.label.upper()} (exit {report.exit_code}): "
            f"{counts['dangerous']} dangerous, {counts['through-codedeploy']} through CodeDeploy, {counts['safe']} safe "
            f"change(s) in {len(report.stacks)} stack(s)")
    if report.verdict is Verdict.DANGEROUS:
        text += (f"\ndangerous changes need the fix shown, or a documented migration (PR label accepted-migration): "
                 f"{DOCS}")
    elif report.verdict is Verdict.THROUGH_CODEDEPLOY:
        text += ("\napplying it starts a CodeDeploy blue/green deployment: test traffic checks, approval and traffic "
                 "shift follow (watch it with `bgctl watch` or in Slack)")
    return text


def as_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"
