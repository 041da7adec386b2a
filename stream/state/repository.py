"""SQL of the batch extension: latest state and meters, one statement per step and batch.

A batch's rows reach PostgreSQL by binary COPY into per-connection staging tables, then one
statement per step reads them: COPY formats rows in C, where array parameters are built in
Python (a jsonb[] parameter cost more than everything else in the stream's state work).

Rows are always locked in the same order (device state before meters, each sorted by key),
so the readings and positions agents, the silence check and baseline edits never deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import psycopg
from psycopg.types.json import Jsonb

from devices.records import Position
from stream.state.latest import ReadingsLatest
from stream.state.meters import MeterState

TS = "(timestamptz 'epoch' + {} * interval '1 microsecond')"
US = "(extract(epoch FROM {}) * 1000000)::int8"


class MeterKey(NamedTuple):
    subject_kind: str
    subject_id: str
    meter: str


class Subject(NamedTuple):
    kind: str
    id: str


FIX_COLUMNS = (
    "lat",
    "lon",
    "speed_kmh",
    "heading",
    "accuracy_m",
    "altitude_m",
    "ignition",
    "battery_pct",
)
METER_STATE_FIELDS = tuple(MeterState.__dataclass_fields__)

# Temporary tables live per connection, emptied at every commit; created once per connection
# (stream.repository.prepare_connection, or create_staging for any other connection).
CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS stage_reading_state (
    device_id text, last_us int8, running bool, running_us int8, metrics jsonb
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_position_state (
    device_id text, ts_us int8, lat float8, lon float8, speed_kmh float8, heading float8,
    accuracy_m float8, altitude_m float8, ignition bool, battery_pct float8
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_meter_keys (
    k text, i text, m text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_meters (
    k text, i text, m text, value float8, source text, device_id text, last_us int8,
    counter_raw float8, counter_us int8, state_on bool, state_us int8, anchor_lat float8,
    anchor_lon float8, anchor_us int8, jumps_in_row int4
) ON COMMIT DELETE ROWS;
"""
READING_STATE_TYPES = ["text", "int8", "bool", "int8", "jsonb"]
POSITION_STATE_TYPES = ["text", "int8", *["float8"] * 6, "bool", "float8"]
METER_KEY_TYPES = ["text", "text", "text"]
METER_TYPES = [*METER_KEY_TYPES, "float8", "text", "text", "int8", "float8", "int8", "bool"]
METER_TYPES += ["int8", "float8", "float8", "int8", "int4"]

UPSERT_READING_STATE = f"""
INSERT INTO telemetry.device_state AS s (device_id, last_seen_at, last_received_at,
    last_reading_at, running, running_at, metrics)
SELECT u.device_id, {TS.format("u.last_us")}, now(), {TS.format("u.last_us")}, u.running,
    {TS.format("u.running_us")}, u.metrics
FROM stage_reading_state AS u
ORDER BY u.device_id
ON CONFLICT (device_id) DO UPDATE SET
    last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at),
    last_received_at = excluded.last_received_at,
    last_reading_at = greatest(s.last_reading_at, excluded.last_reading_at),
    running = CASE WHEN excluded.running_at > coalesce(s.running_at, '-infinity')
                   THEN excluded.running ELSE s.running END,
    running_at = greatest(s.running_at, excluded.running_at),
    metrics = telemetry.newer_metrics(s.metrics, excluded.metrics)
"""

_NEWER_FIX = "excluded.last_position_at > coalesce(s.last_position_at, '-infinity')"
_SET_FIX = ",\n    ".join(
    f"{c} = CASE WHEN {_NEWER_FIX} THEN excluded.{c} ELSE s.{c} END" for c in FIX_COLUMNS
)
UPSERT_POSITION_STATE = f"""
INSERT INTO telemetry.device_state AS s (device_id, last_seen_at, last_received_at,
    last_position_at, {", ".join(FIX_COLUMNS)})
SELECT u.device_id, {TS.format("u.ts_us")}, now(), {TS.format("u.ts_us")},
    {", ".join(f"u.{c}" for c in FIX_COLUMNS)}
FROM stage_position_state AS u
ORDER BY u.device_id
ON CONFLICT (device_id) DO UPDATE SET
    last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at),
    last_received_at = excluded.last_received_at,
    last_position_at = greatest(s.last_position_at, excluded.last_position_at),
    {_SET_FIX}
"""

