"""One definition per event pattern (`bgruntime.event_patterns`): the synthesized rules and stream filter are it,
real-shaped events match or do not, the handlers decide with it, and the producers' events pass it.

The platform filter is pinned: CodeDeploy events of another platform's applications (`bluegreenstg-auth`,
`other-auth`) and platform events of another platform never reach, nor are handled by, this platform's notifier.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event as event_kind
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.events.models import EventPattern as MotoEventPattern

from bgruntime import approvals, event_patterns
from bgruntime.event_patterns import matches
from tests.synth_support import resources_of_type

PLATFORM = "bluegreen"
EVENTS = Path(__file__).resolve().parents[1] / "progressive" / "events"
CODEDEPLOY_SAMPLES = ["codedeploy_state_start.json", "codedeploy_state_ready.json", "codedeploy_state_success.json",
                      "codedeploy_state_failure.json", "codedeploy_state_stop.json"]
PLATFORM_SAMPLES = ["platform_smoke_checks_completed.json", "platform_approval_requested.json",
                    "platform_approval_decided.json"]
NOW = datetime(2030, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def sample(name: str, **detail: Any) -> dict[str, Any]:
    event = json.loads((EVENTS / name).read_text())
    event["detail"].update(detail)
    return event


def as_delivered(entry: dict[str, Any]) -> dict[str, Any]:
    """A PutEvents entry as EventBridge delivers it to a rule's target."""
    return {"version": "0", "id": "00000000-0000-0000-0000-000000000001", "detail-type": entry["DetailType"],
            "source": entry["Source"], "account": "123456789012", "time": "2030-05-01T12:00:00Z",
            "region": "eu-west-1", "resources": [], "detail": json.loads(entry["Detail"])}


@pytest.fixture(scope="module")
def platform(default_app) -> dict:
    return default_app.template("-Platform")


@pytest.fixture(scope="module")
def worker_logic():
    import approval_fakes as fx

    fx.load_approval_modules()
    from approval_gate import worker_logic

    return worker_logic


@pytest.fixture(scope="module")
def timeline():
    from progressive_support import load_lambda

    return load_lambda("deployment_notifier", "timeline")


def function_environment(template: dict, function_name: str) -> dict[str, Any]:
    (function,) = [f["Properties"] for f in resources_of_type(template, "AWS::Lambda::Function").values()
                   if f["Properties"].get("FunctionName") == function_name]
    return function["Environment"]["Variables"]


# ------------------------------------------------------------------------------ the definitions themselves


def test_the_timeline_patterns_are_pinned():
    assert event_patterns.timeline_patterns(PLATFORM) == (
        {"source": ["aws.codedeploy"], "detail-type": ["CodeDeploy Deployment State-change Notification"],
         "detail": {"application": [{"prefix": "bluegreen-"}]}},
        {"source": ["bluegreen.platform"],
         "detail-type": ["Smoke Checks Completed", "Approval Requested", "Approval Decided"],
         "detail": {"platform": ["bluegreen"]}})


def test_the_synthesized_notifier_rules_are_the_definition(platform):
    rules = [r["Properties"]["EventPattern"] for r in resources_of_type(platform, "AWS::Events::Rule").values()]
    assert sorted(rules, key=json.dumps) == sorted(event_patterns.timeline_patterns(PLATFORM), key=json.dumps)


def test_the_synthesized_worker_stream_filters_are_the_definition(platform):
    (mapping,) = resources_of_type(platform, "AWS::Lambda::EventSourceMapping").values()
    filters = [json.loads(f["Pattern"]) for f in mapping["Properties"]["FilterCriteria"]["Filters"]]
    assert filters == list(event_patterns.decision_worker_filters())


def test_the_notifier_handler_uses_the_definition(timeline):
    assert timeline.rule_patterns(PLATFORM) == list(event_patterns.timeline_patterns(PLATFORM))


# ------------------------------------------------------------------------------------ CodeDeploy events


@pytest.mark.parametrize("name", CODEDEPLOY_SAMPLES)
def test_codedeploy_state_changes_of_this_platform_match_and_are_handled(name, timeline):
    event = sample(name)
    codedeploy, platform_events = event_patterns.timeline_patterns(PLATFORM)
    assert matches(codedeploy, event) and not matches(platform_events, event)
    assert timeline.classify(event, PLATFORM).domain == "auth"


@pytest.mark.parametrize("application", ["bluegreenstg-auth", "other-auth", "bluegreen", "bluegreen_auth",
                                         "xbluegreen-auth", "Bluegreen-auth"])
def test_codedeploy_events_of_other_applications_neither_match_nor_are_handled(application, timeline):
    event = sample("codedeploy_state_failure.json", application=application, deploymentGroup=application)
    assert not any(matches(p, event) for p in event_patterns.timeline_patterns(PLATFORM))
    assert timeline.classify(event, PLATFORM) is None


def test_codedeploy_events_of_another_platform_match_that_platforms_rule_only():
    event = sample("codedeploy_state_start.json", application="bluegreenstg-auth")
    assert matches(event_patterns.codedeploy_state_changes("bluegreenstg"), event)
    assert not matches(event_patterns.codedeploy_state_changes("bluegreen"), event)


