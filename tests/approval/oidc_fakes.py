"""GitHub Actions OIDC test doubles: RSA keys from `cryptography` (installed with moto), RS256 tokens
signed the way GitHub signs them, and a JWKS served from a real HTTP server on 127.0.0.1."""
from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "bluegreen-deploy-api"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class SigningKey:
    _cache: dict[str, Any] = {}

    def __init__(self, kid: str = "github-test-key", bits: int = 2048) -> None:
        if (kid, bits) not in SigningKey._cache:  # key generation is slow: once per process
            SigningKey._cache[(kid, bits)] = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        self.kid = kid
        self.private = SigningKey._cache[(kid, bits)]

    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256", "n": uint(numbers.n), "e": uint(numbers.e)}

    def sign(self, claims: dict[str, Any], *, header: dict[str, Any] | None = None) -> str:
        head = b64url(json.dumps(header or {"alg": "RS256", "typ": "JWT", "kid": self.kid}).encode())
        body = b64url(json.dumps(claims).encode())
        signature = self.private.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{body}.{b64url(signature)}"


def claims(now: float, **overrides: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "aud": AUDIENCE, "iat": int(now) - 10, "nbf": int(now) - 10, "exp": int(now) + 300,
            "sub": "repo:org/app:ref:refs/heads/main", "repository": "org/app", "actor": "alice", "run_id": "42",
            "ref": "refs/heads/main"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


class JwksServer:
    """Serves `{"keys": [...]}` at /.well-known/jwks; counts fetches."""

    def __init__(self, *keys: SigningKey) -> None:
        self.document = {"keys": [k.jwk() for k in keys]}
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.fetches += 1
                data = json.dumps(server.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
