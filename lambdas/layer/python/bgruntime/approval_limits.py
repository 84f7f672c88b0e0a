"""The one approval expiry limit, shared by config validation, the request hook and the docs.

CodeDeploy fails a lifecycle hook that nobody answered after 60 minutes. The expiry job must run,
retries included, before that deadline, and still leave time to tell CodeDeploy:

    MAX_APPROVAL_EXPIRY_MINUTES (50) + EXPIRY_RETRY_WINDOW_SECONDS (300 s) = 55 min < 60 min.

EventBridge Scheduler's `MaximumEventAgeInSeconds` is EXPIRY_RETRY_WINDOW_SECONDS, so the last
retry of the expiry target happens at most 5 minutes after `expiresAt`.
"""
from __future__ import annotations

CODEDEPLOY_HOOK_DEADLINE_MINUTES = 60
DEFAULT_APPROVAL_EXPIRY_MINUTES = 45
MAX_APPROVAL_EXPIRY_MINUTES = 50
EXPIRY_RETRY_WINDOW_SECONDS = 300
EXPIRY_RETRY_ATTEMPTS = 3

assert MAX_APPROVAL_EXPIRY_MINUTES * 60 + EXPIRY_RETRY_WINDOW_SECONDS < CODEDEPLOY_HOOK_DEADLINE_MINUTES * 60
