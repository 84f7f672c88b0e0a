"""Deployment timeline notifier: moto (CodeDeploy basics, DynamoDB, SSM, CloudWatch), fake Slack server."""
from __future__ import annotations

import json
import threading
import time

import pytest
from botocore.stub import Stubber

from bgruntime.slack import SlackClient
from progressive_support import PLATFORM, TABLE, load_event, load_lambda, metadata, put_metadata

notifier = load_lambda("deployment_notifier", "handler")
store_module = load_lambda("deployment_notifier", "store")

ENV = {"PLATFORM_NAME": PLATFORM, "SSM_PREFIX": f"/{PLATFORM}", "AUDIT_TABLE": TABLE, "NOTIFY_CHANNEL": "C0PLATFORM"}
DESCRIPTION = ("Deploy auth image=bluegreen/auth:v2 | requester=github:alice "
               "image=123456789012.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/auth:v2 source=bgctl")


class AtomicTable:
    """Serialises calls like DynamoDB does per item (moto's in-memory backend has no locking), so the
    concurrency test exercises the interleaving of *our* calls, not races inside moto."""

    def __init__(self, table) -> None:
        self._table = table
        self._lock = threading.Lock()

    def __getattr__(self, name):
        method = getattr(self._table, name)

        def locked(*args, **kwargs):
            with self._lock:
                return method(*args, **kwargs)

        return locked


class Env:
    def __init__(self, aws, slack) -> None:
        self.aws = aws
        self.slack = slack
        self.slack_timeout = 5.0  # generous: load never turns the local Slack into a timeout (slow Slack: own test)
        self.slack_factory = None
        self.codedeploy = aws.codedeploy
        self.table = AtomicTable(aws.table)  # one lock shared by every invocation of a test
        cd = aws.codedeploy
        cd.create_application(applicationName="bluegreen-auth", computePlatform="ECS")
        cd.create_deployment_group(
            applicationName="bluegreen-auth", deploymentGroupName="bluegreen-auth",
            serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
            deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes",
            deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"})
        self.deployment_id = cd.create_deployment(
            applicationName="bluegreen-auth", deploymentGroupName="bluegreen-auth", description=DESCRIPTION,
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}})["deploymentId"]
        aws.ssm.put_parameter(Name="/bluegreen/platform", Type="String", Value=json.dumps({
            "schemaVersion": 1, "platform": PLATFORM, "domains": ["auth"], "auditTable": TABLE,
            "slackIdentityMap": {"github:alice": "U0ALICE"}, "notificationChannel": "C0FALLBACK"}))
        put_metadata(aws, metadata())

    def deps(self):
        factory = self.slack_factory or (lambda: SlackClient(token="xoxb-test", base_url=self.slack.url,
                                                             timeout=self.slack_timeout))
        return notifier.Deps(codedeploy=self.codedeploy, cloudwatch=self.aws.cloudwatch, ssm=self.aws.ssm,
                             table=self.table, slack=factory)

    def event(self, name, **detail):
        return load_event(name, deploymentId=self.deployment_id, **detail)

    def send(self, name, *, env=None, deps=None, **detail):
        return notifier.handle(self.event(name, **detail), None, deps or self.deps(), env=env or ENV)

    def item(self):
        return self.aws.table.get_item(Key={"pk": f"DEPLOYMENT#{self.deployment_id}", "sk": "TIMELINE"}).get("Item")


@pytest.fixture
def n(aws, slack):
    return Env(aws, slack)


