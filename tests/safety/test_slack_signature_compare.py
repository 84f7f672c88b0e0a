"""Slack signatures are compared in constant time (`hmac.compare_digest`), on the `v0:<timestamp>:<raw body>`
base string. A plain `==` answers the same, so only watching the comparison itself can tell."""
from __future__ import annotations

import hashlib
import hmac
from types import SimpleNamespace

import pytest

from bgruntime import slack_signature

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_900_000_000
BODY = b"payload=%7B%22type%22%3A%22block_actions%22%7D"


def signed(body: bytes, ts: int = NOW) -> str:
    return "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()


@pytest.fixture
def comparisons(monkeypatch):
    seen: list[tuple[bytes, bytes]] = []

    def compare_digest(a, b):
        seen.append((a, b))
        return hmac.compare_digest(a, b)

    monkeypatch.setattr(slack_signature, "hmac", SimpleNamespace(new=hmac.new, compare_digest=compare_digest))
    return seen


@pytest.mark.parametrize(("signature", "verified"), [(signed(BODY), True), (signed(b"payload=forged"), False)])
def test_the_signature_is_compared_in_constant_time(comparisons, signature, verified):
    assert slack_signature.verify_signature(signing_secret=SECRET, timestamp=str(NOW), signature=signature,
                                            body=BODY, now=NOW) is verified
    assert comparisons == [(signed(BODY).encode("ascii"), signature.encode("ascii"))]
