"""The check runner against real HTTP and WebSocket servers on 127.0.0.1.

No wall-clock bound: the runner's `wait` and `clock` are injected (progressive_support.RecordingWait,
ManualClock) and the tests assert the waits it asked for; bench/timeouts.py prints the real figures.
"""
from __future__ import annotations

import base64
import time

import pytest

from progressive_support import ManualClock, RecordingWait, load_lambda

from bgruntime import smoke_checks as checks  # noqa: E402
runner = load_lambda("smoke_tests", "runner")


def run(spec: dict, base_url: str, *, deadline_s: float = 10.0, wait: RecordingWait | None = None):
    [check] = checks.parse_checks([spec])
    [result] = runner.run_checks([check], base_url, deadline=time.monotonic() + deadline_s,
                                 **({"wait": wait} if wait else {}))
    return result


def assert_waited_at_most_the_budget(wait: RecordingWait, budget_s: float) -> None:
    """The runner's first wait is the budget; the check either ended itself by then (its own socket deadline) or
    was aborted and granted only ABORT_GRACE_SECONDS more. Never anything else."""
    assert wait.seconds[0] == budget_s
    assert wait.seconds[1:] in ([], [runner.ABORT_GRACE_SECONDS])
    assert runner.ABORT_GRACE_SECONDS == 0.2


def test_healthy_http_endpoint_passes(domain_server):
    result = run({"name": "health", "path": "/health", "expectJson": {"status": "ok", "deps.db": "up", "items.0.id": 1},
                  "latencyBudgetMs": 1000}, domain_server.url)
    assert result.passed, result.detail
    assert result.status == 200 and result.latency_ms >= 0 and result.detail == f"HTTP 200 in {result.latency_ms} ms"
    assert result.to_item() == {"name": "health", "passed": True, "status": 200, "latencyMs": result.latency_ms,
                                "detail": result.detail}
    method, path, headers = domain_server.server.seen[-1]
    assert (method, path) == ("GET", "/health")
    assert headers["User-Agent"].startswith("bluegreen-smoke-check/")


def test_post_with_json_body_and_custom_headers(domain_server):
    result = run({"name": "order", "method": "POST", "path": "/orders", "body": {"sku": "A1"},
                  "headers": {"X-Smoke-Test": "yes"}, "expectStatus": 201,
                  "expectJson": {"order.sku": "A1", "order.state": "CREATED", "contentType": "application/json"}},
                 domain_server.url)
    assert result.passed, result.detail
    assert domain_server.server.seen[-1][2]["X-Smoke-Test"] == "yes"


def test_head_request_without_body_passes(domain_server):
    assert run({"name": "head", "method": "HEAD", "path": "/health"}, domain_server.url).passed


def test_endpoint_that_times_out_fails_within_its_budget(domain_server):
    """The runner waits for the check its budget, then aborts it and waits only the abort grace."""
    wait = RecordingWait(join=True)
    result = run({"name": "slow", "path": "/slow", "latencyBudgetMs": 300}, domain_server.url, wait=wait)
    assert not result.passed and result.status is None
    assert result.detail == "timed out after 300 ms (latency budget)"
    assert_waited_at_most_the_budget(wait, 0.3)


def test_slow_drip_body_is_cut_at_the_budget(domain_server):
    """Per-read socket timeouts never fire on a server sending a byte every 100 ms; the budget still holds:
    the runner stops waiting at the budget and shuts the socket, which ends the check's worker."""
    wait = RecordingWait(join=True)
    result = run({"name": "drip", "path": "/drip", "latencyBudgetMs": 400}, domain_server.url, wait=wait)
    assert not result.passed and result.detail == "timed out after 400 ms (latency budget)"
    assert_waited_at_most_the_budget(wait, 0.4)
    worker = wait.threads[0]
    worker.join(10)  # the drip would last 100 s; the aborted socket ends it at once
    assert not worker.is_alive()


def test_500_fails_with_the_status(domain_server):
    result = run({"name": "error", "path": "/error"}, domain_server.url)
    assert not result.passed and result.status == 500
    assert result.detail == "expected status 200, got 500"


def test_wrong_json_fails_naming_the_paths(domain_server):
    result = run({"name": "wrong", "path": "/wrong", "expectJson": {"status": "ok", "deps.db": "up", "version": 2}},
                 domain_server.url)
    assert not result.passed and result.status == 200
    assert result.detail.startswith("JSON mismatch: ")
    assert 'status: expected "ok", got "degraded"' in result.detail
    assert 'deps.db: expected "up", got "down"' in result.detail and "version: missing" in result.detail


def test_non_json_body_fails_when_json_is_expected(domain_server):
    result = run({"name": "text", "path": "/text", "expectJson": {"status": "ok"}}, domain_server.url)
    assert not result.passed and result.detail == "response body is not JSON (text/plain, 2 bytes)"
    assert run({"name": "text", "path": "/text"}, domain_server.url).passed  # status-only check


def test_connection_refused_fails_fast(closed_port):
    """The check ended by itself inside the first wait: no abort, no grace wait."""
    wait = RecordingWait(join=True)
    result = run({"name": "down", "path": "/health"}, f"http://127.0.0.1:{closed_port}", wait=wait)
    assert not result.passed and result.detail == "connection refused"
    assert wait.seconds == [2.0]  # DEFAULT_LATENCY_BUDGET_MS, and nothing after it


