"""`bgctl check-changes BASE_ASSEMBLY_DIR NEW_ASSEMBLY_DIR [--json] [--stack NAME ...]` (stdlib only)."""
from __future__ import annotations

from typing import Any, Sequence

from ..errors import UsageError
from .assembly import AssemblyError, read_assembly
from .classify import SelectionError, compare
from .model import Report
from .render import as_json, human


def check(base: str, new: str, *, select: Sequence[str] = ()) -> Report:
    """Read both assemblies and classify every change; bad input raises UsageError (exit 2, one line)."""
    try:
        return compare(read_assembly(base), read_assembly(new), select=select)
    except (AssemblyError, SelectionError) as error:
        raise UsageError(str(error)) from None


def run(ctx: Any, args: Any) -> int:
    report = check(args.base, args.new, select=args.stack or ())
    # Under --json the report becomes the `data` of bgctl's one --json document (docs/cli.md, 'Machine output').
    ctx.out((as_json(report) if args.json else human(report)).rstrip("\n"))
    return report.exit_code
