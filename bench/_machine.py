"""Shared helpers for bench scripts: machine description, process-tree memory sampling, result lines.

Files starting with `_` are helpers; `bench/run_all.py` runs every other `bench/*.py`.
"""
from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULT_PREFIX = "bench-result: "
# jsii/Node noise off, no AWS, same as the Makefile and tests/conftest.py.
QUIET_ENV = {
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20,22",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1", "AWS_EC2_METADATA_DISABLED": "true",
    "CDK_DISABLE_VERSION_CHECK": "1",
}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        node = "not found"
    mem_kib = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                    if line.startswith("MemTotal:")), 0) if Path("/proc/meminfo").exists() else 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {
        "nproc": str(cpus), "cpu": model, "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}", "python": sys.version.split()[0], "node": node,
        "aws-cdk-lib": _version("aws-cdk-lib"), "jsii": _version("jsii"), "cdk-nag": _version("cdk-nag"),
        "load average (1/5/15 min) at start": load,
    }


def print_machine(title: str) -> dict[str, str]:
    info = machine()
    print(f"## {title}\n")
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    print()
    return info


PYTEST_SUMMARY = re.compile(r"^=*\s*(.*\b(passed|failed|error|errors)\b.*) in ([\d.]+)s")


def pytest_summary(stdout: str) -> str:
    """pytest's final line without its timing (`1643 passed, 1 warning`), or the last line printed."""
    lines = stdout.splitlines()
    found = next((m.group(1) for line in reversed(lines) if (m := PYTEST_SUMMARY.match(line.strip("= ")))), None)
    return (found or next((line for line in reversed(lines) if line.strip()), "(no output)")).strip("= ")


def print_result(rows: list[dict]) -> None:
    """One machine-readable line (run_all.py collects it): [{"metric", "value", "unit"}...]."""
    print(RESULT_PREFIX + json.dumps(rows, sort_keys=True))


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemorySampler:
    """Samples the summed RSS of a process and all its descendants (python + node jsii kernel)."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "TreeMemorySampler":
        if Path("/proc").is_dir():
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            tree, todo = [], [self.pid]
            children = _children_map()
            while todo:
                pid = todo.pop()
                tree.append(pid)
                todo.extend(children.get(pid, []))
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(pid) for pid in tree))
            self._stop.wait(self.interval)


def run_measured(cmd: list[str], *, env: dict | None = None, cwd: Path = REPO,
                 timeout: float | None = None) -> dict:
    """Run `cmd`; wall time, CPU time and peak memory of its whole process tree.

    CPU time and the largest single process come from wait4() on this child (its rusage includes
    every descendant it waited for, e.g. the jsii node kernel); the tree peak is sampled from /proc.
    """
    started = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **QUIET_ENV, **(env or {})},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    captured: dict[str, str] = {}

    def drain(name: str, stream) -> None:
        captured[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(name, stream), daemon=True)
               for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))]
    for reader in readers:
        reader.start()
    timer = threading.Timer(timeout, process.kill) if timeout else None
    if timer:
        timer.start()
    with TreeMemorySampler(process.pid) as sampler:
        _, status, usage = os.wait4(process.pid, 0)
    if timer:
        timer.cancel()
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    return {
        "returncode": process.returncode, "stdout": captured.get("stdout", ""), "stderr": captured.get("stderr", ""),
        "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
        "max_single_rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        "peak_tree_rss_mib": sampler.peak_kib / 1024,
    }
