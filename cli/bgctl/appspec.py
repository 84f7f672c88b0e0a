"""The ECS AppSpec handed to CodeDeploy (`revisionType: AppSpecContent`).

Hooks are named in the AppSpec (not the deployment group), in lifecycle order, from the domain's published
metadata; events whose hook is null are left out.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from .metadata import HOOK_EVENTS


def build(*, task_definition_arn: str, container_name: str, container_port: int,
          hooks: Mapping[str, str | None]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": "0.0",  # as AWS documents it (a string)
        "Resources": [{
            "TargetService": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "TaskDefinition": task_definition_arn,
                    "LoadBalancerInfo": {"ContainerName": container_name, "ContainerPort": int(container_port)},
                },
            },
        }],
    }
    ordered = [{event: hooks[event]} for event in HOOK_EVENTS if hooks.get(event)]
    if ordered:
        spec["Hooks"] = ordered
    return spec


def revision(spec: Mapping[str, Any]) -> dict[str, Any]:
    content = json.dumps(spec, separators=(",", ":"))
    return {
        "revisionType": "AppSpecContent",
        "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()},
    }


def task_definition_of(revision_location: Mapping[str, Any] | None) -> str | None:
    """The TaskDefinition named by a deployment's AppSpecContent revision (None if not readable)."""
    content = ((revision_location or {}).get("appSpecContent") or {}).get("content")
    if not content:
        return None
    try:
        spec = json.loads(content)
    except ValueError:
        return None  # YAML AppSpecs (written by other tools) are not parsed; callers fall back
    try:
        return str(spec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"])
    except (KeyError, IndexError, TypeError):
        return None
