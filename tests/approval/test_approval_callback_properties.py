"""Hypothesis: no input makes the callback raise or answer 5xx; parsing is total."""
from __future__ import annotations

import base64
import json
import urllib.parse

from hypothesis import given
from hypothesis import strategies as st

import approval_fakes as fx
from approval_gate import callback_logic
from approval_gate.runtime import Runtime, Settings

NOW = fx.T0
TS = int(NOW.timestamp())


class _Secrets:
    def get_secret_value(self, SecretId):  # noqa: N803
        return {"SecretString": fx.SIGNING_SECRET if "signing" in SecretId else fx.BOT_TOKEN}


class _NoItems:
    """DynamoDB with no approval items: every signed, well-formed click ends as 'not found'."""

    def query(self, **_):
        return {"Items": []}

    def put_item(self, **_):  # pragma: no cover - must never be reached without a request record
        raise AssertionError("no write may happen")

    def transact_write_items(self, **_):  # pragma: no cover
        raise AssertionError("no write may happen")


class _NoCodeDeploy:
    def __getattr__(self, name):  # pragma: no cover
        raise AssertionError(f"CodeDeploy {name} must not be called")


RUNTIME = Runtime(
    Settings(platform="bluegreen", ssm_prefix="/bluegreen", table=fx.TABLE, region="eu-west-1",
             slack_base_url=fx.dead_base_url(), signing_secret_arn="arn:signing", bot_token_secret_arn="arn:token"),
    clients={"secretsmanager": _Secrets(), "dynamodb": _NoItems(), "codedeploy": _NoCodeDeploy(),
             "events": _NoCodeDeploy()},
    clock=lambda: NOW, slack_timeout=0.2)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)

header_values = st.one_of(st.none(), st.text(max_size=80), st.integers(), st.lists(st.text(max_size=10), max_size=2))
events = st.fixed_dictionaries({}, optional={
    "headers": st.one_of(st.none(), st.dictionaries(
        st.one_of(st.sampled_from(["X-Slack-Signature", "x-slack-request-timestamp", "Content-Type"]), st.text(max_size=20)),
        header_values, max_size=4)),
    "multiValueHeaders": st.one_of(st.none(), st.dictionaries(st.text(max_size=30), header_values, max_size=3)),
    "body": st.one_of(st.none(), st.text(max_size=300), st.integers(), st.binary(max_size=50)),
    "isBase64Encoded": st.one_of(st.booleans(), st.none(), st.text(max_size=5)),
})


def _assert_sane(response):
    assert response["statusCode"] in (200, 400, 401, 413)
    if response["statusCode"] == 200:  # a verified click: empty ack, the worker answers the clicker
        assert response["body"] == ""
        return
    body = json.loads(response["body"])
    assert isinstance(body, dict) and isinstance(body["error"], str)


def _assert_handled(event):
    """Sane, and not by the last line of defence: `respond` turns any exception into a generic 200/400
    (`internal-error`), which would otherwise hide a crash in the parser or the rules."""
    answer = callback_logic.respond(event, RUNTIME)
    assert answer.reason != "internal-error"
    _assert_sane(answer.to_apigw())


@given(events)
def test_property_arbitrary_events_never_raise_or_5xx(event):
    _assert_sane(callback_logic.handle(event, RUNTIME))


@given(st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers())))
def test_property_non_mapping_events(event):
    _assert_sane(callback_logic.handle(event, RUNTIME))


@given(body=st.binary(max_size=600), base64_body=st.booleans())
def test_property_signed_arbitrary_bodies(body, base64_body):
    # authentic Slack signature over arbitrary bytes: the parser must cope with anything
    event = fx.apigw_event(body, timestamp=TS, base64_body=True) if base64_body else \
        fx.apigw_event(body.decode("utf-8", "replace"), timestamp=TS)
    _assert_sane(callback_logic.handle(event, RUNTIME))


@given(payload=json_values)
def test_property_signed_arbitrary_json_payloads(payload):
    event = fx.apigw_event(urllib.parse.urlencode({"payload": json.dumps(payload)}), timestamp=TS)
    _assert_handled(event)


@given(user=json_values, action=json_values, action_id=st.sampled_from(["approve", "reject", "other", ""]),
       value=st.one_of(st.text(max_size=30), st.just("d-ABCDEFGHI"), json_values),
       extra=st.dictionaries(st.sampled_from(["container", "channel", "message"]), json_values))
def test_property_signed_block_actions_shapes(user, action, action_id, value, extra):
    payload = {"type": "block_actions", "user": user if not isinstance(user, dict) else {**user, "id": "U0BOB"},
               "actions": [action if not isinstance(action, dict) else {**action, "action_id": action_id, "value": value}],
               **extra}
    event = fx.apigw_event(urllib.parse.urlencode({"payload": json.dumps(payload)}), timestamp=TS)
    _assert_handled(event)


@given(extra=st.dictionaries(st.sampled_from(["container", "channel", "message", "team", "api_app_id"]), json_values),
       action_id=st.sampled_from(["approve", "reject"]))
def test_property_parse_click_of_any_block_actions_shape(extra, action_id):
    """A valid user, action and deployment id with any (or no) channel/container/message/team/app: a Click."""
    payload = {"type": "block_actions", "user": {"id": "U0BOB", "name": "bob"},
               "actions": [{"action_id": action_id, "value": "d-ABCDEFGHI"}], **extra}
    parsed = callback_logic.parse_click(urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), None)
    assert isinstance(parsed, callback_logic.Click)
    assert (parsed.user_id, parsed.action_id, parsed.deployment_id) == ("U0BOB", action_id, "d-ABCDEFGHI")


@given(st.binary(max_size=400), st.one_of(st.none(), st.text(max_size=40)))
def test_property_parse_click_is_total(raw, content_type):
    parsed = callback_logic.parse_click(raw, content_type)
    assert isinstance(parsed, (callback_logic.Click, callback_logic.Answer))
    if isinstance(parsed, callback_logic.Answer):
        assert parsed.status in (200, 400)


@given(st.text(max_size=200))
def test_property_raw_body_is_total(body):
    for encoded in (False, True):
        result = callback_logic.raw_body({"body": body if not encoded else base64.b64encode(body.encode("utf-8",
                                          "surrogatepass")).decode(), "isBase64Encoded": encoded})
        assert isinstance(result, (bytes, callback_logic.Answer))


def test_the_in_memory_runtime_reaches_the_store():
    """Sanity check for the properties above: a well-formed click gets past parsing to the store."""
    event = fx.apigw_event(fx.form_body(fx.block_actions_payload()), timestamp=TS)
    answer = callback_logic.respond(event, RUNTIME)
    assert answer.reason == "not-found" and "No approval request exists for deployment d-ABCDEFGHI" in answer.text
