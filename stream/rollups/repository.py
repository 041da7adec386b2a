"""SQL for the stream-maintained rollups and the native-partition storage upkeep.

Bucket statistics travel by binary COPY into per-connection staging tables, then one
upsert per table: COPY formats rows in C, where array parameters would be built in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import psycopg

from stream.rollups.aggregate import MetricHour, UnitHour, VehicleDay, minute_map_text

# Created once per connection by stream.repository.prepare_connection.
CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS stage_unit_hours (
    device_id text, bucket_us int8, reading_count int8, running_count int8,
    hours_run_min float8, hours_run_max float8
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_metric_hours (
    device_id text, bucket_us int8, metric text, sample_count int8, value_sum float8,
    value_min float8, value_max float8
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_vehicle_days (
    device_id text, bucket_us int8, fix_count int8, odometer_min_km float8,
    odometer_max_km float8, speed_max_kmh float8, hours_run_min float8, hours_run_max float8,
    moving_minutes bit(1440), ignition_minutes bit(1440)
) ON COMMIT DELETE ROWS;
"""

TS_FROM_US = "timestamptz 'epoch' + bucket_us * interval '1 microsecond'"

# Rows are upserted in key order so that two writers touching the same buckets (a Kafka
# rebalance hands a device over mid-batch) lock them in the same order: no deadlock.
UPSERT_UNIT_HOURS = f"""
INSERT INTO telemetry.equipment_hourly AS t
    (device_id, bucket, reading_count, running_count, hours_run_min, hours_run_max)
SELECT device_id, {TS_FROM_US}, reading_count, running_count, hours_run_min, hours_run_max
FROM stage_unit_hours
ORDER BY device_id, bucket_us
ON CONFLICT (device_id, bucket) DO UPDATE SET
    reading_count = t.reading_count + excluded.reading_count,
    running_count = t.running_count + excluded.running_count,
    hours_run_min = least(t.hours_run_min, excluded.hours_run_min),
    hours_run_max = greatest(t.hours_run_max, excluded.hours_run_max)
"""

UPSERT_METRIC_HOURS = f"""
INSERT INTO telemetry.equipment_hourly_metrics AS t
    (device_id, bucket, metric, sample_count, value_sum, value_min, value_max)
SELECT device_id, {TS_FROM_US}, metric, sample_count, value_sum, value_min, value_max
FROM stage_metric_hours
ORDER BY device_id, metric, bucket_us
ON CONFLICT (device_id, metric, bucket) DO UPDATE SET
    sample_count = t.sample_count + excluded.sample_count,
    value_sum = t.value_sum + excluded.value_sum,
    value_min = least(t.value_min, excluded.value_min),
    value_max = greatest(t.value_max, excluded.value_max)
"""

UPSERT_VEHICLE_DAYS = f"""
INSERT INTO telemetry.vehicle_daily AS t
    (device_id, bucket, fix_count, odometer_min_km, odometer_max_km, speed_max_kmh,
     hours_run_min, hours_run_max, moving_minutes, ignition_minutes)
SELECT device_id, {TS_FROM_US}, fix_count, odometer_min_km, odometer_max_km, speed_max_kmh,
       hours_run_min, hours_run_max, moving_minutes, ignition_minutes
FROM stage_vehicle_days
ORDER BY device_id, bucket_us
ON CONFLICT (device_id, bucket) DO UPDATE SET
    fix_count = t.fix_count + excluded.fix_count,
    odometer_min_km = least(t.odometer_min_km, excluded.odometer_min_km),
    odometer_max_km = greatest(t.odometer_max_km, excluded.odometer_max_km),
    speed_max_kmh = greatest(t.speed_max_kmh, excluded.speed_max_kmh),
    hours_run_min = least(t.hours_run_min, excluded.hours_run_min),
    hours_run_max = greatest(t.hours_run_max, excluded.hours_run_max),
    moving_minutes = t.moving_minutes | excluded.moving_minutes,
    ignition_minutes = t.ignition_minutes | excluded.ignition_minutes
"""

UNIT_HOUR_TYPES = ["text", "int8", "int8", "int8", "float8", "float8"]
METRIC_HOUR_TYPES = ["text", "int8", "text", "int8", "float8", "float8", "float8"]


async def rollups_maintained_by_stream(conn: psycopg.AsyncConnection) -> bool:
    cur = await conn.execute("SELECT telemetry.rollups_maintained_by_stream()")
    row = await cur.fetchone()
    return bool(row and row[0])


async def upsert_unit_hours(conn: psycopg.AsyncConnection, units: Sequence[UnitHour]) -> None:
    rows = [
        (
            u.device_id,
            u.bucket_us,
            u.reading_count,
            u.running_count,
            u.hours_run_min,
            u.hours_run_max,
        )
        for u in units
    ]
    await _stage_and_upsert(conn, "stage_unit_hours", UNIT_HOUR_TYPES, rows, UPSERT_UNIT_HOURS)


async def upsert_metric_hours(conn: psycopg.AsyncConnection, stats: Sequence[MetricHour]) -> None:
    rows = [
        (s.device_id, s.bucket_us, s.metric, s.sample_count, s.value_sum, s.value_min, s.value_max)
        for s in stats
    ]
    await _stage_and_upsert(
        conn, "stage_metric_hours", METRIC_HOUR_TYPES, rows, UPSERT_METRIC_HOURS
    )


async def upsert_vehicle_days(conn: psycopg.AsyncConnection, days: Sequence[VehicleDay]) -> None:
    # Bit strings go as text: few rows, and psycopg has no binary bit dumper.
    rows = [
        (
            d.device_id,
            d.bucket_us,
            d.fix_count,
            d.odometer_min_km,
            d.odometer_max_km,
            d.speed_max_kmh,
            d.hours_run_min,
            d.hours_run_max,
            minute_map_text(d.moving_minutes),
            minute_map_text(d.ignition_minutes),
        )
        for d in days
    ]
    await _stage_and_upsert(conn, "stage_vehicle_days", None, rows, UPSERT_VEHICLE_DAYS)


async def _stage_and_upsert(
    conn: psycopg.AsyncConnection,
    stage: str,
    types: list[str] | None,
    rows: list[tuple[Any, ...]],
    upsert: str,
) -> None:
    if not rows:
        return
    # `stage` is one of the constant names above; binary needs every column's type.
    fmt = "(FORMAT BINARY)" if types else ""
    async with conn.cursor() as cur:
        async with cur.copy(f"COPY {stage} FROM STDIN {fmt}") as copy:
            if types:
                copy.set_types(types)
            for row in rows:
                await copy.write_row(row)
        await cur.execute(upsert)


async def run_storage_maintenance(conn: psycopg.AsyncConnection, *, ahead_days: int) -> list[str]:
    """Create partitions ahead, drop expired ones; the names of those dropped."""
    cur = await conn.execute("SELECT telemetry.run_storage_maintenance(%s)", (ahead_days,))
    return [str(name) for (name,) in await cur.fetchall()]


async def reorder_next_closed_day(
    conn: psycopg.AsyncConnection, *, closed_after_days: int
) -> date | None:
    """Rewrite the earliest closed day not yet reordered in key order; that day, or None."""
    cur = await conn.execute("SELECT telemetry.reorder_next_closed_day(%s)", (closed_after_days,))
    row = await cur.fetchone()
    return row[0] if row else None
