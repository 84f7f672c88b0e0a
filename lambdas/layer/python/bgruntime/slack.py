"""A tiny Slack Web API client (urllib only) with a hard timeout.

The base URL is injectable so tests talk to a real HTTP server on 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

DEFAULT_BASE_URL = "https://slack.com/api"


class SlackError(Exception):
    """Slack could not be reached in time, or answered `ok: false`."""

    def __init__(self, method: str, reason: str) -> None:
        super().__init__(f"slack {method} failed: {reason}")
        self.method = method
        self.reason = reason


@dataclass(frozen=True)
class SlackClient:
    token: str
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 2.0

    @classmethod
    def from_env(cls, token: str, *, timeout: float = 2.0) -> "SlackClient":
        return cls(token=token, base_url=os.environ.get("SLACK_API_BASE_URL", DEFAULT_BASE_URL), timeout=timeout)

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON payload to `method`; return the parsed answer or raise SlackError."""
        data = json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.base_url.rstrip('/')}/{method}",
            data=data,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (https or test URL)
                body = response.read(1_000_000)
        except urllib.error.HTTPError as exc:
            raise SlackError(method, f"HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SlackError(method, f"unreachable: {getattr(exc, 'reason', exc)}") from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise SlackError(method, "answer is not JSON") from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error", "unknown") if isinstance(answer, dict) else "unknown"
            raise SlackError(method, str(error))
        return answer

    def post_message(self, *, channel: str, text: str, blocks: list[dict] | None = None,
                     thread_ts: str | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"channel": channel, "text": text}
        if blocks is not None:
            payload["blocks"] = blocks
        if thread_ts is not None:
            payload["thread_ts"] = thread_ts
        return self.call("chat.postMessage", payload)

    def update_message(self, *, channel: str, ts: str, text: str, blocks: list[dict] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"channel": channel, "ts": ts, "text": text}
        if blocks is not None:
            payload["blocks"] = blocks
        return self.call("chat.update", payload)

    def post_ephemeral(self, *, channel: str, user: str, text: str) -> dict[str, Any]:
        """A message only `user` sees (answers to clicks: Slack's block_actions ack carries no message)."""
        return self.call("chat.postEphemeral", {"channel": channel, "user": user, "text": text})

    def usergroup_members(self, usergroup_id: str) -> list[str]:
        answer = self.call("usergroups.users.list", {"usergroup": usergroup_id})
        return [str(u) for u in answer.get("users", [])]

    def user_name(self, user_id: str) -> str:
        answer = self.call("users.info", {"user": user_id})
        user = answer.get("user") or {}
        return str(user.get("real_name") or user.get("name") or user_id)
