"""SQL for the telemetry read API: raw tables and rollups, on TimescaleDB or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

# The newest fix of each vehicle over all its devices, from the latest-state table the
# stream keeps (telemetry.device_state, migration 0004), and the vehicle's odometer meter.
LATEST_POSITIONS = """
SELECT * FROM (
    SELECT DISTINCT ON (d.vehicle_id)
           d.vehicle_id, v.plate, st.device_id, st.last_position_at AS ts, st.lat, st.lon,
           st.speed_kmh, st.heading, st.ignition, m.value AS odometer_km,
           CASE WHEN st.last_position_at < %(offline_before)s THEN 'offline'
                WHEN st.speed_kmh >= %(moving_kmh)s AND st.ignition IS NOT FALSE THEN 'moving'
                ELSE 'stopped' END AS status
    FROM assets.devices d
    JOIN assets.vehicles v ON v.id = d.vehicle_id
    JOIN telemetry.device_state st ON st.device_id = d.id AND st.last_position_at IS NOT NULL
    LEFT JOIN telemetry.meters m
           ON m.subject_kind = 'vehicle' AND m.subject_id = d.vehicle_id
          AND m.meter = 'odometer_km'
    WHERE d.vehicle_id > %(after)s
    ORDER BY d.vehicle_id, st.last_position_at DESC
) latest
WHERE (%(statuses)s::text[] IS NULL OR status = ANY(%(statuses)s::text[]))
  AND (%(min_lat)s::float8 IS NULL OR lat BETWEEN %(min_lat)s AND %(max_lat)s)
  AND (%(min_lon)s::float8 IS NULL OR lon BETWEEN %(min_lon)s AND %(max_lon)s)
ORDER BY vehicle_id
LIMIT %(limit)s
"""

TRACK = """
SELECT ts, lat, lon, speed_kmh, heading, ignition, odometer_km
FROM telemetry.positions
WHERE device_id = ANY(%s) AND ts >= %s AND ts < %s
ORDER BY ts
LIMIT %s
"""

RAW_READINGS = """
SELECT device_id, ts, hours_run, running,
       CASE WHEN %(metric)s::text IS NULL THEN metrics
            ELSE jsonb_strip_nulls(
                jsonb_build_object(%(metric)s::text, metrics -> %(metric)s::text))
       END AS metrics
FROM telemetry.readings
WHERE device_id = ANY(%(devices)s) AND ts >= %(lo)s AND ts < %(hi)s
ORDER BY ts, device_id
LIMIT %(limit)s
"""

# Buckets are grown from the hourly rollup; a day is the sum of its hours (every column is
# additive), so 1d needs no rollup of its own.
BUCKET_UNITS = """
SELECT date_trunc(%(width)s, bucket, 'UTC') AS bucket,
       sum(reading_count)::bigint AS reading_count, sum(running_count)::bigint AS running_count,
       sum(hours_run_delta) AS hours_run_delta
FROM telemetry.equipment_hourly
WHERE device_id = ANY(%(devices)s) AND bucket >= %(lo)s AND bucket < %(hi)s
GROUP BY 1
ORDER BY 1
LIMIT %(limit)s
"""

BUCKET_METRICS = """
SELECT date_trunc(%(width)s, bucket, 'UTC') AS bucket, metric,
       sum(sample_count)::bigint AS count, min(value_min) AS min,
       sum(value_sum) / sum(sample_count) AS avg, max(value_max) AS max
FROM telemetry.equipment_hourly_metrics
WHERE device_id = ANY(%(devices)s) AND bucket >= %(lo)s AND bucket < %(hi)s
  AND (%(metric)s::text IS NULL OR metric = %(metric)s::text)
GROUP BY 1, 2
ORDER BY 1, 2
"""

# One row per device and day (the primary key), so count(*) counts vehicles.
FLEET_DAYS = """
SELECT bucket AS day, count(*) AS vehicles, sum(distance_km) AS distance_km,
       coalesce(sum(driving_s), 0)::bigint AS driving_s,
       coalesce(sum(ignition_on_s), 0)::bigint AS ignition_on_s,
       sum(engine_hours) AS engine_hours
