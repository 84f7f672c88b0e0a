"""Every event pattern of the platform, defined once (docs/contracts.md, "Custom events").

The constructs build their EventBridge rules and the decision worker's stream filter from these
definitions; the handlers decide what they handle with `matches` on the very same patterns; the
producers (smoke hook, approval gate) put events with the names below. So a rule can never deliver an
event its handler ignores, nor a handler expect one its rule filters out.

`matches` implements the part of the EventBridge pattern syntax the platform uses (Lambda event
filtering has the same syntax): objects nest, a list lists the accepted values (strings, numbers,
booleans, null, or `{"prefix": "..."}`), an array in the event matches when any element does. Any
other rule is refused with ValueError rather than guessed.
"""
from __future__ import annotations

from typing import Any, Mapping

CODEDEPLOY_SOURCE = "aws.codedeploy"
CODEDEPLOY_STATE_CHANGE = "CodeDeploy Deployment State-change Notification"
#: source of the platform's own events (the same for every platform; `detail.platform` names it)
PLATFORM_SOURCE = "bluegreen.platform"
SMOKE_CHECKS_COMPLETED = "Smoke Checks Completed"
APPROVAL_REQUESTED = "Approval Requested"
APPROVAL_DECIDED = "Approval Decided"
PLATFORM_DETAIL_TYPES = (SMOKE_CHECKS_COMPLETED, APPROVAL_REQUESTED, APPROVAL_DECIDED)

Pattern = Mapping[str, Any]


def codedeploy_state_changes(platform: str) -> dict[str, Any]:
    """CodeDeploy state changes of this platform's applications only (`P-D`: the `-` ends the platform name)."""
    return {"source": [CODEDEPLOY_SOURCE], "detail-type": [CODEDEPLOY_STATE_CHANGE],
            "detail": {"application": [{"prefix": f"{platform}-"}]}}


def platform_events(platform: str) -> dict[str, Any]:
    """Smoke results and approval requests/decisions put by this platform (`detail.platform`), not another's."""
    return {"source": [PLATFORM_SOURCE], "detail-type": list(PLATFORM_DETAIL_TYPES),
            "detail": {"platform": [platform]}}


def timeline_patterns(platform: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The deployment notifier's two rules on the default bus."""
    return codedeploy_state_changes(platform), platform_events(platform)


def decision_worker_filters() -> tuple[dict[str, Any], dict[str, Any]]:
    """The audit table stream records the decision worker is invoked for: new DECISION and VOTE# records,
    and refusals of Slack clicks (the clicker is told why). Everything else never reaches it."""
    return ({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"sk": {"S": ["DECISION", {"prefix": "VOTE#"}]}}}},
            {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"via": {"S": ["slack"]},
                                                                "recordType": {"S": ["event"]}}}})


def matches(pattern: Pattern, event: Any) -> bool:
    """Whether `event` matches `pattern` (the EventBridge subset described in the module docstring)."""
    _check(pattern)
    return _matches(pattern, event)


def _check(pattern: Any, where: str = "pattern") -> None:
    """Refuse, whatever the event, any syntax outside the implemented subset."""
    if not isinstance(pattern, Mapping) or not pattern:
        raise ValueError(f"{where}: a pattern is a non-empty object, not {pattern!r}")
    for key, expected in pattern.items():
        if isinstance(expected, Mapping):
            _check(expected, f"{where}.{key}")
        elif isinstance(expected, list) and expected:
            for rule in expected:
                if isinstance(rule, Mapping):
                    if set(rule) != {"prefix"} or not isinstance(rule["prefix"], str):
                        raise ValueError(f"{where}.{key}: unsupported rule {dict(rule)!r} (only {{'prefix': str}})")
                elif not (rule is None or isinstance(rule, (str, int, float, bool))):
                    raise ValueError(f"{where}.{key}: unsupported value {rule!r}")
        else:
            raise ValueError(f"{where}.{key}: an object or a non-empty list of accepted values, not {expected!r}")


def _matches(pattern: Pattern, event: Any) -> bool:
    if not isinstance(event, Mapping):
        return False
    for key, expected in pattern.items():
        if key not in event:
            return False
        value = event[key]
        if isinstance(expected, Mapping):
            if not _matches(expected, value):
                return False
            continue
        candidates = value if isinstance(value, list) else [value]
        if not any(_accepts(rule, candidate) for rule in expected for candidate in candidates):
            return False
    return True


def _accepts(rule: Any, value: Any) -> bool:
    if isinstance(rule, Mapping):
        return isinstance(value, str) and value.startswith(rule["prefix"])
    if rule is None or isinstance(rule, bool):
        return value is rule
    if isinstance(rule, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value == rule
    return isinstance(value, str) and value == rule
