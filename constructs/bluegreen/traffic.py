"""Traffic shifting styles and their mapping to CodeDeploy ECS deployment configurations."""
from __future__ import annotations

from dataclasses import dataclass

# CodeDeploy's predefined ECS configurations, keyed by (style, percentage, interval minutes).
PREDEFINED_ECS_CONFIGS: dict[tuple[str, int, int], str] = {
    ("all_at_once", 100, 0): "CodeDeployDefault.ECSAllAtOnce",
    ("canary", 10, 5): "CodeDeployDefault.ECSCanary10Percent5Minutes",
    ("canary", 10, 15): "CodeDeployDefault.ECSCanary10Percent15Minutes",
    ("linear", 10, 1): "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
    ("linear", 10, 3): "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
}
STYLES = ("all_at_once", "canary", "linear")
# CodeDeploy TimeBasedCanary/TimeBasedLinear: percentage 1..99, interval 1..2880 minutes.
MIN_PERCENTAGE, MAX_PERCENTAGE = 1, 99
MIN_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES = 1, 2880


@dataclass(frozen=True)
class TrafficShift:
    """All at once, canary (percentage then the rest after N minutes) or linear (percentage every N minutes)."""

    style: str
    percentage: int = 100
    interval_minutes: int = 0

    @classmethod
    def all_at_once(cls) -> "TrafficShift":
        return cls(style="all_at_once")

    @classmethod
    def canary(cls, percentage: int, interval_minutes: int) -> "TrafficShift":
        return cls(style="canary", percentage=percentage, interval_minutes=interval_minutes)

    @classmethod
    def linear(cls, percentage: int, interval_minutes: int) -> "TrafficShift":
        return cls(style="linear", percentage=percentage, interval_minutes=interval_minutes)

    @property
    def predefined_config_name(self) -> str | None:
        return PREDEFINED_ECS_CONFIGS.get((self.style, self.percentage, self.interval_minutes))

    def custom_config_name(self, platform: str) -> str:
        kind = "Canary" if self.style == "canary" else "Linear"
        every = "Every" if self.style == "linear" else ""
        return f"{platform}-ECS{kind}{self.percentage}Percent{every}{self.interval_minutes}Minutes"

    def config_name(self, platform: str) -> str:
        return self.predefined_config_name or self.custom_config_name(platform)

    @property
    def total_shift_minutes(self) -> int:
        if self.style == "all_at_once":
            return 0
        if self.style == "canary":
            return self.interval_minutes
        steps = -(-100 // self.percentage)  # ceil
        return (steps - 1) * self.interval_minutes

    def problems(self) -> list[tuple[str, str, str]]:
        if self.style not in STYLES:
            return [("traffic.style", f"unknown style {self.style!r}", f"use one of {', '.join(STYLES)}")]
        if self.style == "all_at_once":
            return []
        found = []
        if not MIN_PERCENTAGE <= self.percentage <= MAX_PERCENTAGE:
            found.append(("traffic.percentage", f"{self.percentage} is outside CodeDeploy's range 1..99",
                          "use a percentage between 1 and 99 (100 means all_at_once)"))
        if not MIN_INTERVAL_MINUTES <= self.interval_minutes <= MAX_INTERVAL_MINUTES:
            found.append(("traffic.interval_minutes",
                          f"{self.interval_minutes} is outside CodeDeploy's range 1..2880",
                          "use between 1 and 2880 minutes"))
        return found
