"""The stdlib flag client against a local HTTP server that behaves like the AppConfig agent.

No wall-clock bound here: the client's clock is injected and every wait it hands its socket is recorded, so
"a failure costs at most the timeout" is proven by the waits it asked for (bench/timeouts.py prints real figures).
"""
from __future__ import annotations

import http.client
import logging
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bluegreen.feature_flags.sdk import bluegreen_flags
from bluegreen.feature_flags.sdk.bluegreen_flags import FlagClient

TIMEOUT = 0.2


def stocked(agent: Any) -> Any:
    agent.flags = {"on_flag": {"enabled": True, "limit": 5, "mode": "fast"},
                   "off_flag": {"enabled": False},
                   "beta": {"color": "green"}}
    agent.targeted = {"beta": {"alice", "bob@example.com"}}
    return agent


class SteppingClock:
    """Monotonic seconds that move `step` forward on every reading (each step the client takes costs time)."""

    def __init__(self, step: float) -> None:
        self.now = 1000.0
        self.step = step

    def __call__(self) -> float:
        reading = self.now
        self.now += self.step
        return reading


class _RecordingSocket:
    def __init__(self, sock: socket.socket, waits: list[float]) -> None:
        self._sock = sock
        self._waits = waits

    def settimeout(self, seconds: float) -> None:
        self._waits.append(seconds)
        self._sock.settimeout(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


@pytest.fixture
def socket_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait the client hands its socket, in order: the connect timeout, then each settimeout()."""
    waits: list[float] = []

    class RecordingConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            waits.append(self.timeout)
            super().connect()
            self.sock = _RecordingSocket(self.sock, waits)  # type: ignore[assignment]

    monkeypatch.setattr(bluegreen_flags.http.client, "HTTPConnection", RecordingConnection)
    return waits


def test_on_and_off_flags(fake_agent: Any) -> None:
    client = FlagClient(stocked(fake_agent).url, timeout=TIMEOUT)
    assert client.is_enabled("on_flag") is True
    assert client.is_enabled("off_flag", default=True) is False
    assert client.is_enabled("unknown_flag") is False
    assert client.is_enabled("unknown_flag", default=True) is True
    assert client.attributes("on_flag") == {"limit": 5, "mode": "fast"}
    assert client.attributes("off_flag") == {}
    assert client.attributes("on_flag", default={"limit": 1, "burst": 2}) == {"limit": 5, "mode": "fast", "burst": 2}
    assert client.attributes("off_flag", default={"limit": 1}) == {"limit": 1}


def test_targeted_user_gets_the_variant_through_the_context_header(fake_agent: Any) -> None:
    client = FlagClient(stocked(fake_agent).url, timeout=TIMEOUT)
    assert client.is_enabled("beta", user_id="alice") is True
    assert client.is_enabled("beta", user_id="bob@example.com") is True
    assert client.is_enabled("beta", user_id="carol") is False
    assert client.is_enabled("beta") is False
    assert client.attributes("beta", user_id="alice") == {"color": "green"}  # `_variant` is not an attribute
    contexts = [request["context"] for request in fake_agent.requests]
    assert ["userId=alice"] in contexts and ["userId=carol"] in contexts and [] in contexts
    assert {request["path"] for request in fake_agent.requests} == {fake_agent.PATH}


def test_agent_down_gives_the_default_after_one_bounded_connect(closed_port_url: str,
                                                                  socket_waits: list[float]) -> None:
    client = FlagClient(closed_port_url, timeout=TIMEOUT)
    assert client.is_enabled("on_flag", default=True) is True
    assert socket_waits == [TIMEOUT]  # the refused connect was the only wait
    assert client.is_enabled("on_flag") is False
    assert client.attributes("on_flag", default={"limit": 1}) == {"limit": 1}
    assert client.all_flags() is None
    assert socket_waits == [TIMEOUT]  # backing off: no further connection


def test_a_silent_agent_is_waited_for_only_what_is_left_of_one_budget(fake_agent: Any,
                                                                      socket_waits: list[float]) -> None:
    """Each wait is the deadline minus the client's clock, so the waits add up to the timeout, never more."""
    stocked(fake_agent).mode, fake_agent.delay = "slow", 2.0
    client = FlagClient(fake_agent.url, timeout=0.375, clock=SteppingClock(step=0.125))
    assert client.is_enabled("on_flag", default=False) is False
    # connect: the whole budget; before sending: 0.25 left; waiting for the answer: 0.125 left, then it gave up
    assert socket_waits == [0.375, 0.25, 0.125]


def test_an_agent_that_trickles_its_answer_is_cut_when_the_budget_runs_out(fake_agent: Any,
                                                                          socket_waits: list[float]) -> None:
    """A byte every 50 ms would reset per-read timeouts forever; the client's one deadline still ends it."""
    stocked(fake_agent).mode, fake_agent.delay = "drip", 0.05
    client = FlagClient(fake_agent.url, timeout=1.0, clock=SteppingClock(step=0.25))
    assert client.is_enabled("on_flag", default=False) is False
    # connect 1.0, send 0.75, headers 0.5, one body read 0.25: the next reading is at the deadline
    assert socket_waits == [1.0, 0.75, 0.5, 0.25]


@pytest.mark.parametrize("mode", ["garbage", "not-an-object", "error"])
def test_garbage_or_errors_give_the_default(fake_agent: Any, mode: str) -> None:
    stocked(fake_agent).mode = mode
    client = FlagClient(fake_agent.url, timeout=TIMEOUT)
    assert client.is_enabled("on_flag", default=False) is False
    assert client.is_enabled("off_flag", default=True) is True  # still backing off: no new request
    assert len(fake_agent.requests) == 1


def test_malformed_flag_entries_give_the_default(fake_agent: Any) -> None:
    fake_agent.flags = {"string_flag": "yes", "no_enabled": {"limit": 1}, "text_enabled": {"enabled": "true"}}
    client = FlagClient(fake_agent.url, timeout=TIMEOUT)
    for key in ("string_flag", "no_enabled", "text_enabled"):
        assert client.is_enabled(key, default=True) is True
        assert client.attributes(key, default={"d": 1}) == {"d": 1}


def test_answers_are_cached_per_user_until_the_ttl(fake_agent: Any, clock: Any) -> None:
    client = FlagClient(stocked(fake_agent).url, timeout=TIMEOUT, cache_ttl=5.0, clock=clock)
    for _ in range(3):
        assert client.is_enabled("on_flag") is True
        assert client.is_enabled("beta", user_id="alice") is True
    assert len(fake_agent.requests) == 2  # one anonymous, one for alice
    fake_agent.flags["on_flag"]["enabled"] = False
    clock.now += 4.9
    assert client.is_enabled("on_flag") is True
    clock.now += 0.2
    assert client.is_enabled("on_flag") is False
    assert len(fake_agent.requests) == 3


def test_cache_holds_a_bounded_number_of_users(fake_agent: Any) -> None:
    client = FlagClient(stocked(fake_agent).url, timeout=TIMEOUT, max_cached_users=2)
    for user in ("u1", "u2", "u3", "u1"):
        client.is_enabled("beta", user_id=user)
    assert len(client._cache) == 2  # noqa: SLF001 - checking the bound itself
    assert len(fake_agent.requests) == 4  # u1 was evicted by u3, so it was asked again


def test_after_a_failure_the_client_backs_off_then_retries(fake_agent: Any, clock: Any) -> None:
    stocked(fake_agent).mode = "error"
    client = FlagClient(fake_agent.url, timeout=TIMEOUT, failure_backoff=1.0, clock=clock)
    assert client.is_enabled("on_flag") is False
    fake_agent.mode = "ok"
    assert client.is_enabled("on_flag") is False  # within the back-off: default without asking
    assert len(fake_agent.requests) == 1
    clock.now += 1.01
    assert client.is_enabled("on_flag") is True
    assert len(fake_agent.requests) == 2


def test_unsafe_user_ids_are_never_sent(fake_agent: Any) -> None:
    client = FlagClient(stocked(fake_agent).url, timeout=TIMEOUT)
    for user in ("alice,userId=bob", "a\r\nX-Injected: 1", "", "x" * 200, 42):
        assert client.is_enabled("beta", user_id=user) is False  # type: ignore[arg-type]
    assert all(request["context"] == [] for request in fake_agent.requests)


def test_url_comes_from_the_environment(fake_agent: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATURE_FLAGS_URL", stocked(fake_agent).url)
    assert FlagClient(timeout=TIMEOUT).is_enabled("on_flag") is True


def test_without_an_agent_url_every_flag_is_its_default(monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("FEATURE_FLAGS_URL", raising=False)
    assert FlagClient().is_enabled("anything", default=True) is True
    for url in ("https://example.invalid/flags", "http://localhost:port/flags", "localhost:2772"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="bluegreen_flags"):
            client = FlagClient(url)
        assert client.is_enabled("anything") is False
        assert "not an http:// URL" in caplog.text


def test_single_file_runs_on_the_standard_library_alone(fake_agent: Any) -> None:
    """Services copy the file: it must load without site-packages or the bluegreen package."""
    path = Path(bluegreen_flags.__file__)
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('bluegreen_flags', {str(path)!r})\n"
            "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
            f"client = module.FlagClient({stocked(fake_agent).url!r})\n"
            "assert client.is_enabled('on_flag') is True\n"
            "assert client.is_enabled('beta', user_id='alice') is True\n"
            "assert not [m for m in sys.modules if m.startswith(('bluegreen', 'aws_cdk'))]\n")
    subprocess.run([sys.executable, "-I", "-S", "-c", code], check=True, timeout=60)
