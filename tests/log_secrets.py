"""No secret in any log: distinctive secret values, a capture of everything a handler or bgctl writes, and the check.

`capture_logs(level)` records every log record the project's own loggers emit (whatever their handlers or
propagation), rendered as the platform renders them (`bgruntime.log`'s JSON formatter: message, redacted fields,
exception); tests add what reached stdout/stderr (capfd, bgctl's streams). `assert_no_secret` fails on a secret's
value or any recognizable fragment of it (without its `xoxb-`/`Bearer ` prefix, any 12-character window of it,
base64 or URL-encoded), naming which secret and where.

Plain module (unique name): used by tests/approval, tests/progressive, tests/release_provider and tests/cli.
"""
from __future__ import annotations

import base64
import logging
import re
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

REPO = Path(__file__).resolve().parents[1]

#: Distinctive values: none of them can appear in a log by coincidence.
SLACK_SIGNING_SECRET = "sgnQ7m2Zt9Lp4Xv8Rk3Wc6Hb1Jd5Nf0G"
SLACK_BOT_TOKEN = "xoxb-4417092731-8830551942-Qm7VtZr9KcW3pLx8Nd2Hs6Fy"
SLACK_VERIFICATION_TOKEN = "vrfT4kPq9Ws2Zx7Bn5Mc8Lj3"  # the deprecated `token` field of every Slack payload
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYsecretKEY42"
AWS_SESSION_TOKEN = "IQoJb3JpZ2luX2VjEKr//////////wEaCWV1LXdlc3QtMSJHMEUCIQDsessionTOKENz9Yx8Wv7"
GITHUB_REQUEST_TOKEN = "ghRqTk5Vb8Nm2Xc7Zl4Pw9Qs6Jd3"  # ACTIONS_ID_TOKEN_REQUEST_TOKEN
SMOKE_CHECK_BEARER = "Bearer smkAu7Hq2Ww9Ee4Rr6Tt1Yy3"  # a credential in a smoke check's headers
PREFIXES = ("xoxb-", "Bearer ")
WINDOW = 12

#: The roots of every logger the platform's own code uses (tests/contracts/test_every_handler_is_checked.py
#: keeps this in step with the sources).
PROJECT_LOGGER_ROOTS = ("approval", "bgruntime", "deploy_api", "deployment_notifier", "release_provider",
                        "smoke_tests", "bluegreen_flags")


def fragments(secret: str) -> set[str]:
    """The secret and what would still give it away."""
    core = secret
    for prefix in PREFIXES:
        if core.startswith(prefix):
            core = core[len(prefix):]
    found = {secret, core, urllib.parse.quote(secret, safe=""), base64.b64encode(secret.encode()).decode()}
    found |= {core[i:i + WINDOW] for i in range(0, max(1, len(core) - WINDOW + 1))}
    return {f for f in found if len(f) >= min(WINDOW, len(core))}


def jwt_fragments(token: str) -> set[str]:
    """A JWT gives itself away by its payload or signature (its header is the same for every token)."""
    _, payload, signature = token.split(".")
    return {token, payload, signature} | {signature[i:i + WINDOW] for i in range(0, len(signature) - WINDOW + 1, 7)}


def assert_no_secret(text: str, secrets: Mapping[str, str], *, jwts: Mapping[str, str] | None = None,
                     where: str = "logs") -> None:
    leaks = [(name, fragment) for name, secret in secrets.items() for fragment in fragments(secret)
             if fragment in text]
    leaks += [(name, fragment) for name, token in (jwts or {}).items() for fragment in jwt_fragments(token)
              if fragment in text]
    if leaks:
        name, fragment = leaks[0]
        line = next((line for line in text.splitlines() if fragment in line), "")
        raise AssertionError(f"{where}: the {name} leaks ({len(leaks)} fragment(s), e.g. {fragment!r}) in: "
                             f"{line[:400]}")


@dataclass
class Capture:
    level: int
    records: list[logging.LogRecord] = field(default_factory=list)

    def text(self) -> str:
        """Every record as the platform writes it: one JSON line (message, redacted fields, exception)."""
        from bgruntime.log import _JsonFormatter

        formatter = _JsonFormatter()
        return "\n".join(formatter.format(record) for record in self.records)

    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]


def _is_project(name: str) -> bool:
    return name.split(".")[0] in PROJECT_LOGGER_ROOTS


@contextmanager
def capture_logs(level: int) -> Iterator[Capture]:
    """Set every project logger to `level` and record every record any of them emits."""
    capture = Capture(level)
    names = {n for n in logging.root.manager.loggerDict if _is_project(n)} | set(PROJECT_LOGGER_ROOTS)
    loggers = [logging.getLogger(n) for n in sorted(names)]
    saved = [(logger, logger.level) for logger in loggers]
    original = logging.Logger.handle

    def handle(self: logging.Logger, record: logging.LogRecord) -> None:
        if _is_project(record.name) and (not capture.records or capture.records[-1] is not record):
            capture.records.append(record)
        original(self, record)

    logging.Logger.handle = handle  # type: ignore[method-assign]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield capture
    finally:
        logging.Logger.handle = original  # type: ignore[method-assign]
        for logger, previous in saved:
            logger.setLevel(previous)


LEVELS = {"INFO": logging.INFO, "DEBUG": logging.DEBUG}


def handler_sources() -> list[Path]:
    """Every Python file of the Lambda assets and bgctl."""
    return sorted(p for root in (REPO / "lambdas", REPO / "cli" / "bgctl") for p in root.rglob("*.py")
                  if "__pycache__" not in p.parts)


def logger_names_in_sources() -> set[str]:
    names: set[str] = set()
    for path in handler_sources():
        text = path.read_text()
        names |= set(re.findall(r"get_logger\(\"([^\"]+)\"\)", text))
        names |= set(re.findall(r"getLogger\(\"([^\"]+)\"\)", text))
        if re.search(r"getLogger\(__name__\)", text):
            relative = path.relative_to(REPO / "lambdas" / "layer" / "python") if "layer" in path.parts else None
            names.add(".".join(relative.with_suffix("").parts) if relative else path.stem)
    return names
