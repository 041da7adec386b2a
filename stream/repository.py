"""SQL for the raw telemetry writes: idempotent, so a redelivered batch stores nothing twice.

A batch is first copied straight into its table (binary COPY, under a savepoint): nearly
every batch is new, and this costs PostgreSQL about half of the other way. Only when that
hits a row already stored (a redelivery, or a duplicate inside the batch) is the batch
staged and inserted with ON CONFLICT DO NOTHING, which reports the rows that were new.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import date, timedelta
from functools import partial
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg import AsyncCopy, errors
from psycopg.types.json import set_json_dumps

from devices.records import Position, Reading
from kernel.clock import to_epoch_us
from stream.copy_rows import ReadingsCopy
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
# In binary COPY a timestamptz is a big-endian int64 of microseconds since 2000-01-01 UTC,
# the same bytes as an int8: epoch microseconds shifted by this go straight in, with no
# datetime object per row.
PG_EPOCH_US = 946_684_800_000_000

COPY_READINGS_DIRECT = (
    "COPY telemetry.readings (device_id, ts, hours_run, running, metrics) "
    "FROM STDIN (FORMAT BINARY)"
)
COPY_READINGS = (
    "COPY stage_readings (device_id, ts_us, hours_run, running, metrics) FROM STDIN (FORMAT BINARY)"
)
# Readings are encoded for COPY by stream.copy_rows, in the columns of both statements.
_READINGS_COPY = ReadingsCopy()
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
DIRECT_POSITION_COLUMNS = POSITION_COLUMNS.replace("ts_us", "ts")
COPY_POSITIONS_DIRECT = (
    f"COPY telemetry.positions ({DIRECT_POSITION_COLUMNS}) FROM STDIN (FORMAT BINARY)"
)
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
    """Insert the rows; returns those that were new. Call inside a transaction."""
    if await try_copy_readings(conn, rows):
        return list(rows)
    async with conn.cursor() as cur:
        async with cur.copy(COPY_READINGS) as copy:
            await copy.write(_READINGS_COPY.data(rows, 0))
        await cur.execute(INSERT_READINGS)
        return _new_rows(rows, await cur.fetchall())


async def try_copy_readings(conn: psycopg.AsyncConnection, rows: Sequence[Reading]) -> bool:
    """COPY the readings straight in; False, with nothing written, if one is stored already."""
    data = _READINGS_COPY.data(rows, PG_EPOCH_US)
    return await _copied_directly(conn, COPY_READINGS_DIRECT, lambda copy: copy.write(data))


async def insert_positions(
    conn: psycopg.AsyncConnection, rows: Sequence[Position]
) -> list[Position]:
    """Insert the rows; returns those that were new. Call inside a transaction."""
    direct = partial(_write_positions, rows=rows, shift_us=PG_EPOCH_US)
    if await _copied_directly(conn, COPY_POSITIONS_DIRECT, direct):
        return list(rows)
    async with conn.cursor() as cur, cur.copy(COPY_POSITIONS) as copy:
        await _write_positions(copy, rows, 0)
    async with conn.cursor() as cur:
        await cur.execute(INSERT_POSITIONS)
        return _new_rows(rows, await cur.fetchall())


async def _copied_directly(
    conn: psycopg.AsyncConnection,
    statement: str,
    fill: Callable[[AsyncCopy], Awaitable[Any]],
) -> bool:
    """COPY rows into their table (times as int8, see PG_EPOCH_US) under a savepoint; False,
    with nothing written, if one of them is stored already."""
    try:
        async with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as copy:
            await fill(copy)
    except errors.UniqueViolation:
        return False
    return True


async def _write_positions(copy: AsyncCopy, rows: Sequence[Position], shift_us: int) -> None:
    copy.set_types(POSITION_TYPES)
    for values in _position_tuples(rows, shift_us):
        await copy.write_row(values)


def _position_tuples(rows: Sequence[Position], shift_us: int) -> Iterator[tuple[Any, ...]]:
    """COPY rows of positions, times in microseconds since the epoch minus shift_us."""
    for p in rows:
        yield (
            p.device_id,
            p.ts_us - shift_us,
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