FROM telemetry.vehicle_daily
WHERE bucket >= %s AND bucket < %s
GROUP BY bucket
ORDER BY bucket
LIMIT %s
"""


@dataclass(frozen=True, slots=True)
class PositionFilter:
    offline_before: datetime
    moving_kmh: float
    after_vehicle_id: str = ""
    statuses: list[str] | None = None
    min_lat: float | None = None
    max_lat: float | None = None
    min_lon: float | None = None
    max_lon: float | None = None


async def latest_positions(
    conn: psycopg.AsyncConnection, flt: PositionFilter, *, limit: int
) -> list[dict[str, Any]]:
    params = {
        "offline_before": flt.offline_before,
        "moving_kmh": flt.moving_kmh,
        "after": flt.after_vehicle_id,
        "statuses": flt.statuses,
        "min_lat": flt.min_lat,
        "max_lat": flt.max_lat,
        "min_lon": flt.min_lon,
        "max_lon": flt.max_lon,
        "limit": limit,
    }
    return await _dicts(conn, LATEST_POSITIONS, params)


async def vehicle_devices(conn: psycopg.AsyncConnection, vehicle_id: str) -> list[str] | None:
    """The devices of a vehicle; None when there is no such vehicle."""
    return await _devices_of(conn, "vehicles", "vehicle_id", vehicle_id)


async def equipment_devices(conn: psycopg.AsyncConnection, equipment_id: str) -> list[str] | None:
    """The devices of an equipment unit; None when there is no such unit."""
    return await _devices_of(conn, "equipment", "equipment_id", equipment_id)


async def _devices_of(
    conn: psycopg.AsyncConnection, table: str, column: str, asset_id: str
) -> list[str] | None:
    # table and column come from the two callers above, never from a request.
    sql = (
        f"SELECT a.id, d.id FROM assets.{table} a "
        f"LEFT JOIN assets.devices d ON d.{column} = a.id WHERE a.id = %s"
    )
    cur = await conn.execute(sql, (asset_id,))
    rows = await cur.fetchall()
    if not rows:
        return None
    return [str(device_id) for _, device_id in rows if device_id is not None]


async def track(
    conn: psycopg.AsyncConnection, devices: list[str], lo: datetime, hi: datetime, *, limit: int
) -> list[dict[str, Any]]:
    return await _dicts(conn, TRACK, (devices, lo, hi, limit))


async def raw_readings(
    conn: psycopg.AsyncConnection,
    devices: list[str],
    lo: datetime,
    hi: datetime,
    *,
    metric: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    params = {"devices": devices, "lo": lo, "hi": hi, "metric": metric, "limit": limit}
    return await _dicts(conn, RAW_READINGS, params)


async def bucket_units(
    conn: psycopg.AsyncConnection,
    devices: list[str],
    lo: datetime,
    hi: datetime,
    *,
    width: str,
    limit: int,
) -> list[dict[str, Any]]:
    params = {"devices": devices, "lo": lo, "hi": hi, "width": width, "limit": limit}
    return await _dicts(conn, BUCKET_UNITS, params)


async def bucket_metrics(
    conn: psycopg.AsyncConnection,
    devices: list[str],
    lo: datetime,
    hi: datetime,
    *,
    width: str,
    metric: str | None,
) -> list[dict[str, Any]]:
    params = {"devices": devices, "lo": lo, "hi": hi, "width": width, "metric": metric}
    return await _dicts(conn, BUCKET_METRICS, params)


async def fleet_days(
    conn: psycopg.AsyncConnection, lo: datetime, hi: datetime, *, limit: int
) -> list[dict[str, Any]]:
    return await _dicts(conn, FLEET_DAYS, (lo, hi, limit))


async def _dicts(conn: psycopg.AsyncConnection, sql: str, params: Any) -> list[dict[str, Any]]:
    # Binary results: timestamps and floats load without text parsing.
    async with conn.cursor(row_factory=dict_row, binary=True) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall()
