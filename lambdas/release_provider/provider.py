"""Lambda entry points of the release provider (CDK Provider framework: onEvent + isComplete)."""
from __future__ import annotations

import json
import logging
import os
import time
from functools import lru_cache
from typing import Any

from release import resources

_log = logging.getLogger("release_provider")
_log.setLevel(logging.INFO)


@lru_cache(maxsize=None)
def _client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    if service == "deploy_api":  # the platform's registrar: the only caller of CreateDeployment
        from bgruntime.deploy_api_client import DeployApiClient

        session = boto3.Session()
        return DeployApiClient(base_url=os.environ["DEPLOY_API_URL"], region=session.region_name,
                               credentials=session.get_credentials())
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 5},
                                               connect_timeout=5, read_timeout=20))


def _summary(event: dict) -> str:
    return json.dumps({k: event.get(k) for k in ("RequestType", "ResourceType", "LogicalResourceId", "StackId",
                                                  "PhysicalResourceId")}, sort_keys=True)


def on_event(event: dict, context: Any = None) -> dict:
    _log.info("onEvent %s", _summary(event))
    result = resources.on_event(event, _client, time.time())
    _log.info("onEvent result %s", json.dumps(result, sort_keys=True))
    return result


def is_complete(event: dict, context: Any = None) -> dict:
    result = resources.is_complete(event, _client, time.time())
    if result.get("IsComplete"):
        _log.info("isComplete %s -> %s", _summary(event), json.dumps(result, sort_keys=True))
    return result
