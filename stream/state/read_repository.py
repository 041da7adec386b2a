"""SQL the API reads latest state and meters with, and records baselines with."""

from __future__ import annotations

from typing import Any, Final

import psycopg
from psycopg.rows import class_row, dict_row

from stream.state.models import BaselineRead, MeterRead

SUBJECT_TABLES: Final = {"equipment": "assets.equipment", "vehicle": "assets.vehicles"}

DEVICE_STATE = """
SELECT d.id AS device_id,
    CASE WHEN d.equipment_id IS NOT NULL THEN 'equipment'
         WHEN d.vehicle_id IS NOT NULL THEN 'vehicle' ELSE 'device' END AS subject_kind,
    coalesce(d.equipment_id, d.vehicle_id, d.id) AS subject_id,
    coalesce(d.expected_interval_s, k.expected_interval_s) AS expected_interval_s,
    coalesce(s.last_received_at + make_interval(
        secs => coalesce(d.expected_interval_s, k.expected_interval_s)) >= now(), false) AS online,
    s.last_seen_at, s.last_received_at, s.running, s.metrics, s.last_position_at, s.lat, s.lon,
    s.speed_kmh, s.heading, s.accuracy_m, s.altitude_m, s.ignition, s.battery_pct
FROM assets.devices d
JOIN assets.device_kinds k ON k.kind = d.kind
LEFT JOIN telemetry.device_state s ON s.device_id = d.id
WHERE d.id = %s
"""

METERS = """
SELECT meter, value, source, device_id, last_at, updated_at FROM telemetry.meters
WHERE subject_kind = %s AND subject_id = %s AND source <> 'new' ORDER BY meter
"""

BASELINES = """
SELECT id, meter, value, previous_value, reason, set_by, set_at FROM telemetry.meter_baselines
WHERE subject_kind = %s AND subject_id = %s ORDER BY set_at DESC, id DESC LIMIT %s
"""

INSERT_BASELINE = """
INSERT INTO telemetry.meter_baselines (subject_kind, subject_id, meter, value, previous_value,
    reason, set_by)
VALUES (%s, %s, %s, %s, %s, %s, %s)
"""


async def device_state(conn: psycopg.AsyncConnection, device_id: str) -> dict[str, Any] | None:
    """The registry row and latest state of one device, flat; None if not registered."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(DEVICE_STATE, (device_id,))
        return await cur.fetchone()


async def meters(
    conn: psycopg.AsyncConnection, subject_kind: str, subject_id: str
) -> list[MeterRead]:
    async with conn.cursor(row_factory=class_row(MeterRead)) as cur:
        await cur.execute(METERS, (subject_kind, subject_id))
        return await cur.fetchall()


async def baselines(
    conn: psycopg.AsyncConnection, subject_kind: str, subject_id: str, *, limit: int
) -> list[BaselineRead]:
    """The newest baselines first."""
    async with conn.cursor(row_factory=class_row(BaselineRead)) as cur:
        await cur.execute(BASELINES, (subject_kind, subject_id, limit))
        return await cur.fetchall()


async def insert_baseline(
    conn: psycopg.AsyncConnection,
    *,
    subject: tuple[str, str],
    meter: str,
    value: float,
    previous_value: float | None,
    reason: str,
    set_by: str,
) -> None:
    params = (*subject, meter, value, previous_value, reason, set_by)
    await conn.execute(INSERT_BASELINE, params)


async def subject_exists(conn: psycopg.AsyncConnection, kind: str, subject_id: str) -> bool:
    table = SUBJECT_TABLES[kind]  # a constant table name, never input
    cur = await conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE id = %s)", (subject_id,))
    row = await cur.fetchone()
    return bool(row and row[0])
