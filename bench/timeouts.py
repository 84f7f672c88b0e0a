"""Real seconds the bounded waits take (prints figures; never asserts).

    .venv/bin/python bench/timeouts.py

The unit tests prove these bounds without a clock on the wall (injected clocks and recorded waits:
tests/feature_flags/test_flags_client.py, tests/progressive/test_smoke_runner.py, test_smoke_hook.py,
test_notifier.py); this script measures what they take on this machine against real servers on 127.0.0.1:
the flag client (agent down, silent, trickling), the smoke runner (slow, trickling, refused, overall deadline)
and the Slack client (a Slack that never answers).
"""
from __future__ import annotations

import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "lambdas" / "layer" / "python"))
sys.path.insert(0, str(ROOT / "lambdas" / "smoke_tests"))

from _machine import print_machine, print_result  # noqa: E402

RELEASE = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path.startswith("/drip"):  # headers at once, then one byte every 100 ms
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                if RELEASE.wait(0.1):
                    return
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
            return
        RELEASE.wait(10)  # silent: never answers in time

    do_POST = do_GET


def _server() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _seconds(call: Callable[[], Any]) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def main() -> int:
    import logging

    logging.getLogger("bluegreen_flags").setLevel(logging.ERROR)  # the expected "unavailable" warnings
    print_machine("bounded waits")
    from bgruntime import smoke_checks
    from bgruntime.slack import SlackClient, SlackError

    import runner  # lambdas/smoke_tests/runner.py

    from bluegreen.feature_flags.sdk.bluegreen_flags import FlagClient

    server, url = _server()
    down = f"http://127.0.0.1:{_closed_port()}"
    rows: list[dict] = []

    def row(metric: str, seconds: float, bound: str) -> None:
        rows.append({"metric": f"{metric} (bound {bound})", "value": round(seconds, 3), "unit": "s"})
        print(f"{metric:<55} {seconds:6.3f} s   bound {bound}")

    flags = 0.2
    row("flag client, agent down", _seconds(lambda: FlagClient(down, timeout=flags).is_enabled("f")), "0.2 s")
    row("flag client, agent silent", _seconds(lambda: FlagClient(url + "/silent", timeout=flags).is_enabled("f")),
        "0.2 s")
    row("flag client, agent trickles", _seconds(lambda: FlagClient(url + "/drip", timeout=flags).is_enabled("f")),
        "0.2 s")

    def check(path: str, budget_ms: int, base: str = url) -> Callable[[], Any]:
        [spec] = smoke_checks.parse_checks([{"name": "bench", "path": path, "latencyBudgetMs": budget_ms}])
        return lambda: runner.run_checks([spec], base, deadline=time.monotonic() + 60)

    grace = runner.ABORT_GRACE_SECONDS
    row("smoke check, silent endpoint, budget 300 ms", _seconds(check("/silent", 300)), f"0.3 + {grace} s")
    row("smoke check, trickling endpoint, budget 400 ms", _seconds(check("/drip", 400)), f"0.4 + {grace} s")
    row("smoke check, connection refused, budget 2000 ms", _seconds(check("/", 2000, down)), "immediate")
    specs = smoke_checks.parse_checks([{"name": f"slow-{i}", "path": "/silent", "latencyBudgetMs": 1000}
                                       for i in range(10)])
    row("10 slow checks of 1 s under a 1.5 s overall deadline",
        _seconds(lambda: runner.run_checks(specs, url, deadline=time.monotonic() + 1.5)), f"1.5 + {grace} s")

    def slack() -> None:
        try:
            SlackClient(token="xoxb-bench", base_url=url + "/api", timeout=0.3).post_message(channel="C", text="t")
        except SlackError:
            pass

    row("Slack call, Slack never answers, timeout 0.3 s", _seconds(slack), "0.3 s")
    print_result(rows)
    RELEASE.set()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