def test_other_codedeploy_notifications_do_not_match():
    event = sample("codedeploy_state_start.json")
    event["detail-type"] = "CodeDeploy Instance State-change Notification"
    assert not any(matches(p, event) for p in event_patterns.timeline_patterns(PLATFORM))


# ------------------------------------------------------------------------------ the platform's own events


@pytest.mark.parametrize("name", PLATFORM_SAMPLES)
def test_platform_events_of_this_platform_match_and_are_handled(name, timeline):
    event = sample(name)
    codedeploy, platform_events = event_patterns.timeline_patterns(PLATFORM)
    assert matches(platform_events, event) and not matches(codedeploy, event)
    assert timeline.classify(event, PLATFORM) is not None


@pytest.mark.parametrize("platform_name", ["bluegreenstg", "other", "", None])
@pytest.mark.parametrize("name", PLATFORM_SAMPLES)
def test_platform_events_of_another_platform_neither_match_nor_are_handled(name, platform_name, timeline):
    event = sample(name, platform=platform_name)
    assert not matches(event_patterns.platform_events(PLATFORM), event)
    assert timeline.classify(event, PLATFORM) is None


def test_platform_events_without_a_platform_neither_match_nor_are_handled(timeline):
    event = sample("platform_approval_decided.json")
    del event["detail"]["platform"]
    assert not matches(event_patterns.platform_events(PLATFORM), event)
    assert timeline.classify(event, PLATFORM) is None


@pytest.mark.parametrize("source,detail_type", [("bluegreen.platform", "Approval Cancelled"),
                                                ("aws.codedeploy", "Approval Decided"),
                                                ("bluegreen.platformx", "Smoke Checks Completed")])
def test_unknown_sources_and_detail_types_do_not_match(source, detail_type, timeline):
    event = {**sample("platform_smoke_checks_completed.json"), "source": source, "detail-type": detail_type}
    assert not any(matches(p, event) for p in event_patterns.timeline_patterns(PLATFORM))
    assert timeline.classify(event, PLATFORM) is None


# ---------------------------------------------------------------------------- producers pass the rule


def test_the_smoke_hooks_event_passes_the_notifier_rule(platform):
    """The smoke hook, with the environment the template gives it, puts an event the platform rule delivers."""
    import approval_fakes as fx
    from progressive_support import load_lambda

    hook = load_lambda("smoke_tests", "handler")
    runner = load_lambda("smoke_tests", "runner")
    env = function_environment(platform, "CodeDeployHook_bluegreen_smoke-tests")
    events = fx.FakeEvents()
    deps = hook.Deps(codedeploy=None, ssm=None, events=events, table=None)
    outcome = hook.Outcome(True, "all 1 checks passed", "auth", "http://auth.bluegreen.internal:9081",
                           [runner.CheckResult("issue-token", True, 201, 12, "HTTP 201 in 12 ms")])
    hook._publish(deps, env, "d-7EXAMPLE1", outcome)
    [entry] = events.entries
    assert (entry["Source"], entry["DetailType"]) == ("bluegreen.platform", "Smoke Checks Completed")
    assert matches(event_patterns.platform_events(PLATFORM), as_delivered(entry))


def test_the_decision_workers_event_passes_the_notifier_rule(platform, monkeypatch):
    """`Approval Decided`, put by the worker with the PLATFORM_NAME its template gives it."""
    import approval_fakes as fx

    monkeypatch.setenv("PLATFORM_NAME", function_environment(platform, "bluegreen-approval-worker")["PLATFORM_NAME"])
    clock = fx.Clock(NOW)
    request = fx.request_record(clock)
    decision = approvals.record(fx.DEPLOYMENT_ID, approvals.DECISION_SK, "decision", NOW, status="APPROVED",
                                decidedBy={"slackUserId": "U0BOB", "name": "bob"}, decidedVia="slack",
                                decidedAt=approvals.iso(NOW), deliveredBy="worker", domain="auth")
    state = approvals.ApprovalState.from_records(fx.DEPLOYMENT_ID, [request, decision])
    events = fx.FakeEvents()
    approvals.put_decided_event(events, state, None)
    [entry] = events.entries
    assert (entry["Source"], entry["DetailType"]) == ("bluegreen.platform", "Approval Decided")
    assert matches(event_patterns.platform_events(PLATFORM), as_delivered(entry))


# ------------------------------------------------------------------- the decision worker's stream filter


def _stream_record(record: dict[str, Any]) -> dict[str, Any]:
    import approval_fakes as fx

    (raw,) = fx.stream_event([record])["Records"]
    return raw


