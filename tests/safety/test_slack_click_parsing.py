"""`parse_click` is total: every block_actions payload Slack may send becomes a Click or a refusal, never an
exception. Tested on the function itself: the callback handler turns any exception into a generic 200, so a
crash there would look like a refusal and hide the bug."""
from __future__ import annotations

import json
import urllib.parse

import pytest

from tests.safety.lambda_modules import approval_gate

callback_logic = approval_gate("callback_logic")

DEPLOYMENT_ID = "d-ABCDEFGHI"


def payload(**overrides):
    document = {
        "type": "block_actions", "user": {"id": "U0BOB", "name": "bob"}, "api_app_id": "A0APP",
        "team": {"id": "T0TEAM"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0APPROVALS"},
        "channel": {"id": "C0APPROVALS", "name": "approvals"},
        "message": {"ts": "1700000000.000100"},
        "actions": [{"action_id": "approve", "value": DEPLOYMENT_ID}],
    }
    document.update(overrides)
    return {k: v for k, v in document.items() if v is not None}


def form(document) -> bytes:
    return ("payload=" + urllib.parse.quote(json.dumps(document))).encode()


def test_a_complete_payload_is_a_click():
    click = callback_logic.parse_click(form(payload()), "application/x-www-form-urlencoded")
    assert click == callback_logic.Click(user_id="U0BOB", user_name="bob", action_id="approve",
                                         deployment_id=DEPLOYMENT_ID, channel_id="C0APPROVALS",
                                         message_ts="1700000000.000100", team_id="T0TEAM", app_id="A0APP")


@pytest.mark.parametrize("channel", [None, "C0APPROVALS", [], 7])
def test_a_payload_without_a_channel_object_is_parsed_from_the_container(channel):
    """No `channel` key (or not an object): the channel id comes from `container.channel_id`."""
    click = callback_logic.parse_click(form(payload(channel=channel)), "application/x-www-form-urlencoded")
    assert isinstance(click, callback_logic.Click)
    assert (click.channel_id, click.message_ts, click.deployment_id) == ("C0APPROVALS", "1700000000.000100",
                                                                        DEPLOYMENT_ID)


def test_a_payload_without_channel_container_or_message_has_no_ids_and_is_still_a_click():
    """Nothing to match against the recorded message: the click is parsed, and the message check refuses it."""
    click = callback_logic.parse_click(form(payload(channel=None, container=None, message=None)), None)
    assert isinstance(click, callback_logic.Click)
    assert (click.channel_id, click.message_ts) == (None, None)
    recorded = {"channel": "C0APPROVALS", "ts": "1700000000.000100", "team": "T0TEAM", "appId": "A0APP"}
    assert callback_logic.message_mismatch(click, recorded) == (
        "the button's channel does not match the recorded approval message")
