"""Check-spec parser and dotted-path JSON matcher (pure)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st


from bgruntime import smoke_checks as checks  # noqa: E402
CheckSpecError = checks.CheckSpecError


def test_minimal_http_check_gets_documented_defaults():
    [check] = checks.parse_checks([{"name": "health", "path": "/health"}])
    assert (check.kind, check.method, check.expect_status, check.latency_budget_ms) == ("http", "GET", 200, 2000)
    assert check.body is None and check.expect_json == {}


def test_full_http_check_is_parsed():
    [check] = checks.parse_checks([{
        "name": "create order", "kind": "http", "method": "post", "path": "/orders?dryRun=1",
        "headers": {"X-Smoke": "1", "Host": "orders.internal"}, "body": {"sku": "A1", "qty": 1},
        "expectStatus": 201, "expectJson": {"order.state": "CREATED", "items.0.id": 1}, "latencyBudgetMs": 800,
    }])
    assert check.method == "POST"
    assert check.body == b'{"sku":"A1","qty":1}' and check.content_type == "application/json"
    assert check.headers == (("X-Smoke", "1"), ("Host", "orders.internal"))
    assert check.expect_json == {"order.state": "CREATED", "items.0.id": 1}


def test_websocket_check_defaults_to_101_and_text_body():
    [check] = checks.parse_checks([{"name": "voice", "kind": "websocket", "path": "/ws", "body": "ping"}])
    assert check.expect_status == 101 and check.body == b"ping" and check.method == "GET"


def test_string_body_that_is_json_text_is_sent_as_json():
    """The YAML config only has string bodies; JSON text gets the JSON content type."""
    [json_text, plain, scalar] = checks.parse_checks([
        {"name": "a", "method": "POST", "body": '{"sku": "A1"}'},
        {"name": "b", "method": "POST", "body": "sku=A1"},
        {"name": "c", "method": "POST", "body": "42"},
    ])
    assert (json_text.body, json_text.content_type) == (b'{"sku": "A1"}', "application/json")
    assert plain.content_type is None and scalar.content_type is None


def test_explicit_content_type_header_wins_over_json_default():
    [check] = checks.parse_checks([{"name": "x", "method": "POST", "body": {"a": 1},
                                    "headers": {"content-type": "application/vnd.api+json"}}])
    assert check.content_type is None


@pytest.mark.parametrize(
    ("spec", "field", "fragment"),
    [
        ({"path": "/health"}, "smokeChecks[0].name", "required"),
        ({"name": "a", "kind": "grpc"}, "smokeChecks[0].kind", "http, websocket"),
        ({"name": "a", "method": "FETCH"}, "smokeChecks[0].method", "GET"),
        ({"name": "a", "path": "health"}, "smokeChecks[0].path", "start with '/'"),
        ({"name": "a", "path": "/a b"}, "smokeChecks[0].path", "without spaces"),
        ({"name": "a", "expectStatus": "200"}, "smokeChecks[0].expectStatus", "integer"),
        ({"name": "a", "expectStatus": True}, "smokeChecks[0].expectStatus", "integer"),
        ({"name": "a", "expectStatus": 700}, "smokeChecks[0].expectStatus", "100-599"),
        ({"name": "a", "latencyBudgetMs": 0}, "smokeChecks[0].latencyBudgetMs", "1-60000"),
        ({"name": "a", "latencyBudgetMs": 60_001}, "smokeChecks[0].latencyBudgetMs", "1-60000"),
        ({"name": "a", "latencyBudgetMs": 1.5}, "smokeChecks[0].latencyBudgetMs", "integer"),
        ({"name": "a", "expect_status": 200}, "smokeChecks[0].expect_status", "use 'expectStatus'"),
        ({"name": "a", "timeout": 3}, "smokeChecks[0].timeout", "unknown key"),
        ({"name": "a", "headers": {"X-A": "1\r\nX-Injected: 1"}}, "smokeChecks[0].headers.X-A", "CR, LF"),
        ({"name": "a", "headers": {"Bad Name": "1"}}, "smokeChecks[0].headers", "valid HTTP token"),
        ({"name": "a", "headers": {"Content-Length": "1"}}, "smokeChecks[0].headers.Content-Length", "runner"),
        ({"name": "a", "headers": {"X-A": 1}}, "smokeChecks[0].headers.X-A", "must be a string"),
        ({"name": "a", "headers": {"X-A": "1", "x-a": "2"}}, "smokeChecks[0].headers.x-a", "duplicate"),
        ({"name": "a", "body": 42}, "smokeChecks[0].body", "string or a JSON object"),
        ({"name": "a", "expectJson": {"a..b": 1}}, "smokeChecks[0].expectJson", "empty segment"),
        ({"name": "a", "expectJson": ["status"]}, "smokeChecks[0].expectJson", "dotted path"),
        ({"name": "a", "expectJson": {"x": float("nan")}}, "smokeChecks[0].expectJson.x", "finite"),
        ({"name": "a", "kind": "websocket", "method": "POST"}, "smokeChecks[0].method", "always uses GET"),
        ({"name": "a", "kind": "websocket", "expectStatus": 200}, "smokeChecks[0].expectStatus", "101"),
        ({"name": "a", "kind": "websocket", "body": {"a": 1}}, "smokeChecks[0].body", "must be a string"),
        ({"name": "a", "kind": "websocket", "expectJson": {"a": 1}}, "smokeChecks[0].expectJson", "only supported"),
        ({"name": "a", "kind": "websocket", "headers": {"Sec-WebSocket-Key": "x"}},
         "smokeChecks[0].headers.Sec-WebSocket-Key", "runner"),
        ("health", "smokeChecks[0]", "must be an object"),
    ],
)
def test_bad_specs_name_the_field_and_the_rule(spec, field, fragment):
    with pytest.raises(CheckSpecError) as caught:
        checks.parse_checks([spec])
    assert caught.value.field == field
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(field + ":")


def test_list_level_errors():
    with pytest.raises(CheckSpecError, match=r"^smokeChecks: must be a list"):
        checks.parse_checks({"name": "a"})
    with pytest.raises(CheckSpecError, match=r"smokeChecks\[1\]\.name: duplicate check name 'a'"):
        checks.parse_checks([{"name": "a"}, {"name": "a"}])
    with pytest.raises(CheckSpecError, match="at most 50 checks"):
        checks.parse_checks([{"name": f"c{i}"} for i in range(51)])
    assert checks.parse_checks(None) == [] and checks.parse_checks([]) == []


def test_match_json_dotted_paths_and_strict_json_equality():
    document = {"status": "ok", "deps": {"db": "up"}, "items": [{"id": 1}, {"id": 2.0}], "flag": True, "n": None}
    assert checks.match_json(document, {"status": "ok", "deps.db": "up", "items.1.id": 2, "flag": True, "n": None}) == []
    problems = checks.match_json(document, {"status": "down", "deps.cache": "up", "items.5.id": 1, "flag": 1,
                                            "items.x": 1, "status.deeper": "x"})
    assert problems == [
        'status: expected "down", got "ok"', "deps.cache: missing", "items.5.id: missing",
        "flag: expected 1, got true", "items.x: missing", "status.deeper: missing",
    ]
    assert checks.match_json({"a": 1}, {"a": True}) == ["a: expected true, got 1"]
    assert checks.match_json({"a": {"b": 1, "c": 2}}, {"a": {"b": 1}}) != []  # objects compare whole


# ------------------------------------------------------------------------------------------ properties
json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
json_values = st.recursive(json_scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=6), children, max_size=4), max_leaves=20)
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.binary(max_size=4),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(list(checks.KNOWN_KEYS) + ["expect_status", "x"]) | st.text(max_size=5) | st.integers(),
        children, max_size=6),
    max_leaves=25,
)
spec_like = st.fixed_dictionaries({"name": st.text(max_size=10) | st.integers()}, optional={
    "kind": st.sampled_from(["http", "websocket", "tcp"]) | anything,
    "method": st.sampled_from(["GET", "post", "TRACE"]) | anything,
    "path": st.sampled_from(["/", "/health", "x", "/a b", "/#f"]) | st.text(max_size=10),
    "headers": st.dictionaries(st.text(max_size=8), st.text(max_size=8) | st.integers(), max_size=3) | anything,
    "body": json_values | anything,
    "expectStatus": st.integers(0, 1000) | anything,
    "expectJson": st.dictionaries(st.text(max_size=8), json_values, max_size=3) | anything,
    "latencyBudgetMs": st.integers(-5, 70_000) | anything,
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(spec_like, max_size=4) | anything)
def test_parser_raises_only_check_spec_error(raw):
    try:
        parsed = checks.parse_checks(raw)
    except CheckSpecError as exc:
        assert exc.field.startswith("smokeChecks") and str(exc)
    else:
        for check in parsed:
            assert check.kind in checks.KINDS and 100 <= check.expect_status <= 599
            assert 1 <= check.latency_budget_ms <= checks.MAX_LATENCY_BUDGET_MS


@settings(max_examples=150, deadline=None)
@given(json_values, st.dictionaries(st.text(max_size=10), json_values, max_size=4))
def test_matcher_never_raises_anything_but_check_spec_error(document, expected):
    try:
        problems = checks.match_json(document, expected)
    except CheckSpecError:
        assert any(not p or "" in p.split(".") for p in expected)
    else:
        assert isinstance(problems, list) and len(problems) <= len(expected)


def _paths(value, prefix=""):
    yield prefix, value
    if isinstance(value, dict):
        for key, child in value.items():
            if key and "." not in key:
                yield from _paths(child, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, f"{prefix}.{index}" if prefix else str(index))


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_every_reachable_path_matches_its_own_value(document):
    for path, value in _paths(document):
        if path:
            assert checks.match_json(document, {path: value}) == [], path
