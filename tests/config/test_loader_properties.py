"""Property-based: whatever the file holds, the loader answers with a config or one ConfigError."""
from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bluegreen.config.default import DEFAULT_CONFIG
from bluegreen.config.errors import ConfigError
from bluegreen.config.loader import parse_config

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                    st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                      max_leaves=20)


def _parse(raw) -> None:
    try:
        parse_config(raw, source="fuzz.yaml")
    except ConfigError as error:
        assert error.field and error.problem and error.fix
        assert str(error).startswith("fuzz.yaml: ")


@settings(max_examples=200, deadline=None)
@given(values)
def test_arbitrary_documents_never_crash(raw):
    _parse(raw)


paths = st.sampled_from([
    ("platform", "name"), ("platform", "vpc_cidr"), ("alb_groups", "internal", "idle_timeout_seconds"),
    ("domains", "auth", "port"), ("domains", "voice", "drain"), ("domains", "order", "approval"),
    ("domains", "payment", "alarms"), ("domains", "order", "traffic"), ("domains", "auth", "smoke_checks"),
    ("domains", "auth", "environment"), ("platform", "slack", "identity_map"),
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths, values)
def test_mutating_one_field_of_the_default_gives_config_or_clear_error(path, value):
    raw = copy.deepcopy(DEFAULT_CONFIG)
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    _parse(raw)
