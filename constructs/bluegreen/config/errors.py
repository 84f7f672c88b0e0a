"""The one error type configuration problems raise."""
from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem, phrased for the person who wrote the file.

    `source` is the file (or "embedded default"), `field` a dotted path such as
    `domains.voice.drain.deregistration_delay_seconds`, `fix` what to do about it.
    """

    def __init__(self, *, source: str, field: str, problem: str, fix: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(f"{source}: {field}: {problem}. Fix: {fix}")
