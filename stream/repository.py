"""SQL for the raw telemetry writes: binary COPY into a staging table, then an
idempotent INSERT … ON CONFLICT DO NOTHING, so a redelivered batch stores nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg.types.json import set_json_dumps

from devices.records import Position, Reading
from kernel.clock import to_epoch_us
from stream.rollups import repository as rollups_repository
from stream.state import repository as state_repository

US_PER_DAY = 86_400_000_000
RowT = TypeVar("RowT", Reading, Position)
EPOCH = date(1970, 1, 1)

# Temporary tables live per connection; ON COMMIT DELETE ROWS empties them after
# every batch, and timestamps travel as epoch microseconds to skip datetime objects.
CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS stage_readings (
    device_id text, ts_us bigint, hours_run float8, running boolean, metrics jsonb
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_positions (
    device_id text, ts_us bigint, lat float8, lon float8, speed_kmh float8, heading float8,
    ignition boolean, odometer_km float8, accuracy_m float8, altitude_m float8,
    battery_pct float8, hours_run float8
) ON COMMIT DELETE ROWS;
"""

TS_FROM_US = "timestamptz 'epoch' + ts_us * interval '1 microsecond'"

COPY_READINGS = (
    "COPY stage_readings (device_id, ts_us, hours_run, running, metrics) FROM STDIN (FORMAT BINARY)"
)
READING_TYPES = ["text", "int8", "float8", "bool", "jsonb"]
INSERT_READINGS = f"""
INSERT INTO telemetry.readings (device_id, ts, hours_run, running, metrics)
SELECT device_id, {TS_FROM_US}, hours_run, running, metrics FROM stage_readings
ON CONFLICT DO NOTHING
RETURNING device_id, ts
"""

POSITION_COLUMNS = (
    "device_id, ts_us, lat, lon, speed_kmh, heading, ignition, odometer_km, accuracy_m, "
    "altitude_m, battery_pct, hours_run"
)
COPY_POSITIONS = f"COPY stage_positions ({POSITION_COLUMNS}) FROM STDIN (FORMAT BINARY)"
POSITION_TYPES = [
    "text",
    "int8",
    "float8",
    "float8",
    "float8",
    "float8",
    "bool",
    "float8",
    "float8",
    "float8",
    "float8",
    "float8",
]
INSERT_POSITIONS = f"""
INSERT INTO telemetry.positions (device_id, ts, lat, lon, speed_kmh, heading, ignition,
    odometer_km, accuracy_m, altitude_m, battery_pct, hours_run)
SELECT device_id, {TS_FROM_US}, lat, lon, speed_kmh, heading, ignition, odometer_km,
    accuracy_m, altitude_m, battery_pct, hours_run FROM stage_positions
ON CONFLICT DO NOTHING
RETURNING device_id, ts
"""


async def prepare_connection(conn: psycopg.AsyncConnection) -> None:
    """Pool `configure` hook: fast JSON and the staging tables of every batch step."""
    set_json_dumps(orjson.dumps, context=conn)
    await conn.execute(CREATE_STAGING)
    await conn.execute(rollups_repository.CREATE_STAGING)
    await conn.execute(state_repository.CREATE_STAGING)
    await conn.commit()


def days_of(rows: Sequence[Reading] | Sequence[Position]) -> set[date]:
    """The UTC days the rows fall on: a day number per row, a date per distinct day."""
    numbers = {row.ts_us // US_PER_DAY for row in rows}
    return {EPOCH + timedelta(days=number) for number in numbers}


async def ensure_partitions(conn: psycopg.AsyncConnection, days: set[date]) -> None:
    for day in sorted(days):
        await conn.execute("SELECT telemetry.ensure_partitions(%s, %s)", (day, day))


async def insert_readings(conn: psycopg.AsyncConnection, rows: Sequence[Reading]) -> list[Reading]:
    """Stage and insert; returns the rows that were new. Call inside a transaction."""
    async with conn.cursor() as cur:
        async with cur.copy(COPY_READINGS) as copy:
            copy.set_types(READING_TYPES)
            for r in rows:
                await copy.write_row((r.device_id, r.ts_us, r.hours_run, r.running, r.metrics))
        await cur.execute(INSERT_READINGS)
        return _new_rows(rows, await cur.fetchall())


async def insert_positions(
    conn: psycopg.AsyncConnection, rows: Sequence[Position]
) -> list[Position]:
    """Stage and insert; returns the rows that were new. Call inside a transaction."""
    async with conn.cursor() as cur:
        async with cur.copy(COPY_POSITIONS) as copy:
            copy.set_types(POSITION_TYPES)
            for p in rows:
                await copy.write_row(
                    (
                        p.device_id,
                        p.ts_us,
                        p.lat,
                        p.lon,
                        p.speed_kmh,
                        p.heading,
                        p.ignition,
                        p.odometer_km,
                        p.accuracy_m,
                        p.altitude_m,
                        p.battery_pct,
                        p.hours_run,
                    )
                )
        await cur.execute(INSERT_POSITIONS)
        return _new_rows(rows, await cur.fetchall())


def _new_rows(rows: Sequence[RowT], inserted: list[tuple[Any, ...]]) -> list[RowT]:
    """The staged rows the INSERT actually added (not those already stored)."""
    if len(inserted) == len(rows):
        return list(rows)
    added = {(device_id, to_epoch_us(ts)) for device_id, ts in inserted}
    new: list[RowT] = []
    for row in rows:
        key = (row.device_id, row.ts_us)
        if key in added:
            added.discard(key)  # a duplicate inside the batch counts once
            new.append(row)
    return new