def test_first_event_creates_the_thread(n):
    result = n.send("codedeploy_state_start.json")

    assert result["status"] == "posted"
    [parent] = n.slack.parents()
    assert parent["channel"] == "C0PLATFORM"
    assert parent["text"].splitlines()[0] == (
        f":rocket: *auth* deployment `{n.deployment_id}` started by <@U0ALICE> (`github:alice`)")
    assert "image `123456789012.dkr.ecr.eu-west-1.amazonaws.com/bluegreen/auth:v2`" in parent["text"]
    [reply] = n.slack.replies()
    assert reply["thread_ts"] == parent["ts"] and reply["text"].startswith(":arrow_forward: deployment started")
    item = n.item()
    assert (item["channel"], item["threadTs"], item["domain"]) == ("C0PLATFORM", parent["ts"], "auth")
    assert item["events"] == ["2026-05-04T10:00:00Z START :arrow_forward: deployment started — replacement (green) "
                              "task set starting"]
    assert "claimToken" not in item and "pending" not in item
    assert set(n.slack._server.server.auth) == {"Bearer xoxb-test"}


def test_later_events_reply_in_the_same_thread_and_the_parent_gets_the_outcome(n):
    for name in ("codedeploy_state_start.json", "platform_smoke_checks_completed.json",
                 "platform_approval_requested.json", "platform_approval_decided.json", "codedeploy_state_success.json"):
        assert n.send(name)["status"] == "posted", name

    [parent] = n.slack.parents()
    replies = n.slack.replies()
    assert {r["thread_ts"] for r in replies} == {parent["ts"]}
    assert [r["text"].split(" ", 1)[0] for r in replies] == [
        ":arrow_forward:", ":white_check_mark:", ":raised_hand:", ":thumbsup:", ":white_check_mark:"]
    assert replies[1]["text"] == ":white_check_mark: test checks passed (3/3) — waiting for approval"
    assert replies[3]["text"] == ":thumbsup: approved by <@U0BOB> — traffic shifting"
    assert replies[4]["text"].startswith(":white_check_mark: succeeded")
    [update] = n.slack.updates()
    assert update["ts"] == parent["ts"] and "*succeeded*" in update["text"]
    assert len(n.item()["events"]) == 5


def test_domain_approval_channel_wins_over_the_platform_channel(n):
    put_metadata(n.aws, metadata(approval={"required": True, "channel": "C0AUTHTEAM"}))
    n.send("codedeploy_state_start.json")
    assert n.slack.parents()[0]["channel"] == "C0AUTHTEAM"
    assert n.item()["channel"] == "C0AUTHTEAM"


def test_missing_metadata_falls_back_to_notify_channel_then_platform_parameter(n):
    n.aws.ssm.delete_parameter(Name="/bluegreen/domains/auth/deployment")
    n.send("codedeploy_state_start.json", env={k: v for k, v in ENV.items() if k != "NOTIFY_CHANNEL"})
    assert n.slack.parents()[0]["channel"] == "C0FALLBACK"


def test_no_channel_anywhere_records_the_event_and_returns(n):
    n.aws.ssm.delete_parameter(Name="/bluegreen/platform")
    result = n.send("codedeploy_state_start.json", env={k: v for k, v in ENV.items() if k != "NOTIFY_CHANNEL"})
    assert result["status"] == "recorded" and n.slack.calls == []
    assert len(n.item()["events"]) == 1


def test_duplicate_delivery_is_posted_once(n):
    n.send("codedeploy_state_start.json")
    assert n.send("codedeploy_state_start.json")["status"] == "duplicate"
    assert len(n.slack.replies()) == 1 and len(n.item()["events"]) == 1