SUBJECTS = """
SELECT u.id,
    CASE WHEN d.equipment_id IS NOT NULL THEN 'equipment'
         WHEN d.vehicle_id IS NOT NULL THEN 'vehicle' ELSE 'device' END,
    coalesce(d.equipment_id, d.vehicle_id, u.id)
FROM unnest(%s::text[]) AS u(id) LEFT JOIN assets.devices d ON d.id = u.id
"""

# A meter row must exist before it can be locked: two batches creating the same meter at
# once then serialise on the insert instead of one overwriting the other's first samples.
CREATE_MISSING_METERS = """
INSERT INTO telemetry.meters (subject_kind, subject_id, meter, value, source)
SELECT k, i, m, 0, 'new' FROM stage_meter_keys
ORDER BY k, i, m
ON CONFLICT DO NOTHING
"""

METER_STATE_COLUMNS = f"""value, source, device_id, {US.format("last_at")}, counter_raw,
    {US.format("counter_at")}, state_on, {US.format("state_at")}, anchor_lat, anchor_lon,
    {US.format("anchor_at")}, jumps_in_row"""

LOCK_METERS = f"""
SELECT subject_kind, subject_id, meter, {METER_STATE_COLUMNS}
FROM telemetry.meters
WHERE (subject_kind, subject_id, meter) IN (SELECT k, i, m FROM stage_meter_keys)
ORDER BY subject_kind, subject_id, meter
FOR UPDATE
"""

SAVE_METERS = f"""
UPDATE telemetry.meters AS m SET value = u.value, source = u.source, device_id = u.device_id,
    last_at = {TS.format("u.last_us")}, counter_raw = u.counter_raw,
    counter_at = {TS.format("u.counter_us")}, state_on = u.state_on,
    state_at = {TS.format("u.state_us")}, anchor_lat = u.anchor_lat, anchor_lon = u.anchor_lon,
    anchor_at = {TS.format("u.anchor_us")}, jumps_in_row = u.jumps_in_row, updated_at = now()
FROM stage_meters AS u
WHERE (m.subject_kind, m.subject_id, m.meter) = (u.k, u.i, u.m)
"""


async def create_staging(conn: psycopg.AsyncConnection) -> None:
    """The staging tables, for a connection not prepared by the stream (the API's)."""
    await conn.execute(CREATE_STAGING)


async def upsert_reading_state(
    conn: psycopg.AsyncConnection, latest: Sequence[ReadingsLatest]
) -> None:
    """Move each device's state forward to its newest readings (never backwards)."""
    rows = [
        (s.device_id, s.last_us, s.running, s.running_us, Jsonb(s.metrics_json())) for s in latest
    ]
    await _stage(conn, "stage_reading_state", READING_STATE_TYPES, rows)
    await conn.execute(UPSERT_READING_STATE)


async def upsert_position_state(conn: psycopg.AsyncConnection, newest: Sequence[Position]) -> None:
    """Move each device's last position forward to its newest fix (never backwards)."""
    rows = [(p.device_id, p.ts_us, *(getattr(p, column) for column in FIX_COLUMNS)) for p in newest]
    await _stage(conn, "stage_position_state", POSITION_STATE_TYPES, rows)
    await conn.execute(UPSERT_POSITION_STATE)


async def subjects_of(
    conn: psycopg.AsyncConnection, device_ids: Sequence[str]
) -> dict[str, Subject]:
    """What each device reports for: its equipment, its vehicle, or itself."""
    cur = await conn.execute(SUBJECTS, (list(device_ids),))
    return {device: Subject(kind, subject) for device, kind, subject in await cur.fetchall()}


async def lock_meters(
    conn: psycopg.AsyncConnection, keys: Sequence[MeterKey]
) -> dict[MeterKey, MeterState]:
    """The meters' states, created when missing and locked until the transaction ends."""
    await _stage(conn, "stage_meter_keys", METER_KEY_TYPES, keys)
    await conn.execute(CREATE_MISSING_METERS)
    cur = await conn.execute(LOCK_METERS)
    return {MeterKey(*row[:3]): MeterState(*row[3:]) for row in await cur.fetchall()}


async def save_meters(conn: psycopg.AsyncConnection, states: Mapping[MeterKey, MeterState]) -> None:
    """Write the meters' new states (rows locked by lock_meters)."""
    rows = [
        (*key, *(getattr(states[key], name) for name in METER_STATE_FIELDS))
        for key in sorted(states)
    ]
    await _stage(conn, "stage_meters", METER_TYPES, rows)
    await conn.execute(SAVE_METERS)


async def _stage(
    conn: psycopg.AsyncConnection, table: str, types: list[str], rows: Sequence[Sequence[Any]]
) -> None:
    # `table` is one of the constant names above.
    async with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            await copy.write_row(row)
