"""Drain policy and traffic-shift rules as pure values."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluegreen.drain import DrainPolicy
from bluegreen.traffic import TrafficShift


def test_seed_numbers_for_thirty_minute_sessions():
    policy = DrainPolicy.for_websocket(1800)
    assert policy.deregistration_delay_seconds == 2400
    assert policy.termination_wait_minutes == 35
    assert policy.min_idle_timeout_seconds >= 1800
    assert policy.problems() == []


def test_http_domains_drain_fast():
    policy = DrainPolicy.for_http(30)
    assert policy.deregistration_delay_seconds == 60
    assert policy.termination_wait_minutes <= 6


@given(st.integers(min_value=1, max_value=3300), st.booleans())
def test_derived_policies_never_cut_a_session(max_session, websocket):
    policy = DrainPolicy.for_websocket(max_session) if websocket else DrainPolicy.for_http(max_session)
    assert policy.problems() == []
    assert policy.deregistration_delay_seconds >= max_session
    assert policy.termination_wait_minutes * 60 >= max_session


def test_overrides_that_would_cut_sessions_are_reported():
    policy = DrainPolicy.for_websocket(1800).with_overrides(deregistration_delay_seconds=2000,
                                                            termination_wait_minutes=20)
    fields = [field for field, _, _ in policy.problems()]
    assert fields == ["drain.termination_wait_minutes"]


@pytest.mark.parametrize("shift,name", [
    (TrafficShift.all_at_once(), "CodeDeployDefault.ECSAllAtOnce"),
    (TrafficShift.canary(10, 5), "CodeDeployDefault.ECSCanary10Percent5Minutes"),
    (TrafficShift.linear(10, 3), "CodeDeployDefault.ECSLinear10PercentEvery3Minutes"),
    (TrafficShift.canary(25, 3), "p-ECSCanary25Percent3Minutes"),
    (TrafficShift.linear(20, 2), "p-ECSLinear20PercentEvery2Minutes"),
])
def test_predefined_configs_are_used_when_they_match(shift, name):
    assert shift.config_name("p") == name


def test_shift_durations():
    assert TrafficShift.linear(20, 2).total_shift_minutes == 8
    assert TrafficShift.canary(10, 15).total_shift_minutes == 15
    assert TrafficShift.all_at_once().total_shift_minutes == 0
