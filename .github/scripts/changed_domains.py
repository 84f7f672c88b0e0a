#!/usr/bin/env python3
"""Which domains does this push (or manual run) deploy, and from which directory? Standard library only.

`services/domains.json` maps each domain to the directory its image is built from (one directory may serve
several domains) and lists `shared` paths whose change affects every domain. Without that file, each
`services/<domain>/` holding a Dockerfile is a domain built from its own directory.

On push, a domain is deployed when a changed path lies in its directory, in a shared path, or when its entry
in services/domains.json changed; a rename counts on both sides (old and new path). Without a usable base
(first push of a branch, force push), every domain is deployed. On workflow_dispatch, `--input` names them:
`auth,order`, `all`, or `all` mixed with names. Prints a JSON list for a job matrix (and `domains=<json>` to
GITHUB_OUTPUT); `--directory DOMAIN` prints the build directory of one domain instead.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

DOMAIN_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
NO_BASE = re.compile(r"^0*$")
MAP_PATH = "services/domains.json"


@dataclass(frozen=True)
class ServiceMap:
    directories: dict[str, str] = field(default_factory=dict)  # domain -> directory (no trailing slash)
    shared: tuple[str, ...] = ()

    @property
    def domains(self) -> list[str]:
        return sorted(self.directories)


def _clean(path: str) -> str:
    return path.strip().strip("/")


def parse_map(text: str | None, *, conventional: Iterable[str] = ()) -> ServiceMap:
    """services/domains.json (may be absent: None) plus conventional services/<domain>/ directories."""
    directories = {domain: f"services/{domain}" for domain in conventional}
    shared: tuple[str, ...] = ()
    if text is not None:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SystemExit(f"{MAP_PATH} is not valid JSON: {exc}") from None
        entries = data.get("domains") or {}
        if not isinstance(entries, dict):
            raise SystemExit(f"{MAP_PATH}: 'domains' must map domain names to {{\"directory\": ...}}")
        for domain, entry in entries.items():
            if not DOMAIN_RE.match(domain) or not isinstance(entry, dict) or not entry.get("directory"):
                raise SystemExit(f"{MAP_PATH}: domain {domain!r} needs a valid name and a 'directory'")
            directories[domain] = _clean(str(entry["directory"]))
        shared = tuple(_clean(str(p)) for p in data.get("shared") or [])
    return ServiceMap(directories=directories, shared=shared)


def conventional_domains(root: Path) -> list[str]:
    services = root / "services"
    if not services.is_dir():
        return []
    return sorted(d.name for d in services.iterdir() if DOMAIN_RE.match(d.name) and (d / "Dockerfile").is_file())


def load_map(root: Path) -> ServiceMap:
    """services/domains.json when it exists (authoritative), else the services/<domain>/Dockerfile convention."""
    path = root / MAP_PATH
    if path.is_file():
        return parse_map(path.read_text())
    return parse_map(None, conventional=conventional_domains(root))


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory + "/")


def affected_domains(paths: Iterable[str], service_map: ServiceMap, old_map: ServiceMap | None = None) -> list[str]:
    """Domains touched by these changed paths (both sides of a rename are in `paths`)."""
    changed: set[str] = set()
    for raw in paths:
        path = _clean(raw)
        if any(_under(path, shared) for shared in service_map.shared):
            return service_map.domains
        if path == MAP_PATH:
            before = old_map.directories if old_map is not None else {}
            changed |= {d for d, directory in service_map.directories.items() if before.get(d) != directory}
            continue
        changed |= {d for d, directory in service_map.directories.items() if _under(path, directory)}
    return sorted(changed)


def domains_from_input(text: str, known: list[str]) -> list[str]:
    """`auth,order`, `all`, `all,auth` (= all); unknown names are an error naming the known ones."""
    names = [n for n in re.split(r"[\s,]+", text.strip()) if n]
    unknown = sorted(set(names) - set(known) - {"all"})
    if unknown:
        raise SystemExit(f"unknown domain(s) {', '.join(unknown)}; known: {', '.join(known) or 'none'}")
    if "all" in names:
        return list(known)
    return sorted(set(names))


def changed_paths(root: Path, base: str, head: str) -> list[str]:
    """Every path a diff touches; a rename or copy (`R100 old new`) gives both paths."""
    run = subprocess.run(["git", "diff", "--name-status", "-M", base, head], cwd=root, capture_output=True, text=True)
    if run.returncode != 0:
        raise LookupError(run.stderr.strip())
    paths = []
    for line in run.stdout.splitlines():
        fields = line.split("\t")
        paths.extend(fields[1:])
    return paths


def map_at(root: Path, revision: str) -> ServiceMap | None:
    run = subprocess.run(["git", "show", f"{revision}:{MAP_PATH}"], cwd=root, capture_output=True, text=True)
    return parse_map(run.stdout) if run.returncode == 0 else None


def select(root: Path, *, input_text: str, base: str, head: str) -> list[str]:
    service_map = load_map(root)
    if input_text.strip():
        return domains_from_input(input_text, service_map.domains)
    if not base or NO_BASE.match(base):
        return service_map.domains
    try:
        paths = changed_paths(root, base, head or "HEAD")
    except LookupError as exc:  # base not in the clone (force push): deploy everything
        print(f"cannot diff {base}..{head} ({exc}); deploying all domains", file=sys.stderr)
        return service_map.domains
    return affected_domains(paths, service_map, map_at(root, base))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default="", help="workflow_dispatch input: 'auth,order', 'all' or 'all,auth'")
    parser.add_argument("--base", default="", help="commit before the push (github.event.before)")
    parser.add_argument("--head", default="HEAD", help="commit of the push (github.sha)")
    parser.add_argument("--root", default=".", help="repository root")
    parser.add_argument("--directory", metavar="DOMAIN", help="print the build directory of DOMAIN and exit")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if args.directory:
        directories = load_map(root).directories
        if args.directory not in directories:
            raise SystemExit(f"domain {args.directory!r} has no build directory in {MAP_PATH}")
        print(directories[args.directory])
        return 0
    domains = select(root, input_text=args.input, base=args.base, head=args.head)
    text = json.dumps(domains, separators=(",", ":"))
    print(text)
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as handle:
            handle.write(f"domains={text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