def _audit_records() -> dict[str, dict[str, Any]]:
    """One record of each kind the audit table holds, built as the platform builds them."""
    import approval_fakes as fx

    clock = fx.Clock(NOW)
    slack_bob = approvals.Actor(via="slack", name="bob", slack_user_id="U0BOB")
    cli_bob = approvals.Actor(via="cli", name="bob", iam_arn="arn:aws:sts::123456789012:assumed-role/ops/bob")
    deployment = fx.DEPLOYMENT_ID
    return {
        "registration": fx.registration_record(clock),
        "request": fx.request_record(clock),
        "message": fx.message_record(clock),
        "vote": approvals.record(deployment, f"{approvals.VOTE_PREFIX}01", "vote", NOW, by=slack_bob.as_record(),
                                 via="slack", domain="auth"),
        "voter": approvals.record(deployment, f"{approvals.VOTER_PREFIX}U0BOB", "voter", NOW,
                                  by=slack_bob.as_record(), via="slack", vote="VOTE#01"),
        "decision": approvals.record(deployment, approvals.DECISION_SK, "decision", NOW, status="APPROVED",
                                     decidedBy=slack_bob.as_record(), decidedVia="slack", deliveredBy="worker"),
        "slack refusal": approvals.event_record(deployment, NOW, actor=slack_bob, action="APPROVED",
                                                code="self_approval", message="no"),
        "cli refusal": approvals.event_record(deployment, NOW, actor=cli_bob, action="APPROVED",
                                              code="self_approval", message="no"),
        "codedeploy answer": approvals.codedeploy_record(deployment, NOW, status="Succeeded", result="OK",
                                                         delivered_by="worker"),
    }


WORKER_JOBS = {"vote", "decision", "slack refusal"}


@pytest.mark.parametrize("kind", sorted(_audit_records()))
def test_the_worker_filter_delivers_exactly_the_records_the_worker_acts_on(kind):
    raw = _stream_record(_audit_records()[kind])
    delivered = any(matches(p, raw) for p in event_patterns.decision_worker_filters())
    assert delivered is (kind in WORKER_JOBS)


@pytest.mark.parametrize("kind", sorted(set(_audit_records()) - WORKER_JOBS))
def test_the_worker_ignores_what_its_filter_never_delivers_without_any_call(kind, worker_logic):
    raw = _stream_record(_audit_records()[kind])
    assert worker_logic.process(raw, rt=None) == "ignored"  # type: ignore[arg-type] - no runtime is touched


def test_the_worker_ignores_updates_and_removals(worker_logic):
    raw = {**_stream_record(_audit_records()["decision"]), "eventName": "MODIFY"}
    assert not any(matches(p, raw) for p in event_patterns.decision_worker_filters())
    assert worker_logic.process(raw, rt=None) == "ignored"  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------- the matcher itself


def test_the_matcher_refuses_syntax_it_does_not_implement():
    for pattern in ({"detail": {"n": [{"numeric": [">", 1]}]}}, {"source": "aws.codedeploy"}, {"source": []}, {}):
        with pytest.raises(ValueError):
            matches(pattern, sample("codedeploy_state_start.json"))


_texts = st.sampled_from(["bluegreen", "bluegreen-auth", "bluegreenstg-auth", "other-auth", "bluegreen-", "",
                          "aws.codedeploy", "bluegreen.platform", "Approval Decided", "Smoke Checks Completed",
                          "CodeDeploy Deployment State-change Notification", "INSERT", "MODIFY", "DECISION",
                          "VOTE#01", "EVENT#x", "slack", "cli", "event", "vote"])
_values = st.recursive(st.none() | st.booleans() | st.integers(-2, 2) | _texts,
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
                       max_leaves=8)
_keys = st.sampled_from(["source", "detail-type", "detail", "application", "platform", "eventName", "dynamodb",
                         "NewImage", "sk", "S", "via", "recordType"])


def _near(rule: Any) -> list[Any]:
    """Values at and around an accepted value: equal, prefixed, one character short, inside another, in an array."""
    if isinstance(rule, dict):
        return [rule["prefix"] + "auth", rule["prefix"] + "auth", [rule["prefix"] + "x", "y"], rule["prefix"][:-1],
                "stg" + rule["prefix"] + "auth"]
    return [rule, rule, [rule, "other"], str(rule).upper()]


def _shaped(pattern: Any, draw: Any) -> Any:
    """An event shaped like `pattern` (its keys, mostly present; nested objects), with values around its rules."""
    if isinstance(pattern, dict):
        return {k: _shaped(v, draw) for k, v in pattern.items() if draw(st.integers(0, 19))}
    near = [v for rule in pattern for v in _near(rule)]
    return draw(st.sampled_from(near)) if draw(st.integers(0, 9)) else draw(_values)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_property_the_matcher_agrees_with_eventbridge_semantics(data):
    """moto's EventBridge pattern engine is the oracle, on events shaped like each pattern and on random ones."""
    patterns = [*event_patterns.timeline_patterns(PLATFORM), *event_patterns.decision_worker_filters()]
    pattern = data.draw(st.sampled_from(patterns))
    event = data.draw(st.one_of(st.builds(lambda: None).map(lambda _: _shaped(pattern, data.draw)),
                                st.dictionaries(_keys, _values, max_size=4)))
    expected = MotoEventPattern.load(json.dumps(pattern)).matches_event(event)
    event_kind("matched" if expected else "not matched")
    assert matches(pattern, event) is expected, (pattern, event)
