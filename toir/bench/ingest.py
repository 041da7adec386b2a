"""`toir bench ingest`: publish at a fixed rate for a fixed time through the whole
pipeline and measure what is stored, how fast, and how late."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime

import psycopg

from devices.simulator.fleet import Fleet, FleetConfig
from kernel.clock import utcnow
from kernel.db import connect
from kernel.migrate import migrate
from kernel.settings import Settings
from toir.bench import cpu
from toir.devstack import EmbeddedStack
from toir.fleet_registry import register_fleet
from toir.processes import Progress, ServiceUrls, process_env, running_platform

DRAIN_TIMEOUT_S = 120.0

LATENCY_SQL = """
SELECT count(*),
       extract(epoch FROM max(stored_at) - min(stored_at)),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - ts)),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - ts))
FROM telemetry.readings WHERE ts >= %(since)s AND device_id <> 'toir-probe'
"""


@dataclass(frozen=True)
class IngestBenchResult:
    date: str
    machine: str
    rate_target_msgs_s: float
    duration_s: float
    devices: int
    published: int
    stored: int
    stored_msgs_s: float
    latency_p50_s: float
    latency_p99_s: float
    # Publisher excluded: `toir simulate` exits before the second sample.
    cpu_pct_of_one_core: dict[str, float]
    # The same CPU per message stored: comparable between runs that stored different amounts.
    cpu_us_per_stored_msg: dict[str, float]


@dataclass(frozen=True)
class IngestLoad:
    """What the benchmark publishes, and how many stream workers take it."""

    rate: float
    duration_s: float
    devices: int
    stream_workers: int = 1


def run_ingest_bench(
    settings: Settings, load: IngestLoad, *, progress: Progress
) -> IngestBenchResult:
    """Run the benchmark on the configured or embedded stack and return its figures."""
    rate, duration_s, devices = load.rate, load.duration_s, load.devices
    with EmbeddedStack(settings, log=progress) as stack:
        urls = ServiceUrls(stack.database_url, stack.mqtt_url, stack.kafka_url)
        with connect(urls.database_url) as conn:
            migrate(conn)
        register_fleet(urls.database_url, Fleet(FleetConfig(equipment=devices, vehicles=0)))
        with running_platform(settings, urls, progress, stream_workers=load.stream_workers):
            started, before = utcnow(), cpu.sample()
            published = _publish(settings, urls, rate=rate, duration_s=duration_s, devices=devices)
            progress(f"published {published}; waiting for the pipeline to drain...")
            _wait_drained(urls.database_url, started, published)
            after = cpu.sample()
            usage = cpu.cpu_percent(before, after)
            result = _result(urls.database_url, started, rate, duration_s, devices, published)
            per_msg = cpu.us_per_item(usage, after.at - before.at, result.stored)
            return replace(result, cpu_pct_of_one_core=usage, cpu_us_per_stored_msg=per_msg)


def _publish(
    settings: Settings, urls: ServiceUrls, *, rate: float, duration_s: float, devices: int
) -> int:
    # The publisher is a process of its own, as real devices would be.
    command = [
        sys.executable,
        "-m",
        "toir",
        "simulate",
        "--duration",
        str(duration_s),
        "--rate",
        str(rate),
        "--equipment",
        str(devices),
        "--vehicles",
        "0",
    ]
    done = subprocess.run(
        command,
        env=process_env(urls, settings.data_dir),
        check=True,
        capture_output=True,
        text=True,
    )
    return int(json.loads(done.stdout.strip().splitlines()[-1])["published"])


def _wait_drained(database_url: str, since: datetime, published: int) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(LATENCY_SQL, {"since": since}).fetchone()
        if row and row[0] >= published:
            return
        time.sleep(0.5)


def _result(
    database_url: str,
    since: datetime,
    rate: float,
    duration_s: float,
    devices: int,
    published: int,
) -> IngestBenchResult:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(LATENCY_SQL, {"since": since}).fetchone()
    assert row is not None
    stored, span_s, p50, p99 = int(row[0]), float(row[1] or 0), row[2] or 0.0, row[3] or 0.0
    return IngestBenchResult(
        date=utcnow().strftime("%Y-%m-%d"),
        machine=f"{platform.machine()}, {_cpus()} cores, Python {platform.python_version()}",
        rate_target_msgs_s=rate,
        duration_s=duration_s,
        devices=devices,
        published=published,
        stored=stored,
        stored_msgs_s=round(stored / span_s, 1) if span_s else 0.0,
        latency_p50_s=round(float(p50), 3),
        latency_p99_s=round(float(p99), 3),
        cpu_pct_of_one_core={},
        cpu_us_per_stored_msg={},
    )


def _cpus() -> int:
    return os.cpu_count() or 0


def as_json(result: IngestBenchResult) -> str:
    return json.dumps(asdict(result), sort_keys=True)
