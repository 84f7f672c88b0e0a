"""Block Kit rendering: content, escaping and Slack's size limits."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import approval_fakes as fx
from approval_gate import messages

VIEW = messages.RequestView(
    domain="auth", deployment_id=fx.DEPLOYMENT_ID, image=fx.IMAGE, requester="github:alice",
    requester_slack_id="U0ALICE", started_at=datetime(2030, 5, 1, 11, 53, tzinfo=timezone.utc),
    console_url="https://console/x", test_endpoint="http://auth.bluegreen.internal:9081",
    expires_at=datetime(2030, 5, 1, 12, 45, tzinfo=timezone.utc), expiry_minutes=45,
    approver_user_ids=["U0BOB"], approver_group_ids=["S0RELEASE"])


def _texts(blocks):
    return json.dumps(blocks)


def test_request_message_has_everything_an_approver_needs():
    text, blocks = messages.request_message(VIEW)
    assert text == "Approval needed: auth v2 (deployment d-ABCDEFGHI)"
    rendered = _texts(blocks)
    for expected in ("<@U0ALICE> (github:alice)", "<https://console/x|d-ABCDEFGHI>", "no results recorded",
                     "Other deployments in flight:* none", "<!date^1903869900^", "<@U0BOB>", "<!subteam^S0RELEASE>"):
        assert expected in rendered, expected
    assert blocks[-1]["type"] == "actions"
    approve = blocks[-1]["elements"][0]
    assert approve["action_id"] == "approve" and approve["style"] == "primary" and "confirm" in approve


def test_user_supplied_text_is_escaped_and_capped():
    view = messages.RequestView(**{**VIEW.__dict__, "requester": "<!channel> & <@U0EVIL>", "requester_slack_id": None,
                                   "image": "repo/x:" + "<b>" * 500, "in_flight": None,
                                   "smoke": {"status": "FAILED", "checks": [
                                       {"name": f"check <{i}>", "passed": i % 2 == 0, "status": "500",
                                        "latencyMs": i, "detail": "<!here>"} for i in range(30)]}})
    _, blocks = messages.request_message(view)
    rendered = _texts(blocks)
    assert "<!channel>" not in rendered and "<!here>" not in rendered and "<@U0EVIL>" not in rendered
    assert "&lt;!channel&gt; &amp; &lt;@U0EVIL&gt;" in rendered and "and 20 more" in rendered
    assert "unknown (could not list them)" in rendered
    for block in blocks:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
    assert len(blocks) <= 50


def test_decided_message_shows_who_when_and_codedeploy():
    item = {"domain": "auth", "deploymentId": fx.DEPLOYMENT_ID, "image": fx.IMAGE, "requester": "github:alice",
            "requesterSlackId": "U0ALICE", "requestedAt": "2030-05-01T12:00:00Z", "status": "REJECTED",
            "decidedBy": {"iamArn": "arn:aws:iam::123456789012:user/ops"}, "decidedVia": "cli",
            "decidedAt": "2030-05-01T12:10:00Z", "reason": "smoke <flaky>", "codeDeployStatus": "Failed",
            "codeDeployResult": "OK"}
    text, blocks = messages.decided_message(item, console_url="https://console/x")
    rendered = _texts(blocks)
    assert text == "auth v2 (d-ABCDEFGHI): rejected"
    assert "*Rejected* by arn:aws:iam::123456789012:user/ops" in rendered and "via cli" in rendered
    assert "smoke &lt;flaky&gt;" in rendered and "rolls back" in rendered and '"actions"' not in rendered


def test_image_tag():
    assert messages.image_tag("repo/auth:v2") == "v2"
    assert messages.image_tag("localhost:5000/auth") == "latest"
    assert messages.image_tag("repo/auth@sha256:" + "a" * 64).startswith("sha256:aaaa")
    assert messages.image_tag(None) == "unknown"


def test_ephemeral_shape():
    assert messages.ephemeral("no") == {"response_type": "ephemeral", "replace_original": False, "text": "no"}
