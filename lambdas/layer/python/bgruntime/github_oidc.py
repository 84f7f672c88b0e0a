"""Verify a GitHub Actions OIDC token (RS256 JWT) with the standard library only.

GitHub signs the ID token a workflow requests (`core.getIDToken(audience)`) with the keys published at
`https://token.actions.githubusercontent.com/.well-known/jwks`. Verification here:

1. header `alg` must be RS256 and `kid` must name a key of the JWKS (fetched over HTTPS, cached for
   an hour, refetched once for an unknown `kid`; `GITHUB_OIDC_JWKS_URL` overrides the URL for tests);
2. RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 section 8.2.2): `m = s^e mod n`, encoded as `k` bytes,
   compared in constant time with `0x00 01 FF..FF 00 || DigestInfo(SHA-256) || H(header.payload)`;
3. claims: `iss` is GitHub's issuer, `aud` is the expected audience, `exp` in the future, `nbf` and
   `iat` not in the future (60 s leeway each), `repository` in the allowed list, `actor` present.

Every failure raises `TokenError` with a short, secret-free reason; the token itself is never logged.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

ISSUER = "https://token.actions.githubusercontent.com"
JWKS_URL = f"{ISSUER}/.well-known/jwks"
AUDIENCE = "bluegreen-deploy-api"
LEEWAY_SECONDS = 60
MAX_TOKEN_BYTES = 8192
JWKS_TTL_SECONDS = 3600.0
#: DER prefix of DigestInfo for SHA-256 (RFC 8017 section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


class TokenError(Exception):
    """The token is not a valid GitHub Actions OIDC token for this platform (`reason` is safe to show)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RsaKey:
    n: int
    e: int

    @property
    def size_bytes(self) -> int:
        return (self.n.bit_length() + 7) // 8


@dataclass(frozen=True)
class GithubClaims:
    actor: str
    repository: str
    run_id: str | None
    ref: str | None
    subject: str
    environment: str | None


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or not text or len(text) % 4 == 1 or any(c not in _B64URL for c in text):
        raise TokenError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:  # binascii.Error
        raise TokenError("not base64url") from None


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url_uint(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


def pkcs1_v15_sha256_verify(key: RsaKey, message: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 verification with SHA-256; constant-time compare of the encoded message."""
    k = key.size_bytes
    if key.n < 2 ** 1023 or key.e < 3 or len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    encoded = pow(s, key.e, key.n).to_bytes(k, "big")
    digest_info = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    padding = k - len(digest_info) - 3
    if padding < 8:
        return False
    expected = b"\x00\x01" + b"\xff" * padding + b"\x00" + digest_info
    return hmac.compare_digest(encoded, expected)


def parse_jwks(document: Any) -> dict[str, RsaKey]:
    """`{"keys": [{"kty": "RSA", "kid", "n", "e"}, ...]}` -> {kid: key}; other keys are skipped."""
    keys: dict[str, RsaKey] = {}
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise TokenError("JWKS is not a key set")
    for jwk in document["keys"]:
        if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA" or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("use") not in (None, "sig") or jwk.get("alg") not in (None, "RS256"):
            continue
        try:
            keys[jwk["kid"]] = RsaKey(n=b64url_uint(jwk["n"]), e=b64url_uint(jwk["e"]))
        except (TokenError, KeyError, TypeError, ValueError):
            continue
    return keys


class JwksCache:
    """GitHub's signing keys, fetched on first use and cached for `ttl` seconds (thread-safe)."""

    def __init__(self, url: str | None = None, *, ttl: float = JWKS_TTL_SECONDS, timeout: float = 2.0,
                 clock: Callable[[], float] = time.monotonic,
                 fetch: Callable[[str, float], bytes] | None = None) -> None:
        self.url = url or os.environ.get("GITHUB_OIDC_JWKS_URL") or JWKS_URL
        self.ttl, self.timeout, self.clock = ttl, timeout, clock
        self._fetch = fetch or _http_get
        self._keys: dict[str, RsaKey] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> RsaKey:
        with self._lock:
            fresh = self._fetched_at is not None and self.clock() - self._fetched_at < self.ttl
            if not fresh or kid not in self._keys:
                self._refresh()
            if kid not in self._keys:
                raise TokenError("signing key not published by GitHub")
            return self._keys[kid]

    def _refresh(self) -> None:
        try:
            raw = self._fetch(self.url, self.timeout)
            keys = parse_jwks(json.loads(raw))
        except TokenError:
            raise
        except Exception as exc:  # noqa: BLE001 - network or JSON problems: fail closed
            raise TokenError(f"GitHub signing keys unavailable ({type(exc).__name__})") from None
        self.fetches += 1
        self._keys, self._fetched_at = keys, self.clock()


def _http_get(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - https (or a test URL)
        return response.read(256 * 1024)


def verify_token(token: Any, *, jwks: JwksCache, now: float, allowed_repositories: Iterable[str],
                 audience: str = AUDIENCE) -> GithubClaims:
    """The verified claims of `token`, or TokenError. `now` is epoch seconds (injected clock)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_BYTES:
        raise TokenError("token missing or too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("not a JWS compact token")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise TokenError("header or payload is not JSON") from None
    signature = b64url_decode(parts[2])
    if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
        raise TokenError("only RS256 tokens with a key id are accepted")
    if "crit" in header:
        raise TokenError("critical header extensions are not supported")
    key = jwks.key(header["kid"])
    if not pkcs1_v15_sha256_verify(key, f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
        raise TokenError("signature does not verify")
    if not isinstance(payload, dict):
        raise TokenError("payload is not a JSON object")
    return check_claims(payload, now=now, allowed_repositories=allowed_repositories, audience=audience)


def check_claims(payload: Mapping[str, Any], *, now: float, allowed_repositories: Iterable[str],
                 audience: str = AUDIENCE) -> GithubClaims:
    if payload.get("iss") != ISSUER:
        raise TokenError("issuer is not GitHub Actions")
    aud = payload.get("aud")
    if not (aud == audience or (isinstance(aud, list) and audience in aud)):
        raise TokenError(f"audience is not {audience}")
    for claim in ("exp", "iat"):
        if isinstance(payload.get(claim), bool) or not isinstance(payload.get(claim), (int, float)):
            raise TokenError(f"{claim} missing")
    if payload["exp"] <= now - LEEWAY_SECONDS:
        raise TokenError("token expired")
    if payload["iat"] > now + LEEWAY_SECONDS:
        raise TokenError("token issued in the future")
    nbf = payload.get("nbf")
    if nbf is not None and (isinstance(nbf, bool) or not isinstance(nbf, (int, float)) or nbf > now + LEEWAY_SECONDS):
        raise TokenError("token not valid yet")
    repository, actor, subject = payload.get("repository"), payload.get("actor"), payload.get("sub")
    if not isinstance(repository, str) or repository not in set(allowed_repositories):
        raise TokenError("repository is not a configured deployer")
    if not isinstance(actor, str) or not actor or not isinstance(subject, str):
        raise TokenError("actor or sub missing")

    def text(name: str) -> str | None:
        value = payload.get(name)
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None

    return GithubClaims(actor=actor, repository=repository, run_id=text("run_id"), ref=text("ref"),
                        subject=subject, environment=text("environment"))
