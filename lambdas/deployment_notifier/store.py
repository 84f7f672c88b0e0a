"""The `TIMELINE` audit item (`DEPLOYMENT#<id>` / `TIMELINE`): one Slack thread per deployment.

Attributes (contracts.md): `domain`, `channel`, `threadTs`, `events` (list of strings), plus
bookkeeping: `deploymentId`, `eventIds` (string set, de-duplicates EventBridge's at-least-once
delivery), `pending` (lines not yet posted), `claimToken` / `claimedAt` (who is creating the thread).

Exactly one thread per deployment without waiting or polling:
1. `record` appends the event line (and refuses a repeated event id) and returns the item.
2. No `threadTs` yet -> `claim` (conditional: no thread, no fresh claim). The winner posts the
   parent message, then `complete` sets channel/threadTs and atomically takes `pending`.
3. A loser `queue`s its line into `pending` (conditional: still no thread) and returns; the winner
   posts it. If the condition fails, the thread exists by now and the loser replies itself.
4. A winner whose parent post fails `release`s the claim and leaves its line in `pending`; the next
   event creates the thread and flushes it. A claim older than `stale_after` seconds can be taken over.
"""
from __future__ import annotations

import time
from typing import Any, Callable

SORT_KEY = "TIMELINE"


class ClaimLost(Exception):
    """Another invocation took over a stale claim while this one was posting."""


def _is_conditional_failure(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    return isinstance(response, dict) and response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class TimelineStore:
    def __init__(self, table: Any, deployment_id: str, *, clock: Callable[[], float] = time.time,
                 stale_after: float = 60.0) -> None:
        self.table = table
        self.key = {"pk": f"DEPLOYMENT#{deployment_id}", "sk": SORT_KEY}
        self.deployment_id = deployment_id
        self.clock = clock
        self.stale_after = stale_after

    def get(self) -> dict[str, Any]:
        return self.table.get_item(Key=self.key, ConsistentRead=True).get("Item") or {}

    def record(self, *, event_id: str | None, line: str, domain: str | None) -> dict[str, Any] | None:
        """Append `line` to `events`; None when `event_id` was already recorded (duplicate delivery)."""
        names = {"#events": "events", "#dep": "deploymentId"}
        values: dict[str, Any] = {":line": [line], ":empty": [], ":dep": self.deployment_id}
        sets = ["#events = list_append(if_not_exists(#events, :empty), :line)", "#dep = :dep"]
        if domain:
            names["#domain"] = "domain"
            values[":domain"] = domain
            sets.append("#domain = if_not_exists(#domain, :domain)")
        expression = "SET " + ", ".join(sets)
        kwargs: dict[str, Any] = {}
        if event_id:
            names["#ids"] = "eventIds"
            values[":ids"] = {event_id}
            values[":id"] = event_id
            expression += " ADD #ids :ids"
            kwargs["ConditionExpression"] = "attribute_not_exists(#ids) OR NOT contains(#ids, :id)"
        try:
            answer = self.table.update_item(Key=self.key, UpdateExpression=expression, ExpressionAttributeNames=names,
                                            ExpressionAttributeValues=values, ReturnValues="ALL_NEW", **kwargs)
        except Exception as exc:
            if _is_conditional_failure(exc):
                return None
            raise
        return answer.get("Attributes") or {}

    def claim(self, token: str) -> bool:
        now = self.clock()
        try:
            self.table.update_item(
                Key=self.key,
                UpdateExpression="SET #tok = :tok, #at = :now",
                ConditionExpression="attribute_not_exists(#ts) AND (attribute_not_exists(#tok) OR #at < :stale)",
                ExpressionAttributeNames={"#tok": "claimToken", "#at": "claimedAt", "#ts": "threadTs"},
                ExpressionAttributeValues={":tok": token, ":now": int(now), ":stale": int(now - self.stale_after)},
            )
            return True
        except Exception as exc:
            if _is_conditional_failure(exc):
                return False
            raise

    def complete(self, token: str, *, channel: str, thread_ts: str) -> list[str]:
        """Store the thread; return the queued lines (taken atomically). Raises ClaimLost."""
        try:
            answer = self.table.update_item(
                Key=self.key,
                UpdateExpression="SET #ch = :ch, #ts = :ts REMOVE #tok, #at, #pending",
                ConditionExpression="#tok = :tok",
                ExpressionAttributeNames={"#ch": "channel", "#ts": "threadTs", "#tok": "claimToken",
                                          "#at": "claimedAt", "#pending": "pending"},
                ExpressionAttributeValues={":ch": channel, ":ts": thread_ts, ":tok": token},
                ReturnValues="ALL_OLD",
            )
        except Exception as exc:
            if _is_conditional_failure(exc):
                raise ClaimLost(self.deployment_id) from None
            raise
        return [str(line) for line in (answer.get("Attributes") or {}).get("pending") or []]

    def release(self, token: str, *, lines: list[str]) -> None:
        """Give the claim back after a failed parent post; keep `lines` for whoever comes next."""
        try:
            self.table.update_item(
                Key=self.key,
                UpdateExpression="SET #pending = list_append(if_not_exists(#pending, :empty), :lines) REMOVE #tok, #at",
                ConditionExpression="#tok = :tok",
                ExpressionAttributeNames={"#pending": "pending", "#tok": "claimToken", "#at": "claimedAt"},
                ExpressionAttributeValues={":lines": lines, ":empty": [], ":tok": token},
            )
        except Exception as exc:
            if not _is_conditional_failure(exc):
                raise

    def queue(self, lines: list[str], *, only_without_thread: bool) -> bool:
        """Append to `pending`. With `only_without_thread`, False when the thread exists meanwhile."""
        kwargs: dict[str, Any] = {}
        names = {"#pending": "pending"}
        if only_without_thread:
            kwargs["ConditionExpression"] = "attribute_not_exists(#ts)"
            names["#ts"] = "threadTs"
        try:
            self.table.update_item(
                Key=self.key,
                UpdateExpression="SET #pending = list_append(if_not_exists(#pending, :empty), :lines)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":lines": lines, ":empty": []},
                **kwargs,
            )
            return True
        except Exception as exc:
            if _is_conditional_failure(exc):
                return False
            raise

    def take_pending(self) -> list[str]:
        """Atomically remove and return queued lines once a thread exists (empty when none)."""
        try:
            answer = self.table.update_item(
                Key=self.key,
                UpdateExpression="REMOVE #pending",
                ConditionExpression="attribute_exists(#pending) AND attribute_exists(#ts)",
                ExpressionAttributeNames={"#pending": "pending", "#ts": "threadTs"},
                ReturnValues="ALL_OLD",
            )
        except Exception as exc:
            if _is_conditional_failure(exc):
                return []
            raise
        return [str(line) for line in (answer.get("Attributes") or {}).get("pending") or []]
