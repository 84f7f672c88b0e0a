"""Rollback alarms stay correct whichever colour is live: every built-in alarm reads blue and green alike.

CodeDeploy flips the live target group on each deployment, so an alarm that watches one colour (or whose math
reads one colour twice) goes blind on every other release. Expected expressions and metric ids are literals
from rollback_alarms.py's documented design; thresholds are the seed's (docs/configuration.md defaults).
"""
from __future__ import annotations

import re

import pytest

from tests.synth_support import resources_of_type

DOMAINS = ("auth", "order", "payment", "voice")
# id -> (metric, colour) for each built-in math alarm, and the exact expression that combines them.
EXPECTED = {
    "5xx-rate": ("MAX([IF(bReq > 0, 100 * FILL(b5xx, 0) / bReq, 0), IF(gReq > 0, 100 * FILL(g5xx, 0) / gReq, 0)])",
                 {"b5xx": ("HTTPCode_Target_5XX_Count", "blue"), "g5xx": ("HTTPCode_Target_5XX_Count", "green"),
                  "bReq": ("RequestCount", "blue"), "gReq": ("RequestCount", "green")}),
    "p99-latency": ("MAX([bP99, gP99])",
                    {"bP99": ("TargetResponseTime", "blue"), "gP99": ("TargetResponseTime", "green")}),
    "unhealthy-hosts": ("MAX([bUnhealthy, gUnhealthy])",
                        {"bUnhealthy": ("UnHealthyHostCount", "blue"), "gUnhealthy": ("UnHealthyHostCount", "green")}),
}
# Seed thresholds: 5 % errors, 2 s p99 (the alarm compares seconds), 1 unhealthy host; 2 of 2 one-minute periods.
THRESHOLDS = {"5xx-rate": 5, "p99-latency": 2, "unhealthy-hosts": 1, "elb-5xx-rate": 5}


@pytest.fixture(scope="module")
def alarms(default_app) -> dict[str, dict[str, dict]]:
    return {d: {a["Properties"]["AlarmName"].removeprefix(f"bluegreen-{d}-"): a["Properties"]
                for a in resources_of_type(default_app.template(f"-Domain-{d}"), "AWS::CloudWatch::Alarm").values()}
            for d in DOMAINS}


def _colour(metric_stat: dict) -> str:
    (group,) = [d["Value"]["Fn::GetAtt"][0] for d in metric_stat["Metric"]["Dimensions"] if d["Name"] == "TargetGroup"]
    return {"DomainTrafficBlueTargetGroup": "blue", "DomainTrafficGreenTargetGroup": "green"}[group[:-8]]


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("suffix", sorted(EXPECTED))
def test_every_built_in_alarm_reads_blue_and_green_alike(alarms, domain, suffix):
    expression, metrics = EXPECTED[suffix]
    queries = alarms[domain][suffix]["Metrics"]
    (math,) = [q for q in queries if "Expression" in q]
    assert math["Expression"] == expression and math["ReturnData"] is True
    declared = {q["Id"]: (q["MetricStat"]["Metric"]["MetricName"], _colour(q["MetricStat"]))
                for q in queries if "MetricStat" in q}
    assert declared == metrics
    # Every declared metric is read by the expression: none watched twice, none ignored.
    assert set(re.findall(r"[a-zA-Z]\w*", expression)) & set(declared) == set(metrics)


@pytest.mark.parametrize("domain", DOMAINS)
def test_alarms_fire_on_two_bad_minutes_and_never_on_missing_data(alarms, domain):
    """Green has no requests before traffic moves and blue none after: missing data must not roll back."""
    for suffix, threshold in THRESHOLDS.items():
        alarm = alarms[domain][suffix]
        assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (threshold, 2, 2), suffix
        assert alarm["TreatMissingData"] == "notBreaching", suffix
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold", suffix
