"""Validation of command-line input. Runs before any AWS call; failures exit with code 2."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import UsageError

DOMAIN_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
PLATFORM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
DEPLOYMENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,63}$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
REPOSITORY_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
ECR_REGISTRY_RE = re.compile(r"^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


def domain(value: str) -> str:
    if not DOMAIN_RE.match(value):
        raise UsageError(f"invalid domain {value!r}: lower-case letters, digits and '-', starting with a letter "
                         "(at most 20 characters)")
    return value


def platform(value: str) -> str:
    if not PLATFORM_RE.match(value):
        raise UsageError(f"invalid platform name {value!r}: letters, digits, '.', '_' and '-' only")
    return value


def deployment_id(value: str) -> str:
    if not DEPLOYMENT_ID_RE.match(value):
        raise UsageError(f"invalid deployment id {value!r}: expected something like d-ABCDEFGHI")
    return value


def reason(value: str, *, limit: int = 500,
           why: str = "say why the break-glass decision is needed") -> str:
    text = " ".join(value.split())
    if not text:
        raise UsageError(f"--reason must not be empty: {why}")
    if len(text) > limit:
        raise UsageError(f"--reason is {len(text)} characters long; keep it under {limit}")
    return text


@dataclass(frozen=True)
class ImageRef:
    uri: str
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def ecr_account(self) -> str | None:
        match = ECR_REGISTRY_RE.match(self.registry or "")
        return match.group(1) if match else None

    @property
    def ecr_region(self) -> str | None:
        match = ECR_REGISTRY_RE.match(self.registry or "")
        return match.group(2) if match else None

    @property
    def short(self) -> str:
        """`auth:abc123` / `auth@sha256:0123456789ab` for humans."""
        name = self.repository.rsplit("/", 1)[-1]
        if self.digest:
            return f"{name}@{self.digest[:19]}"
        return f"{name}:{self.tag}"


def image(uri: str) -> ImageRef:
    """Parse `[registry/]repository(:tag|@sha256:digest)`; a tag or a digest is required."""
    if not uri or any(c.isspace() for c in uri):
        raise UsageError(f"invalid image {uri!r}: empty or contains whitespace")
    if "://" in uri:
        raise UsageError(f"invalid image {uri!r}: drop the scheme (use registry/repository:tag)")
    rest, digest = uri, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not DIGEST_RE.match(digest):
            raise UsageError(f"invalid image {uri!r}: the digest must be sha256: followed by 64 hex characters")
    registry = None
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, rest = first, remainder
    tag = None
    last_slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > last_slash:
        rest, tag = rest[:colon], rest[colon + 1:]
        if not TAG_RE.match(tag):
            raise UsageError(f"invalid image {uri!r}: bad tag {tag!r}")
    if not rest or not REPOSITORY_RE.match(rest):
        raise UsageError(f"invalid image {uri!r}: bad repository name {rest!r}")
    if tag is None and digest is None:
        raise UsageError(f"image {uri!r} has no tag or digest: deploy an immutable reference such as "
                         f"{uri}:<git-sha> or {uri}@sha256:<digest>")
    return ImageRef(uri=uri, registry=registry, repository=rest, tag=tag, digest=digest)


def env_pairs(pairs: list[str] | None) -> dict[str, str]:
    """`["K=V", ...]` -> ordered dict; names must be valid and unique."""
    result: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"invalid --env {pair!r}: expected NAME=VALUE")
        if not ENV_NAME_RE.match(name):
            raise UsageError(f"invalid --env name {name!r}: letters, digits and '_', not starting with a digit")
        if name in result:
            raise UsageError(f"--env {name} given twice")
        result[name] = value
    return result


def api_reason(value: str) -> str:
    """A deploy/rollback reason for the deploy API (docs/deploy-api.md: at most 300 characters)."""
    return reason(value, limit=300, why="it is shown in Slack and the audit trail")
