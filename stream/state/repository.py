"""SQL of the batch extension: latest state and meters, one statement per step and batch.

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


UPSERT_READING_STATE = f"""
INSERT INTO telemetry.device_state AS s (device_id, last_seen_at, last_received_at,
    last_reading_at, running, running_at, metrics)
SELECT u.device_id, {TS.format("u.last_us")}, now(), {TS.format("u.last_us")}, u.running,
    {TS.format("u.running_us")}, u.metrics
FROM unnest(%s::text[], %s::int8[], %s::bool[], %s::int8[], %s::jsonb[])
    AS u(device_id, last_us, running, running_us, metrics)
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
_NEWER_FIX = "excluded.last_position_at > coalesce(s.last_position_at, '-infinity')"
_SET_FIX = ",\n    ".join(
    f"{c} = CASE WHEN {_NEWER_FIX} THEN excluded.{c} ELSE s.{c} END" for c in FIX_COLUMNS
)
UPSERT_POSITION_STATE = f"""
INSERT INTO telemetry.device_state AS s (device_id, last_seen_at, last_received_at,
    last_position_at, {", ".join(FIX_COLUMNS)})
SELECT u.device_id, {TS.format("u.ts_us")}, now(), {TS.format("u.ts_us")},
    {", ".join(f"u.{c}" for c in FIX_COLUMNS)}
FROM unnest(%s::text[], %s::int8[], %s::float8[], %s::float8[], %s::float8[], %s::float8[],
    %s::float8[], %s::float8[], %s::bool[], %s::float8[])
    AS u(device_id, ts_us, {", ".join(FIX_COLUMNS)})
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
SELECT k, i, m, 0, 'new' FROM unnest(%s::text[], %s::text[], %s::text[]) AS u(k, i, m)
ORDER BY k, i, m
ON CONFLICT DO NOTHING
"""

METER_STATE_COLUMNS = f"""value, source, device_id, {US.format("last_at")}, counter_raw,
    {US.format("counter_at")}, state_on, {US.format("state_at")}, anchor_lat, anchor_lon,
    {US.format("anchor_at")}, jumps_in_row"""

LOCK_METERS = f"""
SELECT subject_kind, subject_id, meter, {METER_STATE_COLUMNS}
FROM telemetry.meters
WHERE (subject_kind, subject_id, meter) IN (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))
ORDER BY subject_kind, subject_id, meter
FOR UPDATE
"""

SAVE_METERS = f"""
UPDATE telemetry.meters AS m SET value = u.value, source = u.source, device_id = u.device_id,
    last_at = {TS.format("u.last_us")}, counter_raw = u.counter_raw,
    counter_at = {TS.format("u.counter_us")}, state_on = u.state_on,
    state_at = {TS.format("u.state_us")}, anchor_lat = u.anchor_lat, anchor_lon = u.anchor_lon,
    anchor_at = {TS.format("u.anchor_us")}, jumps_in_row = u.jumps_in_row, updated_at = now()
FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[], %s::text[], %s::text[],
    %s::int8[], %s::float8[], %s::int8[], %s::bool[], %s::int8[], %s::float8[], %s::float8[],
    %s::int8[], %s::int4[])
    AS u(k, i, m, value, source, device_id, last_us, counter_raw, counter_us, state_on,
         state_us, anchor_lat, anchor_lon, anchor_us, jumps_in_row)
WHERE (m.subject_kind, m.subject_id, m.meter) = (u.k, u.i, u.m)
"""


async def upsert_reading_state(
    conn: psycopg.AsyncConnection, latest: Sequence[ReadingsLatest]
) -> None:
    """Move each device's state forward to its newest readings (never backwards)."""
    params = (
        [s.device_id for s in latest],
        [s.last_us for s in latest],
        [s.running for s in latest],
        [s.running_us for s in latest],
        [Jsonb(s.metrics_json()) for s in latest],
    )
    await conn.execute(UPSERT_READING_STATE, params)


async def upsert_position_state(conn: psycopg.AsyncConnection, newest: Sequence[Position]) -> None:
    """Move each device's last position forward to its newest fix (never backwards)."""
    params: list[list[Any]] = [[p.device_id for p in newest], [p.ts_us for p in newest]]
    params += [[getattr(p, column) for p in newest] for column in FIX_COLUMNS]
    await conn.execute(UPSERT_POSITION_STATE, params)


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
    columns = (
        [k.subject_kind for k in keys],
        [k.subject_id for k in keys],
        [k.meter for k in keys],
    )
    await conn.execute(CREATE_MISSING_METERS, columns)
    cur = await conn.execute(LOCK_METERS, columns)
    return {MeterKey(*row[:3]): MeterState(*row[3:]) for row in await cur.fetchall()}


async def save_meters(conn: psycopg.AsyncConnection, states: Mapping[MeterKey, MeterState]) -> None:
    """Write the meters' new states (rows locked by lock_meters)."""
    keys = sorted(states)
    rows = [states[k] for k in keys]
    params: list[list[Any]] = _key_columns(keys)
    params += [[getattr(s, name) for s in rows] for name in MeterState.__dataclass_fields__]
    await conn.execute(SAVE_METERS, params)


def _key_columns(keys: Sequence[MeterKey]) -> list[list[Any]]:
    return [[k.subject_kind for k in keys], [k.subject_id for k in keys], [k.meter for k in keys]]