def test_invalid_endpoint_marks_every_check_not_run():
    specs = checks.parse_checks([{"name": "a"}, {"name": "b"}])
    results = runner.run_checks(specs, "ftp://example", deadline=time.monotonic() + 5)
    assert [r.passed for r in results] == [False, False]
    assert all(r.detail.startswith("not run: testEndpoint") for r in results)


def test_base_url_parsing():
    target = runner.parse_base_url("http://auth.bluegreen.internal:9081/")
    assert (target.host, target.port, target.path_prefix, target.host_header) == (
        "auth.bluegreen.internal", 9081, "", "auth.bluegreen.internal:9081")
    assert runner.parse_base_url("https://a.internal/base").host_header == "a.internal"
    assert runner.parse_base_url("https://a.internal/base").path_prefix == "/base"
    for bad in (None, "", "auth:9081", "http://", "http://a:99999", "http://u:p@a", "http://a/?q=1"):
        with pytest.raises(runner.EndpointError):
            runner.parse_base_url(bad)


# -------------------------------------------------------------------------------------------- WebSocket
def test_websocket_accept_matches_rfc6455_example():
    assert runner.websocket_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_websocket_server_that_accepts_passes(ws_server):
    result = run({"name": "voice", "kind": "websocket", "path": "/echo"}, ws_server)
    assert result.passed, result.detail
    assert result.status == 101 and result.detail.startswith("upgraded")


def test_websocket_message_gets_a_reply_within_budget(ws_server):
    result = run({"name": "voice echo", "kind": "websocket", "path": "/echo?session=smoke", "body": "ping" * 50,
                  "latencyBudgetMs": 2000}, ws_server)
    assert result.passed, result.detail
    assert "reply received (200 bytes)" in result.detail


def test_websocket_refused_upgrade_fails(ws_server):
    result = run({"name": "voice", "kind": "websocket", "path": "/refuse"}, ws_server)
    assert not result.passed and result.status == 403
    assert result.detail == "upgrade refused: expected status 101, got 403"


def test_websocket_on_a_plain_http_route_fails(domain_server):
    result = run({"name": "voice", "kind": "websocket", "path": "/health"}, domain_server.url)
    assert not result.passed and result.status == 200 and "upgrade refused" in result.detail


def test_websocket_wrong_accept_header_fails(domain_server):
    result = run({"name": "voice", "kind": "websocket", "path": "/ws-bad-accept"}, domain_server.url)
    assert not result.passed and result.status == 101
    assert "Sec-WebSocket-Accept" in result.detail


def test_websocket_without_reply_times_out_within_budget(ws_server):
    wait = RecordingWait(join=True)
    result = run({"name": "voice", "kind": "websocket", "path": "/silent", "body": "hello", "latencyBudgetMs": 300},
                 ws_server, wait=wait)
    assert not result.passed and result.detail == "timed out after 300 ms (latency budget)"
    assert_waited_at_most_the_budget(wait, 0.3)


def test_frame_encoding_lengths_and_masking():
    mask = b"\x01\x02\x03\x04"
    small = runner.encode_frame(0x1, b"hi", mask=mask)
    assert small[:2] == bytes([0x81, 0x80 | 2]) and small[2:6] == mask
    assert bytes(b ^ mask[i % 4] for i, b in enumerate(small[6:])) == b"hi"
    assert runner.encode_frame(0x2, b"x" * 300)[1:4] == bytes([126, 1, 44])
    assert runner.encode_frame(0x2, b"x" * 70000)[1] == 127
    assert base64.b64decode(runner.websocket_accept("x" * 24))  # valid base64


# ------------------------------------------------------------------------------------ overall deadline
def test_overall_deadline_is_respected_with_many_slow_checks(domain_server):
    """Each slow check uses all the time it is given (the clock moves by every wait): the runner's waits add
    up to the deadline plus one abort grace, far below 10 x 1 s."""
    specs = checks.parse_checks([{"name": f"slow-{i}", "path": "/slow", "latencyBudgetMs": 1000} for i in range(10)])
    clock = ManualClock()
    wait = RecordingWait(join=False, clock=clock)
    results = runner.run_checks(specs, domain_server.url, deadline=1.5, clock=clock, wait=wait)
    # check 1: its budget (1.0) + grace; check 2: the 0.3 s left of the deadline + grace; the rest never start
    assert wait.seconds == pytest.approx([1.0, 0.2, 0.3, 0.2])
    assert clock.now == pytest.approx(1.7)
    assert [r.latency_ms for r in results[:2]] == [1200, 500]
    assert len(results) == 10 and not any(r.passed for r in results)
    assert "latency budget" in results[0].detail
    assert "cut short by the hook's overall deadline" in results[1].detail
    assert all(r.detail == "not run: the hook's overall deadline was reached" for r in results[2:])


def test_checks_run_in_declaration_order(domain_server):
    specs = checks.parse_checks([{"name": "one", "path": "/health"}, {"name": "two", "path": "/text"},
                                 {"name": "three", "method": "POST", "path": "/orders", "body": {"sku": "B"},
                                  "expectStatus": 201}])
    results = runner.run_checks(specs, domain_server.url, deadline=time.monotonic() + 5)
    assert [r.name for r in results] == ["one", "two", "three"] and all(r.passed for r in results)
    assert [p for _, p, _ in domain_server.server.seen] == ["/health", "/text", "/orders"]
