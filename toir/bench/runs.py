"""Pieces every ingest benchmark run shares: bench devices, a publisher process, and
measuring what got stored, how fast and how late."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from devices.registry import (
    DeviceIn,
    EquipmentIn,
    VehicleIn,
    upsert_devices,
    upsert_equipment,
    upsert_vehicles,
)
from toir.bench import cpu
from toir.bench.publisher import bench_equipment_ids, bench_vehicle_ids

DRAIN_TIMEOUT_S = 900.0
# Give up waiting when nothing more is stored for this long.
STALL_TIMEOUT_S = 30.0
# Count exactly once the insert counter has not moved for this long: a backend that goes
# idle within a second of its last statistics flush holds the rest back for up to 10 s
# (PGSTAT_IDLE_INTERVAL, src/backend/utils/activity/pgstat.c).
QUIET_S = 2.0
DRAIN_POLL_S = 1.0

# Only the bench devices' rows since the run began, through the (device_id, ts) key.
STORED_SQL = """
SELECT count(*),
       extract(epoch FROM max(stored_at) - min(stored_at)),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - ts)),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - ts))
FROM {table} WHERE device_id = ANY(%(devices)s) AND ts >= %(since)s
"""
COUNT_SQL = "SELECT count(*) FROM {table} WHERE device_id = ANY(%(devices)s) AND ts >= %(since)s"
# Rows ever inserted into a table and everything under it: its partitions, or a hypertable's
# chunks (both are pg_inherits children), at any depth. Backends flush these statistics at most
# about once a second, and rows skipped by ON CONFLICT DO NOTHING are not counted.
INSERTED_SQL = """
WITH RECURSIVE tree(relid) AS (
    SELECT %(table)s::regclass::oid
    UNION ALL
    SELECT i.inhrelid FROM pg_inherits i JOIN tree ON i.inhparent = tree.relid
)
SELECT coalesce(sum(s.n_tup_ins), 0)::bigint FROM pg_stat_user_tables s JOIN tree USING (relid)
"""


@dataclass(frozen=True)
class Scenario:
    """One load: messages per second (0: flat out), readings per message, how much."""

    name: str
    rate_msgs_s: float
    batch: int = 1
    duration_s: float | None = None
    messages: int | None = None


@dataclass(frozen=True)
class DrainLimits:
    """How long a drain wait may take in all and with nothing new, and how often it looks."""

    timeout_s: float = DRAIN_TIMEOUT_S
    stall_s: float = STALL_TIMEOUT_S
    quiet_s: float = QUIET_S
    poll_s: float = DRAIN_POLL_S


DRAIN_LIMITS = DrainLimits()


@dataclass(frozen=True)
class Stored:
    readings: int
    span_s: float
    p50_s: float
    p99_s: float


@dataclass
class ScenarioResult:
    scenario: str
    path: str  # "toir" or "baseline"
    rate_target_msgs_s: float
    batch: int
    published_msgs: int
    published_readings: int
    publish_elapsed_s: float
    stored_readings: int
    lost_readings: int
    stored_msgs_s: float
    stored_readings_s: float
    latency_p50_s: float
    latency_p99_s: float
    cpu_pct_of_one_core: dict[str, float] = field(default_factory=dict)
    # CPU time each component spent per stored reading: unlike throughput, hardly moved by
    # what else the machine runs (as long as the caches are not thrashed).
    cpu_us_per_reading: dict[str, float] = field(default_factory=dict)
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)


def register_bench_devices(database_url: str, *, equipment: int, vehicles: int = 0) -> None:
    eq_ids, veh_ids = bench_equipment_ids(equipment), bench_vehicle_ids(vehicles)
    with psycopg.connect(database_url) as conn:
        upsert_equipment(conn, units=[EquipmentIn(i, "pump") for i in eq_ids])
        upsert_vehicles(conn, vehicles=[VehicleIn(i) for i in veh_ids])
        upsert_devices(
            conn,
            devices=[
                *(DeviceIn(i, "controller", equipment_id=i) for i in eq_ids),
                *(DeviceIn(i, "tracker", vehicle_id=i) for i in veh_ids),
            ],
        )


def publish(
    mqtt_url: str, scenario: Scenario, *, equipment: int, vehicles: int = 0
) -> dict[str, float]:
    """Run the bench publisher as its own process; its JSON report."""
    command = [sys.executable, "-m", "toir.bench.publisher", "--mqtt-url", mqtt_url]
    command += ["--equipment", str(equipment), "--vehicles", str(vehicles)]
    command += ["--rate", str(scenario.rate_msgs_s), "--batch", str(scenario.batch)]
    if scenario.duration_s is not None:
        command += ["--duration-s", str(scenario.duration_s)]
    if scenario.messages is not None:
        command += ["--messages", str(scenario.messages)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    report: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def measure(
    database_url: str,
    mqtt_url: str,
    scenario: Scenario,
    *,
    path: str,
    table: str,
    equipment: int,
    since: datetime,
) -> ScenarioResult:
    """Publish the scenario, wait until the pipeline has stored it, and measure."""
    devices = bench_equipment_ids(equipment)
    inserted_before = inserted_rows(database_url, table)
    before = cpu.sample()
    report = publish(mqtt_url, scenario, equipment=equipment)
    expected = int(report["readings"])
    wait_stored(database_url, table, devices, since, expected, inserted_before=inserted_before)
    after = cpu.sample()
    usage = cpu.cpu_percent(before, after)
    # The publisher has exited by now: it reports its own CPU time.
    usage["publisher"] = round(100 * float(report["cpu_s"]) / (after.at - before.at), 1)
    stored = stored_since(database_url, table, devices, since)
    per_reading = cpu.us_per_item(usage, after.at - before.at, stored.readings)
    return ScenarioResult(
        scenario=scenario.name,
        path=path,
        rate_target_msgs_s=scenario.rate_msgs_s,
        batch=scenario.batch,
        published_msgs=int(report["messages"]),
        published_readings=int(report["readings"]),
        publish_elapsed_s=float(report["elapsed_s"]),
        stored_readings=stored.readings,
        lost_readings=int(report["readings"]) - stored.readings,
        stored_msgs_s=_per_s(stored.readings / scenario.batch, stored.span_s),
        stored_readings_s=_per_s(stored.readings, stored.span_s),
        latency_p50_s=round(stored.p50_s, 3),
        latency_p99_s=round(stored.p99_s, 3),
        cpu_pct_of_one_core=usage,
        cpu_us_per_reading=per_reading,
        load_average=os.getloadavg(),
    )


def wait_stored(
    database_url: str,
    table: str,
    devices: list[str],
    since: datetime,
    expected: int,
    *,
    inserted_before: int,
    limits: DrainLimits = DRAIN_LIMITS,
) -> int:
    """Wait until `expected` rows are stored, nothing new comes for a while, or time is up;
    return the devices' rows stored since `since`, counted exactly.

    Progress is the table's insert counter against `inserted_before` (read before publishing):
    cheap, where the exact count reads every bench row and takes CPU from the pipeline being
    measured. So the exact count runs only when the counter says the rows may all be there
    (then every poll while they are short: other rows move the counter too), and once each
    time the counter stops moving.
    """
    with psycopg.connect(database_url, autocommit=True) as conn:
        drain = _Drain(conn, table, devices, since, expected, inserted_before, limits)
        return drain.wait()


class _Drain:
    """One drain wait on one connection: the counter it last read, when things last moved."""

    def __init__(
        self,
        conn: psycopg.Connection[tuple[Any, ...]],
        table: str,
        devices: list[str],
        since: datetime,
        expected: int,
        inserted_before: int,
        limits: DrainLimits,
    ) -> None:
        self._conn, self._table, self._devices, self._since = conn, table, devices, since
        self._expected, self._inserted_before, self._limits = expected, inserted_before, limits
        self._inserted = inserted_before
        self._stored = -1
        self._moved_at = self._progress_at = time.monotonic()
        self._quiet_counted = False
        self._counting = False

    def wait(self) -> int:
        deadline = time.monotonic() + self._limits.timeout_s
        while True:
            stored = self._look()
            if stored is not None and stored >= self._expected:
                return stored
            now = time.monotonic()
            if now - self._progress_at >= self._limits.stall_s or now >= deadline:
                return stored if stored is not None else self._count()
            time.sleep(self._limits.poll_s)

    def _look(self) -> int | None:
        """Read the counter; count exactly when it is worth it (else None)."""
        inserted, now = _inserted(self._conn, self._table), time.monotonic()
        if inserted != self._inserted:
            self._inserted, self._moved_at, self._progress_at = inserted, now, now
            self._quiet_counted = False
        self._counting |= inserted - self._inserted_before >= self._expected
        quiet = now - self._moved_at >= self._limits.quiet_s and not self._quiet_counted
        if not (self._counting or quiet):
            return None
        self._quiet_counted = True
        stored = self._count()
        if stored > self._stored >= 0:
            self._progress_at = now
        self._stored = stored
        return stored

    def _count(self) -> int:
        return _count(self._conn, self._table, self._devices, self._since)


def inserted_rows(database_url: str, table: str) -> int:
    """Rows ever inserted into `table` and its partitions or chunks, as statistics count them."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        return _inserted(conn, table)


