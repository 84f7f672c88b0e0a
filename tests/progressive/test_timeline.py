"""Pure timeline formatting and event classification."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from progressive_support import PLATFORM, load_event, load_lambda

timeline = load_lambda("deployment_notifier", "timeline")
Alarm = timeline.Alarm


def test_classify_codedeploy_state_event():
    event = timeline.classify(load_event("codedeploy_state_start.json"), PLATFORM)
    assert (event.kind, event.state, event.domain, event.deployment_id) == ("state", "START", "auth", "d-7EXAMPLE1")
    assert event.event_id == "6f1c2a3e-0d4b-4c1e-9b7a-1f2e3d4c5b01" and not event.terminal
    assert timeline.classify(load_event("codedeploy_state_failure.json"), PLATFORM).terminal


def test_classify_platform_events():
    kinds = {name: timeline.classify(load_event(name), PLATFORM).kind for name in (
        "platform_smoke_checks_completed.json", "platform_approval_requested.json", "platform_approval_decided.json")}
    assert kinds == {"platform_smoke_checks_completed.json": "smoke",
                     "platform_approval_requested.json": "approval_requested",
                     "platform_approval_decided.json": "approval_decided"}


def test_classify_ignores_other_platforms_and_shapes():
    assert timeline.classify(load_event("codedeploy_state_start.json", application="other-auth"), PLATFORM) is None
    assert timeline.classify(load_event("platform_approval_decided.json", platform="other"), PLATFORM) is None
    assert timeline.classify(load_event("codedeploy_state_start.json", deploymentId=""), PLATFORM) is None
    for junk in (None, [], {}, {"source": "aws.codedeploy", "detail": "x"},
                 {**load_event("codedeploy_state_start.json"), "detail-type": "CodeDeploy Instance State-change Notification"}):
        assert timeline.classify(junk, PLATFORM) is None


def test_parse_description_tokens_follow_the_contract():
    tokens = timeline.parse_description("Deploy auth image=x:v1 | requester=github:alice image=123.dkr.ecr/auth:v2 source=bgctl")
    assert tokens == {"requester": "github:alice", "image": "123.dkr.ecr/auth:v2", "source": "bgctl"}
    assert timeline.parse_description("no tokens here") == {} and timeline.parse_description(None) == {}


def test_parent_text_names_domain_deployment_requester_and_image():
    deployment = {"description": "Deploy | requester=github:alice image=repo/auth:v2 source=bgctl",
                  "deploymentConfigName": "CodeDeployDefault.ECSCanary10Percent5Minutes"}
    text = timeline.parent_text(domain="auth", deployment_id="d-1", deployment=deployment, requester_slack_id="U0ALICE")
    assert text.splitlines() == [
        ":rocket: *auth* deployment `d-1` started by <@U0ALICE> (`github:alice`)",
        "image `repo/auth:v2` · config `CodeDeployDefault.ECSCanary10Percent5Minutes` · via bgctl",
    ]
    final = timeline.parent_text(domain="auth", deployment_id="d-1", deployment=deployment, outcome="SUCCESS")
    assert final.startswith(":white_check_mark: *auth* deployment `d-1` started by `github:alice` — *succeeded*")
    anonymous = timeline.parent_text(domain="auth", deployment_id="d-1", deployment={"creator": "user"})
    assert "started by unknown (user)" in anonymous


def test_outside_text_is_escaped():
    text = timeline.parent_text(domain="auth", deployment_id="d-1",
                                deployment={"description": "x | requester=<!channel> image=a&b`c"})
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "a&amp;b'c" in text
    assert timeline.mention("<!here>") is None and timeline.mention("U123ABC") == "<@U123ABC>"
    assert timeline.mention("S0SRE") == "<!subteam^S0SRE>"


def _line(name, **detail):
    return timeline.event_line(timeline.classify(load_event(name, **detail), PLATFORM))


def test_event_lines():
    assert _line("codedeploy_state_start.json").startswith(":arrow_forward: deployment started")
    assert _line("codedeploy_state_success.json").startswith(":white_check_mark: succeeded")
    assert _line("platform_smoke_checks_completed.json") == ":white_check_mark: test checks passed (3/3)"
    assert _line("platform_smoke_checks_completed.json", status="FAILED", passed=1, total=3,
                 failedChecks=["login", "pay"]) == ":x: test checks failed (1/3): login, pay"
    assert _line("platform_approval_requested.json") == ":raised_hand: approval requested (expires 10:48 UTC)"
    assert _line("platform_approval_requested.json", approverUserIds=["U0BOB"], approverGroupIds=["S0SRE"]) == (
        ":raised_hand: approval requested from <@U0BOB>, <!subteam^S0SRE> (expires 10:48 UTC)")
    assert _line("platform_approval_requested.json", slackPosted=False).endswith(
        "could not be posted; decide with `bgctl approve|reject`")
    assert _line("platform_approval_decided.json") == ":thumbsup: approved by <@U0BOB> — traffic shifting"
    assert _line("platform_approval_decided.json", decision="REJECTED", status="REJECTED", reason="not today") == (
        ":no_entry: rejected by <@U0BOB>: not today — deployment will roll back")
    assert _line("platform_approval_decided.json", decision="EXPIRED", decidedBy={"name": "expiry"}).startswith(
        ":alarm_clock: approval expired")
    cli = _line("platform_approval_decided.json", decidedBy={"iamArn": "arn:aws:iam::1:user/ops"})
    assert cli == ":thumbsup: approved by `arn:aws:iam::1:user/ops` — traffic shifting"


def test_smoke_line_mentions_traffic_shift_when_no_approval_is_required():
    event = timeline.classify(load_event("platform_smoke_checks_completed.json"), PLATFORM)
    assert timeline.event_line(event, approval_required=False).endswith("no approval required, traffic shifting")
    assert timeline.event_line(event, approval_required=True).endswith("waiting for approval")


ALARM_DEPLOYMENT = {
    "status": "Failed",
    "errorInformation": {"code": "ALARM_ACTIVE", "message": "One or more alarms have been activated according to the "
                         "Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. "
                         "Activated alarms: <bluegreen-auth-target-5xx>"},
    "rollbackInfo": {"rollbackMessage": "Deployment was rolled back"},
    "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
}


def test_rollback_with_alarm_names_the_alarm():
    alarms = [Alarm("bluegreen-auth-target-5xx", "ALARM"), Alarm("bluegreen-auth-p99-latency", "OK")]
    line = timeline.rollback_line("FAILURE", ALARM_DEPLOYMENT, alarms)
    assert line.splitlines()[0] == ":rotating_light: rolled back: alarm `bluegreen-auth-target-5xx` (ALARM)"
    assert "p99" not in line.splitlines()[0]


def test_rollback_alarm_found_by_state_when_message_does_not_name_it():
    deployment = {**ALARM_DEPLOYMENT, "errorInformation": {"code": "ALARM_ACTIVE", "message": "alarm activated"}}
    line = timeline.rollback_line("FAILURE", deployment, [Alarm("a-5xx", "OK"), Alarm("a-latency", "ALARM")])
    assert line.startswith(":rotating_light: rolled back: alarm `a-latency` (ALARM)")
    unknown = timeline.rollback_line("FAILURE", deployment, [])
    assert unknown.startswith(":rotating_light: rolled back: alarm (name not available)")


def test_rollback_other_causes():
    hook = {"errorInformation": {"code": "HOOK_EXECUTION_FAILURE", "message": "The deployment failed because a "
                                 "lifecycle event hook returned Failed"},
            "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}}
    assert timeline.rollback_line("FAILURE", hook, []).startswith(
        ":rotating_light: rolled back: lifecycle hook failed (test checks or approval)")
    manual = {"errorInformation": {"code": "MANUAL_STOP", "message": "stopped by user"}}
    assert timeline.rollback_line("STOP", manual, []).startswith(":octagonal_sign: stopped: stopped manually")
    assert timeline.rollback_line("FAILURE", {}, []) == ":rotating_light: failed: no reason reported"
    timeout = {"errorInformation": {"code": "TIMEOUT", "message": "took too long"}}
    assert timeline.rollback_line("FAILURE", timeout, []).startswith(":rotating_light: failed: TIMEOUT\n> took too long")


def test_rule_patterns():
    codedeploy, platform = timeline.rule_patterns("bluegreen")
    assert codedeploy == {"source": ["aws.codedeploy"], "detail-type": ["CodeDeploy Deployment State-change Notification"],
                          "detail": {"application": [{"prefix": "bluegreen-"}]}}
    assert platform["detail-type"] == ["Smoke Checks Completed", "Approval Requested", "Approval Decided"]


def test_rule_patterns_match_the_sample_events_in_eventbridge(aws):
    """Run the documented patterns through (moto's) EventBridge with the sample events."""
    import json

    from progressive_support import capture_events

    readers = [capture_events(aws, pattern) for pattern in timeline.rule_patterns(PLATFORM)]
    names = ["codedeploy_state_start.json", "platform_smoke_checks_completed.json", "platform_approval_decided.json"]
    entries = []
    for name in names + ["codedeploy_state_start.json"]:
        event = load_event(name)
        if len(entries) == 3:
            event["detail"]["application"] = "otherplatform-auth"
        entries.append({"Source": event["source"], "DetailType": event["detail-type"],
                        "Detail": json.dumps(event["detail"])})
    aws.events.put_events(Entries=entries)
    codedeploy_events, platform_events = (reader() for reader in readers)
    assert [e["detail"]["application"] for e in codedeploy_events] == ["bluegreen-auth"]
    assert sorted(e["detail-type"] for e in platform_events) == ["Approval Decided", "Smoke Checks Completed"]


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["code", "message", "x"]), st.text(max_size=20) | st.none()),
       st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.none(), max_size=3),
       st.lists(st.builds(Alarm, st.text(max_size=10), st.sampled_from(["OK", "ALARM", None]))),
       st.sampled_from(["FAILURE", "STOP"]))
def test_rollback_line_never_raises(error, rollback, alarms, state):
    line = timeline.rollback_line(state, {"errorInformation": error, "rollbackInfo": rollback}, alarms)
    assert line.split(":", 2)[2].strip().startswith(("rolled back", "failed", "stopped"))
