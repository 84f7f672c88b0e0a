#!/usr/bin/env python3
"""Which domains does this push (or manual run) deploy? Prints a JSON list for a job matrix.

A domain is a directory `services/<domain>/` holding a Dockerfile. On push, the domains with a changed file
under `services/<domain>/` between `--base` and `--head` are deployed (all of them when there is no usable
base: first push of a branch, force push). On workflow_dispatch, `--input` names them (`auth,order` or `all`).
With GITHUB_OUTPUT set, also writes `domains=<json>` there. Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterable

DOMAIN_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
NO_BASE = re.compile(r"^0*$")


def known_domains(root: Path) -> list[str]:
    services = root / "services"
    if not services.is_dir():
        return []
    return sorted(d.name for d in services.iterdir() if DOMAIN_RE.match(d.name) and (d / "Dockerfile").is_file())


def domains_from_paths(paths: Iterable[str], known: Iterable[str]) -> list[str]:
    known_set = set(known)
    changed = set()
    for path in paths:
        parts = path.strip().split("/")
        if len(parts) >= 3 and parts[0] == "services" and parts[1] in known_set:
            changed.add(parts[1])
    return sorted(changed)


def domains_from_input(text: str, known: list[str]) -> list[str]:
    names = [n for n in re.split(r"[\s,]+", text.strip()) if n]
    if names == ["all"]:
        return list(known)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise SystemExit(f"unknown domain(s) {', '.join(unknown)}; known: {', '.join(known) or 'none'}")
    return sorted(set(names))


def changed_paths(root: Path, base: str, head: str) -> list[str]:
    run = subprocess.run(["git", "diff", "--name-only", base, head], cwd=root, capture_output=True, text=True)
    if run.returncode != 0:
        raise LookupError(run.stderr.strip())
    return run.stdout.splitlines()


def select(root: Path, *, input_text: str, base: str, head: str) -> list[str]:
    known = known_domains(root)
    if input_text.strip():
        return domains_from_input(input_text, known)
    if not base or NO_BASE.match(base):
        return known
    try:
        return domains_from_paths(changed_paths(root, base, head or "HEAD"), known)
    except LookupError as exc:  # base not in the clone (force push): deploy everything
        print(f"cannot diff {base}..{head} ({exc}); deploying all domains", file=sys.stderr)
        return known


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default="", help="workflow_dispatch input: 'auth,order' or 'all'")
    parser.add_argument("--base", default="", help="commit before the push (github.event.before)")
    parser.add_argument("--head", default="HEAD", help="commit of the push (github.sha)")
    parser.add_argument("--root", default=".", help="repository root")
    args = parser.parse_args(argv)
    domains = select(Path(args.root), input_text=args.input, base=args.base, head=args.head)
    text = json.dumps(domains, separators=(",", ":"))
    print(text)
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as handle:
            handle.write(f"domains={text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
