"""`toir bench queries`: the questions planners ask, timed on a month of fleet data.

Each query is timed through the read API's service functions (SQL and the response
models), on one connection, rotating over units so the cache is not one unit's pages.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg

from devices.telemetry import service as telemetry
from devices.telemetry.models import Bucket
from kernel.clock import utcnow
from kernel.db import connect
from kernel.migrate import migrate
from kernel.settings import Settings
from toir.bench.dataset import Dataset, DatasetSpec, ensure_dataset, equipment_id, vehicle_id
from toir.bench.runs import machine
from toir.devstack import start_postgres

Progress = Callable[[str], None]
Query = Callable[[psycopg.AsyncConnection, int], Awaitable[int]]

TARGETS_MS = {
    "latest positions, all vehicles": 50.0,
    "one vehicle, 24 h track": 150.0,
    "one vehicle, 24 h track, simplified 10 m": 150.0,
    "one unit, one metric, hourly, 30 days": 50.0,
    "fleet daily distance, 30 days": 500.0,
}

SIZE_SQL = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint,
       coalesce(sum(pg_relation_size(c.oid)), 0)::bigint,
       coalesce(sum(c.reltuples), 0)::bigint
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = %s::regclass
"""


@dataclass
class QueryTiming:
    """Cold: the first query for a unit (its pages not yet in shared buffers); warm: the
    same query again at once."""

    query: str
    target_ms: float
    cold_p50_ms: float
    cold_p95_ms: float
    warm_p50_ms: float
    warm_p95_ms: float
    rows: int


@dataclass
class QueryBenchResult:
    date: str
    machine: str
    spec: DatasetSpec
    readings: int
    positions: int
    generate_s: float
    bytes_per_reading: float
    bytes_per_position: float
    heap_bytes_per_reading: float
    heap_bytes_per_position: float
    rollup_bytes: dict[str, int]
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    timings: list[QueryTiming] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def run_query_bench(
    settings: Settings, *, spec: DatasetSpec, repeats: int, progress: Progress
) -> QueryBenchResult:
    """Generate (or reuse) the dataset, then time every query `repeats` times."""
    if settings.database_url:
        return _bench(settings.database_url, spec, repeats, progress)
    service = start_postgres(Path(settings.data_dir) / "bench-queries", log=progress)
    try:
        return _bench(service.url, spec, repeats, progress)
    finally:
        service.stop()


def _bench(
    database_url: str, spec: DatasetSpec, repeats: int, progress: Progress
) -> QueryBenchResult:
    with connect(database_url) as conn:
        migrate(conn)
    dataset = ensure_dataset(database_url, spec, progress)
    result = _sizes(database_url, dataset)
    result.timings = asyncio.run(_time_all(database_url, dataset, repeats))
    # The machine is shared: the load shows how much of each figure is waiting for a core.
    result.load_average = os.getloadavg()
    return result


async def _time_all(database_url: str, dataset: Dataset, repeats: int) -> list[QueryTiming]:
    timings = []
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        for name, query in _queries(dataset).items():
            timings.append(await _time(conn, name, query, repeats))
    return timings


def _queries(dataset: Dataset) -> dict[str, Query]:
    end, spec = dataset.end, dataset.spec
    day, month = timedelta(days=1), timedelta(days=30)

    async def latest(conn: psycopg.AsyncConnection, n: int) -> int:
        page = await telemetry.latest_positions(
            conn=conn, statuses=None, bbox=None, cursor=None, limit=1000
        )
        return len(page.items)

    async def track(conn: psycopg.AsyncConnection, n: int, tolerance_m: float | None = None) -> int:
        found = await telemetry.track(
            conn=conn,
            vehicle_id=vehicle_id(1 + n % spec.vehicles),
            lo=end - day,
            hi=end,
            tolerance_m=tolerance_m,
            cursor=None,
            limit=10_000,
        )
        return len(found.items)

    async def simplified(conn: psycopg.AsyncConnection, n: int) -> int:
        return await track(conn, n, 10.0)

    async def hourly(conn: psycopg.AsyncConnection, n: int) -> int:
        page = await telemetry.readings(
            conn=conn,
            equipment_id=equipment_id(1 + n % spec.equipment),
            lo=end - month,
            hi=end,
            bucket=Bucket.HOUR,
            metric="temperature_c",
            cursor=None,
            limit=1000,
        )
        return len(page.buckets or [])

    async def fleet(conn: psycopg.AsyncConnection, n: int) -> int:
        page = await telemetry.fleet_days(conn=conn, lo=end - month, hi=end, cursor=None, limit=366)
        return len(page.items)

    names = list(TARGETS_MS)
    return dict(zip(names, (latest, track, simplified, hourly, fleet), strict=True))


async def _time(
    conn: psycopg.AsyncConnection, name: str, query: Query, repeats: int
) -> QueryTiming:
    cold_ms: list[float] = []
    warm_ms: list[float] = []
    rows = 0
    for n in range(repeats):
        for runs_ms in (cold_ms, warm_ms):
            started = time.perf_counter()
            rows = await query(conn, n)
            runs_ms.append((time.perf_counter() - started) * 1000)
    return QueryTiming(
        query=name,
        target_ms=TARGETS_MS[name],
        cold_p50_ms=_percentile(cold_ms, 0.5),
        cold_p95_ms=_percentile(cold_ms, 0.95),
        warm_p50_ms=_percentile(warm_ms, 0.5),
        warm_p95_ms=_percentile(warm_ms, 0.95),
        rows=rows,
    )


def _percentile(values_ms: list[float], fraction: float) -> float:
    ordered = sorted(values_ms)
    if fraction == 0.5:
        return round(statistics.median(ordered), 1)
    return round(ordered[int(fraction * (len(ordered) - 1))], 1)


def _sizes(database_url: str, dataset: Dataset) -> QueryBenchResult:
    with psycopg.connect(database_url) as conn:
        readings = _size(conn, "telemetry.readings")
        positions = _size(conn, "telemetry.positions")
        rollups = {
            name: _relation_bytes(conn, name)
            for name in (
                "telemetry.equipment_hourly",
                "telemetry.equipment_hourly_metrics",
                "telemetry.vehicle_daily",
            )
        }
    return QueryBenchResult(
        date=utcnow().strftime("%Y-%m-%d"),
        machine=machine(),
        spec=dataset.spec,
        readings=dataset.readings,
        positions=dataset.positions,
        generate_s=round(dataset.generate_s, 1),
        bytes_per_reading=round(readings[0] / max(readings[2], 1), 1),
        bytes_per_position=round(positions[0] / max(positions[2], 1), 1),
        heap_bytes_per_reading=round(readings[1] / max(readings[2], 1), 1),
        heap_bytes_per_position=round(positions[1] / max(positions[2], 1), 1),
        rollup_bytes=rollups,
    )


def _size(conn: psycopg.Connection, parent: str) -> tuple[int, int, int]:
    row = conn.execute(SIZE_SQL, (parent,)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _relation_bytes(conn: psycopg.Connection, name: str) -> int:
    row = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (name,)).fetchone()
    return int(row[0]) if row else 0
