"""AWS AppConfig feature flags: typed specs, hosted content, the CDK construct and the agent sidecar.

The construct names (`FeatureFlags`, `add_appconfig_agent_sidecar`, ...) are imported lazily so the
spec parser and the stdlib flag client (`bluegreen.feature_flags.sdk.bluegreen_flags`) load without
aws-cdk-lib.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bluegreen.feature_flags.hosted_content import feature_flags_document, feature_flags_json
from bluegreen.feature_flags.spec import (
    DomainFlagsSpec,
    FeatureFlagSpec,
    FlagRolloutSpec,
    FlagTargeting,
    GrowthType,
    parse_domain_flags,
    parse_feature_flags,
)

if TYPE_CHECKING:
    from bluegreen.feature_flags.construct import (
        AGENT_CONTAINER_NAME,
        DEFAULT_AGENT_IMAGE,
        FeatureFlags,
        add_appconfig_agent_sidecar,
    )

_LAZY = {"FeatureFlags", "add_appconfig_agent_sidecar", "flag_rollout_strategy", "DEFAULT_AGENT_IMAGE", "AGENT_CONTAINER_NAME"}

__all__ = [
    "flag_rollout_strategy",
    "AGENT_CONTAINER_NAME",
    "DEFAULT_AGENT_IMAGE",
    "DomainFlagsSpec",
    "FeatureFlagSpec",
    "FeatureFlags",
    "FlagRolloutSpec",
    "FlagTargeting",
    "GrowthType",
    "add_appconfig_agent_sidecar",
    "feature_flags_document",
    "feature_flags_json",
    "parse_domain_flags",
    "parse_feature_flags",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from bluegreen.feature_flags import construct

        return getattr(construct, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
