"""GitHub OIDC token verification: RS256 against GitHub's JWKS (served from 127.0.0.1), every claim checked."""
from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import approval_fakes as fx  # noqa: F401 - puts the layer on sys.path
import oidc_fakes as oidc
from bgruntime.github_oidc import (
    JwksCache, RsaKey, TokenError, parse_jwks, pkcs1_v15_sha256_verify, verify_token,
)

NOW = 1_900_000_000.0
KEY = oidc.SigningKey()
OTHER = oidc.SigningKey("other-key")
REPOS = ["org/app"]


@pytest.fixture(scope="module")
def jwks_server():
    server = oidc.JwksServer(KEY)
    yield server
    server.close()


@pytest.fixture()
def jwks(jwks_server):
    return JwksCache(jwks_server.url, clock=lambda: 0.0)


def verify(token, jwks, now=NOW, repos=REPOS):
    return verify_token(token, jwks=jwks, now=now, allowed_repositories=repos)


def test_valid_token_yields_the_actor(jwks):
    claims = verify(KEY.sign(oidc.claims(NOW)), jwks)
    assert (claims.actor, claims.repository, claims.run_id, claims.ref) == ("alice", "org/app", "42",
                                                                            "refs/heads/main")


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"iss": "https://evil.example"}, "issuer is not GitHub Actions"),
    ({"aud": "sts.amazonaws.com"}, "audience is not bluegreen-deploy-api"),
    ({"exp": int(NOW) - 61}, "token expired"),
    ({"nbf": int(NOW) + 120}, "token not valid yet"),
    ({"iat": int(NOW) + 120}, "token issued in the future"),
    ({"repository": "org/other"}, "repository is not a configured deployer"),
    ({"actor": None}, "actor or sub missing"),
    ({"exp": None}, "exp missing"),
])
def test_each_claim_is_checked(jwks, overrides, reason):
    with pytest.raises(TokenError) as error:
        verify(KEY.sign(oidc.claims(NOW, **overrides)), jwks)
    assert error.value.reason == reason


def test_audience_list_and_leeway(jwks):
    assert verify(KEY.sign(oidc.claims(NOW, aud=["x", "bluegreen-deploy-api"], exp=int(NOW) - 59)), jwks).actor == "alice"


@pytest.mark.parametrize(("header", "reason"), [
    ({"alg": "HS256", "kid": "github-test-key"}, "only RS256 tokens with a key id are accepted"),
    ({"alg": "none", "kid": "github-test-key"}, "only RS256 tokens with a key id are accepted"),
    ({"alg": "RS256"}, "only RS256 tokens with a key id are accepted"),
    ({"alg": "RS256", "kid": "github-test-key", "crit": ["b64"]}, "critical header extensions are not supported"),
])
def test_header_rules(jwks, header, reason):
    with pytest.raises(TokenError) as error:
        verify(KEY.sign(oidc.claims(NOW), header=header), jwks)
    assert error.value.reason == reason


def test_a_key_github_does_not_publish_is_refused(jwks, jwks_server):
    with pytest.raises(TokenError, match="signing key not published by GitHub"):
        verify(OTHER.sign(oidc.claims(NOW)), jwks)
    forged = OTHER.sign(oidc.claims(NOW), header={"alg": "RS256", "kid": KEY.kid})  # right kid, wrong key
    with pytest.raises(TokenError, match="signature does not verify"):
        verify(forged, jwks)


def test_jwks_is_cached_and_refetched_for_unknown_kids(jwks_server):
    now = [0.0]
    cache = JwksCache(jwks_server.url, clock=lambda: now[0], ttl=3600)
    for _ in range(3):
        verify(KEY.sign(oidc.claims(NOW)), cache)
    assert cache.fetches == 1
    with pytest.raises(TokenError):
        verify(OTHER.sign(oidc.claims(NOW)), cache)  # unknown kid: one refetch
    assert cache.fetches == 2
    now[0] = 4000.0
    verify(KEY.sign(oidc.claims(NOW)), cache)
    assert cache.fetches == 3


def test_unreachable_jwks_fails_closed():
    cache = JwksCache(fx.dead_base_url() + "/jwks", timeout=0.5)
    with pytest.raises(TokenError, match="GitHub signing keys unavailable"):
        verify(KEY.sign(oidc.claims(NOW)), cache)


def test_jwks_parsing_skips_foreign_keys():
    keys = parse_jwks({"keys": [KEY.jwk(), {"kty": "EC", "kid": "ec"}, {"kty": "RSA", "kid": "enc", "use": "enc",
                                                                        "n": "AQAB", "e": "AQAB"}, "junk"]})
    assert list(keys) == [KEY.kid]
    with pytest.raises(TokenError):
        parse_jwks([])


def test_small_or_malformed_keys_never_verify():
    assert not pkcs1_v15_sha256_verify(RsaKey(n=3233, e=17), b"m", b"\x00" * 2)
    numbers = KEY.private.public_key().public_numbers()
    key = RsaKey(numbers.n, numbers.e)
    assert not pkcs1_v15_sha256_verify(key, b"m", b"\x00" * 10)  # wrong length
    assert not pkcs1_v15_sha256_verify(key, b"m", (numbers.n + 1).to_bytes(256, "big"))  # s >= n


@settings(max_examples=60)
@given(st.data())
def test_property_any_tampering_is_refused(data):
    jwks = JwksCache(fetch=lambda url, timeout: json.dumps({"keys": [KEY.jwk()]}).encode())
    token = KEY.sign(oidc.claims(NOW, actor=data.draw(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True))))
    part = data.draw(st.sampled_from([0, 1, 2]))
    pieces = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(pieces[part] + "=" * (-len(pieces[part]) % 4)))
    index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[index] ^= data.draw(st.integers(min_value=1, max_value=255))
    pieces[part] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(TokenError):
        verify(".".join(pieces), jwks)


@settings(max_examples=40)
@given(actor=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}", fullmatch=True), run_id=st.integers(1, 10 ** 12),
       age=st.integers(min_value=-60, max_value=299))
def test_property_every_genuine_token_verifies(actor, run_id, age):
    jwks = JwksCache(fetch=lambda url, timeout: json.dumps({"keys": [KEY.jwk()]}).encode())
    token = KEY.sign(oidc.claims(NOW - age, actor=actor, run_id=str(run_id)))
    claims = verify(token, jwks)
    assert (claims.actor, claims.run_id) == (actor, str(run_id))


@given(st.text(max_size=200))
def test_property_garbage_never_raises_anything_but_token_error(text):
    jwks = JwksCache(fetch=lambda url, timeout: json.dumps({"keys": [KEY.jwk()]}).encode())
    with pytest.raises(TokenError):
        verify(text, jwks)


@pytest.mark.parametrize("token", ["a.b.c", "A.AA.A", "e30.e30.A", "....", "x" * 9000])
def test_malformed_segments_are_token_errors(token):
    jwks = JwksCache(fetch=lambda url, timeout: json.dumps({"keys": [KEY.jwk()]}).encode())
    with pytest.raises(TokenError):
        verify(token, jwks)