def count_since(database_url: str, table: str, devices: list[str], since: datetime) -> int:
    with psycopg.connect(database_url) as conn:
        return _count(conn, table, devices, since)


def _inserted(conn: psycopg.Connection[tuple[Any, ...]], table: str) -> int:
    row = conn.execute(INSERTED_SQL, {"table": table}).fetchone()
    return int(row[0]) if row else 0


def _count(
    conn: psycopg.Connection[tuple[Any, ...]], table: str, devices: list[str], since: datetime
) -> int:
    query = sql.SQL(COUNT_SQL).format(table=sql.SQL(table))
    row = conn.execute(query, {"devices": devices, "since": since}).fetchone()
    return int(row[0]) if row else 0


def stored_since(database_url: str, table: str, devices: list[str], since: datetime) -> Stored:
    query = sql.SQL(STORED_SQL).format(table=sql.SQL(table))
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query, {"devices": devices, "since": since}).fetchone()
    assert row is not None
    return Stored(int(row[0]), float(row[1] or 0), float(row[2] or 0), float(row[3] or 0))


def machine() -> str:
    """CPU model, cores, memory and Python: the line docs/benchmarks.md records."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        model = names[0] if names else model
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{model}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, Python {platform.python_version()}"
    )


def _per_s(count: float, span_s: float) -> float:
    return round(count / span_s, 1) if span_s else 0.0
