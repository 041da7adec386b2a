"""CPU time and memory per component of a benchmark run, from psutil.

Every service a benchmark starts is a descendant of the benchmark process, so components
are told apart by command line: PostgreSQL is the postmaster and all its backends.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import psutil

# First match wins: a toir child's command line holds "toir" and its command.
COMPONENTS = (
    ("toir.bench.publisher", "publisher"),
    ("toir.bench.baseline", "baseline"),
    ("toir stream", "stream"),
    ("toir ingest", "ingest"),
    ("postgres", "postgres"),
    ("mosquitto", "mqtt broker"),
    ("amqtt", "mqtt broker"),
    ("tansu", "kafka broker"),
)


def component_of(process: psutil.Process) -> str | None:
    try:
        command = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return next((name for marker, name in COMPONENTS if marker in command), None)


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


@dataclass
class CpuSample:
    at: float
    by_pid: dict[int, tuple[str, float]]


def sample() -> CpuSample:
    """CPU seconds so far of every known component process under this one."""
    by_pid: dict[int, tuple[str, float]] = {}
    for child in psutil.Process().children(recursive=True):
        name = component_of(child)
        if name is None:
            continue
        try:
            by_pid[child.pid] = (name, _cpu_s(child))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return CpuSample(time.monotonic(), by_pid)


def cpu_percent(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """Per component, CPU used between the samples in % of one core (200 = both of 2)."""
    wall_s = after.at - before.at
    used: dict[str, float] = defaultdict(float)
    for pid, (name, cpu_s) in after.by_pid.items():
        start = before.by_pid.get(pid)
        used[name] += cpu_s - (start[1] if start and start[0] == name else 0.0)
    return {name: round(100 * seconds / wall_s, 1) for name, seconds in sorted(used.items())}


def us_per_item(percent: dict[str, float], wall_s: float, items: int) -> dict[str, float]:
    """CPU microseconds per item of each component, from its % of one core over wall_s."""
    if items <= 0:
        return {}
    return {name: round(pct / 100 * wall_s / items * 1e6, 1) for name, pct in percent.items()}


def rss_mb(component: str) -> float:
    """Resident memory of a component's processes now, in MiB."""
    total = 0
    for child in psutil.Process().children(recursive=True):
        if component_of(child) == component:
            try:
                total += child.memory_info().rss
            except psutil.NoSuchProcess:
                continue
    return round(total / 2**20, 1)
