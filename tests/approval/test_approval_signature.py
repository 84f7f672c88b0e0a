"""bgruntime.slack_signature: Slack's documented example, freshness, mutations, garbage."""
from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bgruntime.slack_signature import compute_signature, signature_problem, verify_signature

NOW = 1_900_000_000
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"

# Slack's published example (api.slack.com/authentication/verifying-requests-from-slack).
SLACK_DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
SLACK_DOC_TS = "1531420618"
SLACK_DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slack_documented_example_verifies():
    assert compute_signature(SECRET, SLACK_DOC_TS, SLACK_DOC_BODY) == SLACK_DOC_SIGNATURE
    assert verify_signature(signing_secret=SECRET, timestamp=SLACK_DOC_TS, signature=SLACK_DOC_SIGNATURE,
                            body=SLACK_DOC_BODY.encode(), now=int(SLACK_DOC_TS) + 10)


def _sig(body: bytes, ts: int | str = NOW, secret: str = SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("offset", "expected"), [
    (0, None), (300, None), (-300, None), (301, "stale-timestamp"), (-301, "future-timestamp"),
    (86_400, "stale-timestamp")])
def test_freshness_window_is_five_minutes_both_ways(offset, expected):
    ts = NOW - offset
    assert signature_problem(signing_secret=SECRET, timestamp=str(ts), signature=_sig(b"x", ts), body=b"x",
                             now=NOW) == expected


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"signing_secret": ""}, "no-secret"),
    ({"signing_secret": None}, "no-secret"),
    ({"timestamp": None}, "missing-timestamp"),
    ({"timestamp": ""}, "missing-timestamp"),
    ({"timestamp": " 1900000000"}, "bad-timestamp"),
    ({"timestamp": "+1900000000"}, "bad-timestamp"),
    ({"timestamp": "1900000000.5"}, "bad-timestamp"),
    ({"timestamp": "１９００００００００"}, "bad-timestamp"),  # full-width digits
    ({"timestamp": "9" * 400}, "bad-timestamp"),
    ({"timestamp": 1900000000}, "bad-timestamp"),
    ({"signature": None}, "missing-signature"),
    ({"signature": "v1=" + "0" * 64}, "malformed-signature"),
    ({"signature": "v0=" + "G" * 64}, "malformed-signature"),
    ({"signature": "v0=" + "é" * 64}, "malformed-signature"),
    ({"signature": ["v0=abc"]}, "malformed-signature"),
    ({"body": 12}, "bad-body"),
    ({"body": "\udcff"}, "bad-body"),
    ({"body": b"y"}, "mismatch"),
])
def test_garbage_is_refused_with_a_reason(kwargs, problem):
    args = {"signing_secret": SECRET, "timestamp": str(NOW), "signature": _sig(b"x"), "body": b"x"}
    args.update(kwargs)
    assert signature_problem(**args, now=NOW) == problem
    assert verify_signature(**args, now=NOW) is False


def test_uppercase_hex_is_not_accepted():
    # Slack sends lowercase hex; anything else is not what Slack signed.
    assert not verify_signature(signing_secret=SECRET, timestamp=str(NOW), signature=_sig(b"x").upper().replace("V0", "v0"),
                                body=b"x", now=NOW)


def test_str_and_bytes_body_are_equivalent():
    assert verify_signature(signing_secret=SECRET, timestamp=str(NOW), signature=_sig("é".encode()), body="é", now=NOW)
    assert verify_signature(signing_secret=SECRET.encode(), timestamp=str(NOW).encode(),
                            signature=_sig(b"x").encode(), body=b"x", now=NOW)


bodies = st.binary(max_size=2048)


@given(secret=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=64),
       body=bodies, skew=st.integers(min_value=-300, max_value=300))
def test_property_valid_signature_always_verifies(secret, body, skew):
    ts = NOW + skew
    assert verify_signature(signing_secret=secret, timestamp=str(ts), signature=compute_signature(secret, ts, body),
                            body=body, now=NOW)


@given(body=bodies, data=st.data())
def test_property_any_mutation_fails(body, data):
    ts = NOW
    good = compute_signature(SECRET, ts, body)
    kind = data.draw(st.sampled_from(["body", "timestamp", "signature", "secret"]))
    if kind == "body":
        mutated = data.draw(bodies)
        assume(mutated != body)
        args = dict(signing_secret=SECRET, timestamp=str(ts), signature=good, body=mutated)
    elif kind == "timestamp":
        other = data.draw(st.integers(min_value=NOW - 300, max_value=NOW + 300))
        assume(other != ts)
        args = dict(signing_secret=SECRET, timestamp=str(other), signature=good, body=body)
    elif kind == "signature":
        position = data.draw(st.integers(min_value=3, max_value=len(good) - 1))
        replacement = data.draw(st.sampled_from("0123456789abcdef"))
        assume(good[position] != replacement)
        args = dict(signing_secret=SECRET, timestamp=str(ts), signature=good[:position] + replacement + good[position + 1:],
                    body=body)
    else:
        other = data.draw(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
        assume(other != SECRET)
        args = dict(signing_secret=other, timestamp=str(ts), signature=good, body=body)
    assert not verify_signature(**args, now=NOW)


@given(secret=st.one_of(st.none(), st.text(), st.binary(), st.integers()),
       timestamp=st.one_of(st.none(), st.text(), st.binary(), st.integers(), st.floats()),
       signature=st.one_of(st.none(), st.text(), st.binary(), st.lists(st.text())),
       body=st.one_of(st.none(), st.text(), st.binary(), st.integers(), st.dictionaries(st.text(), st.text())))
def test_property_never_raises(secret, timestamp, signature, body):
    result = verify_signature(signing_secret=secret, timestamp=timestamp, signature=signature, body=body, now=NOW)
    assert result in (True, False)