def test_concurrent_first_events_create_exactly_one_thread(n):
    n.slack.set_mode("ok", parent_delay=0.3)  # the winner is still posting the parent when the other arrives
    barrier = threading.Barrier(2)
    results = {}

    def deliver(name):
        deps = n.deps()
        barrier.wait()
        results[name] = n.send(name, deps=deps)

    names = ["codedeploy_state_start.json", "platform_smoke_checks_completed.json"]
    threads = [threading.Thread(target=deliver, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert sorted(r["status"] for r in results.values()) == ["posted", "queued"]
    [parent] = n.slack.parents()
    replies = n.slack.replies()
    assert len(replies) == 2 and {r["thread_ts"] for r in replies} == {parent["ts"]}
    item = n.item()
    assert item["threadTs"] == parent["ts"] and len(item["events"]) == 2
    assert "pending" not in item and "claimToken" not in item


def test_a_loser_queues_and_the_winner_flushes(n):
    store = store_module.TimelineStore(n.aws.table, n.deployment_id)
    assert store.claim("winner")
    assert n.send("platform_smoke_checks_completed.json")["status"] == "queued"
    assert n.slack.calls == []
    assert store.complete("winner", channel="C0PLATFORM", thread_ts="1.0") == [
        ":white_check_mark: test checks passed (3/3) — waiting for approval"]
    assert not store.claim("late")  # a thread exists now


def test_a_stale_claim_is_taken_over(n):
    old = store_module.TimelineStore(n.aws.table, n.deployment_id, clock=lambda: time.time() - 120)
    assert old.claim("crashed-invocation")
    assert n.send("codedeploy_state_start.json")["status"] == "posted"
    assert len(n.slack.parents()) == 1 and n.item()["threadTs"] == n.slack.parents()[0]["ts"]


def test_unknown_deployment_is_ignored(n):
    event = load_event("codedeploy_state_start.json", deploymentId="d-DOESNOTEXIST")
    result = notifier.handle(event, None, n.deps(), env=ENV)
    assert result == {"status": "ignored", "reason": "unknown deployment", "deploymentId": "d-DOESNOTEXIST"}
    assert n.slack.calls == []
    assert n.aws.table.get_item(Key={"pk": "DEPLOYMENT#d-DOESNOTEXIST", "sk": "TIMELINE"}).get("Item") is None


def test_other_platform_event_is_ignored(n):
    result = n.send("codedeploy_state_start.json", application="otherplatform-auth")
    assert result["status"] == "ignored" and n.slack.calls == []


@pytest.mark.parametrize("mode", ["http500", "closed"])
def test_slack_down_never_raises_and_the_line_is_posted_later(n, mode, closed_port):
    if mode == "closed":
        real_url = n.slack.url
        n.slack.url = f"http://127.0.0.1:{closed_port}/api"
    else:
        n.slack.set_mode("http500")

    result = n.send("codedeploy_state_start.json")

    assert result["status"] == "slack_error"
    item = n.item()
    assert len(item["pending"]) == 1 and "claimToken" not in item and "threadTs" not in item
    assert len(item["events"]) == 1  # audit trail complete even without Slack

    if mode == "closed":
        n.slack.url = real_url
    n.slack.set_mode("ok")
    assert n.send("platform_smoke_checks_completed.json")["status"] == "posted"
    [parent] = n.slack.parents()
    texts = [r["text"] for r in n.slack.replies()]
    assert texts[0].startswith(":arrow_forward: deployment started") and texts[1].startswith(":white_check_mark: test")
    assert "pending" not in n.item()


def test_slack_down_for_a_reply_is_flushed_with_the_next_event(n):
    n.send("codedeploy_state_start.json")
    n.slack.set_mode("http500")
    assert n.send("platform_smoke_checks_completed.json")["status"] == "slack_error"
    n.slack.set_mode("ok")
    assert n.send("platform_approval_requested.json")["status"] == "posted"
    texts = [r["text"] for r in n.slack.replies()]
    assert texts[1].startswith(":raised_hand:") and texts[2].startswith("(delayed) :white_check_mark: test checks")


def test_slow_slack_costs_one_bounded_call_and_never_raises(n):
    """A slow Slack is asked once per invocation, through a client whose every call is bounded by its timeout;
    the line waits in `pending` for the next event (no wall-clock measurement: the calls are recorded)."""
    calls: list[tuple[str, float]] = []

    class RecordingSlack(SlackClient):
        def call(self, method, payload):
            calls.append((method, self.timeout))
            return super().call(method, payload)

    n.slack.set_mode("slow")
    n.slack_factory = lambda: RecordingSlack(token="xoxb-test", base_url=n.slack.url, timeout=0.3)
    result = n.send("codedeploy_state_start.json")
    assert result["status"] == "slack_error"
    assert calls == [("chat.postMessage", 0.3)]
    assert len(n.item()["pending"]) == 1


def test_missing_slack_secret_never_raises(n):
    def no_secret():
        raise RuntimeError("secret placeholder")

    n.slack_factory = no_secret
    assert n.send("codedeploy_state_start.json")["status"] == "slack_error"
    assert len(n.item()["pending"]) == 1


def test_rollback_with_alarm_names_the_alarm(n):
    cloudwatch = n.aws.cloudwatch
    for name in ("bluegreen-auth-target-5xx", "bluegreen-auth-p99-latency"):
        cloudwatch.put_metric_alarm(AlarmName=name, MetricName="HTTPCode_Target_5XX_Count", Namespace="AWS/ApplicationELB",
                                    Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                    ComparisonOperator="GreaterThanOrEqualToThreshold")
    cloudwatch.set_alarm_state(AlarmName="bluegreen-auth-target-5xx", StateValue="ALARM", StateReason="5xx")
    codedeploy = n.aws.codedeploy_stubbed
    stub = Stubber(codedeploy)
    stub.add_response("get_deployment", {"deploymentInfo": {
        "applicationName": "bluegreen-auth", "deploymentGroupName": "bluegreen-auth", "deploymentId": n.deployment_id,
        "status": "Failed", "description": DESCRIPTION, "deploymentConfigName": "CodeDeployDefault.ECSCanary10Percent5Minutes",
        "errorInformation": {"code": "ALARM_ACTIVE", "message": "One or more alarms have been activated according to "
                             "the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. "
                             "Activated alarms: <bluegreen-auth-target-5xx>"},
        "rollbackInfo": {"rollbackMessage": "Deployment rolled back"},
        "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
    }}, {"deploymentId": n.deployment_id})
    stub.add_response("get_deployment_group", {"deploymentGroupInfo": {
        "applicationName": "bluegreen-auth", "deploymentGroupName": "bluegreen-auth",
        "alarmConfiguration": {"enabled": True, "alarms": [{"name": "bluegreen-auth-target-5xx"},
                                                           {"name": "bluegreen-auth-p99-latency"}]},
    }}, {"applicationName": "bluegreen-auth", "deploymentGroupName": "bluegreen-auth"})
    n.aws.table.put_item(Item={"pk": f"DEPLOYMENT#{n.deployment_id}", "sk": "TIMELINE", "domain": "auth",
                               "channel": "C0PLATFORM", "threadTs": "1700000000.000042", "events": []})
    n.codedeploy = codedeploy
    with stub:
        result = n.send("codedeploy_state_failure.json")
        stub.assert_no_pending_responses()

    assert result["status"] == "posted"
    [reply] = n.slack.replies()
    assert reply["thread_ts"] == "1700000000.000042"
    assert reply["text"].splitlines()[0] == ":rotating_light: rolled back: alarm `bluegreen-auth-target-5xx` (ALARM)"
    [update] = n.slack.updates()
    assert update["ts"] == "1700000000.000042" and "*failed / rolled back*" in update["text"]
    assert n.item()["events"][0].startswith("2026-05-04T10:12:41Z FAILURE :rotating_light: rolled back: alarm")


def test_stop_without_alarms_says_stopped(n):
    n.send("codedeploy_state_start.json")
    result = n.send("codedeploy_state_stop.json")  # moto: empty errorInformation, no alarms configured
    assert result["status"] == "posted"
    assert n.slack.replies()[-1]["text"] == ":octagonal_sign: stopped: stopped manually"


def test_lambda_entry_point_never_raises_on_broken_configuration(monkeypatch):
    monkeypatch.setattr(notifier, "_DEPS", None)
    monkeypatch.delenv("AUDIT_TABLE", raising=False)
    assert notifier.handler(load_event("codedeploy_state_start.json"), None) == {"status": "error"}


def test_garbage_events_are_ignored(n):
    for event in (None, "x", {"source": "aws.codedeploy"}, {"detail": {}}):
        assert notifier.handle(event, None, n.deps(), env=ENV)["status"] == "ignored"
