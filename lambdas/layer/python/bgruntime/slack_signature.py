"""Verify Slack request signatures (https://api.slack.com/authentication/verifying-requests-from-slack).

Slack signs every request with `X-Slack-Signature: v0=<hex HMAC-SHA256>` computed over
`v0:{X-Slack-Request-Timestamp}:{raw body}` with the app's signing secret. We recompute it on the
raw bytes (after base64-decoding an API Gateway body, before any parsing), compare in constant
time and refuse timestamps more than five minutes away from now in either direction (replay).

Nothing here raises: any garbage in any argument is simply "not verified".
"""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

VERSION = "v0"
TOLERANCE_SECONDS = 300
_SIGNATURE_LENGTH = len("v0=") + 64
_MAX_TIMESTAMP_DIGITS = 12
_HEX = frozenset("0123456789abcdef")


def compute_signature(signing_secret: str | bytes, timestamp: str | int, body: bytes | str) -> str:
    """The `X-Slack-Signature` value Slack would send for this timestamp and raw body."""
    key = signing_secret.encode() if isinstance(signing_secret, str) else bytes(signing_secret)
    raw = body.encode() if isinstance(body, str) else bytes(body)
    base = f"{VERSION}:{timestamp}:".encode() + raw
    return f"{VERSION}=" + hmac.new(key, base, hashlib.sha256).hexdigest()


def signature_problem(
    *,
    signing_secret: Any,
    timestamp: Any,
    signature: Any,
    body: Any,
    now: float | None = None,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> str | None:
    """Why this request is not authentic, or None when it is. Never raises.

    Reasons are short log-friendly words: `no-secret`, `missing-timestamp`, `bad-timestamp`,
    `stale-timestamp`, `future-timestamp`, `missing-signature`, `malformed-signature`,
    `bad-body`, `mismatch`.
    """
    try:
        return _problem(signing_secret, timestamp, signature, body, now, tolerance_seconds)
    except Exception:  # noqa: BLE001 - defensive: garbage must never escape as an exception
        return "unverifiable"


def verify_signature(
    *,
    signing_secret: Any,
    timestamp: Any,
    signature: Any,
    body: Any,
    now: float | None = None,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> bool:
    """True only for an authentic, fresh Slack request. Never raises."""
    return (
        signature_problem(
            signing_secret=signing_secret,
            timestamp=timestamp,
            signature=signature,
            body=body,
            now=now,
            tolerance_seconds=tolerance_seconds,
        )
        is None
    )


def _problem(signing_secret: Any, timestamp: Any, signature: Any, body: Any,
             now: float | None, tolerance_seconds: int) -> str | None:
    if isinstance(signing_secret, str):
        try:
            key = signing_secret.encode("utf-8")
        except UnicodeError:
            return "no-secret"
    elif isinstance(signing_secret, (bytes, bytearray)):
        key = bytes(signing_secret)
    else:
        return "no-secret"
    if not key:
        return "no-secret"

    if timestamp is None or timestamp == "":
        return "missing-timestamp"
    if isinstance(timestamp, bytes):
        try:
            timestamp = timestamp.decode("ascii")
        except UnicodeError:
            return "bad-timestamp"
    if not isinstance(timestamp, str):
        return "bad-timestamp"
    # Only plain ASCII digits: no sign, no spaces, no unicode digits, no exponent.
    if not (0 < len(timestamp) <= _MAX_TIMESTAMP_DIGITS) or not all("0" <= c <= "9" for c in timestamp):
        return "bad-timestamp"
    sent_at = int(timestamp)
    current = time.time() if now is None else float(now)
    if current - sent_at > tolerance_seconds:
        return "stale-timestamp"
    if sent_at - current > tolerance_seconds:
        return "future-timestamp"

    if signature is None or signature == "":
        return "missing-signature"
    if isinstance(signature, bytes):
        try:
            signature = signature.decode("ascii")
        except UnicodeError:
            return "malformed-signature"
    if not isinstance(signature, str):
        return "malformed-signature"
    if (len(signature) != _SIGNATURE_LENGTH or not signature.startswith(f"{VERSION}=")
            or not all(c in _HEX for c in signature[3:])):
        return "malformed-signature"

    if isinstance(body, str):
        try:
            raw = body.encode("utf-8")
        except UnicodeError:
            return "bad-body"
    elif isinstance(body, (bytes, bytearray, memoryview)):
        raw = bytes(body)
    elif body is None:
        raw = b""
    else:
        return "bad-body"

    expected = compute_signature(key, timestamp, raw)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
        return "mismatch"
    return None
