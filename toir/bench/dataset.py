"""A month of fleet telemetry, generated inside PostgreSQL for the query benchmark.

Rows are produced by generate_series straight into each day partition, in key order
(device, then time), so the (device_id, ts) index is filled by appends; it runs at the
speed of the server, several times faster than any client-side COPY. Rollups are then
built per day with telemetry.rebuild_rollups, exactly as a backfill would: in the hash
order of its GROUP BY, one unit's 24 rows of a day on ~24 pages. The closed days are then
rewritten in key order by the function the stream's upkeep runs, as a running system
would have left them (docs/storage.md, "Reordering closed days").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg
import psycopg.sql as sql
from psycopg.types.json import Jsonb

from devices.registry import (
    DeviceIn,
    EquipmentIn,
    VehicleIn,
    upsert_devices,
    upsert_equipment,
    upsert_vehicles,
)
from kernel.settings import Settings

Progress = Callable[[str], None]
WORKERS = 2  # the machine's cores

MARKER = """
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.dataset (spec jsonb PRIMARY KEY, generated_at timestamptz)
"""

# Equipment: one reading a minute; metrics wander smoothly, hours_run grows while running.
READINGS = """
INSERT INTO telemetry.{part} (device_id, ts, hours_run, running, metrics)
SELECT 'q-eq-' || lpad(e::text, 5, '0'), t, 1000 + e + extract(epoch FROM t) / 5400.0,
       (m + e) %% 97 < 70,
       jsonb_build_object(
           'temperature_c', round((60 + 10 * sin((m + e) / 30.0))::numeric, 2),
           'vibration_mm_s', round((3 + sin(m / 7.0 + e))::numeric, 3),
           'pressure_bar', round((4 + 0.5 * cos(m / 11.0 + e))::numeric, 3),
           'current_a', round((120 + 20 * sin(m / 13.0 + e))::numeric, 1))
FROM generate_series(1, %(units)s) e,
     generate_series(0, 1439) m,
     LATERAL (SELECT %(day)s::timestamptz + m * interval '1 minute' AS t) at
WHERE t < %(end)s
"""

# Vehicles: one fix every 10 s around a home point; stopped one hour in three.
POSITIONS = """
INSERT INTO telemetry.{part}
    (device_id, ts, lat, lon, speed_kmh, heading, ignition, odometer_km, accuracy_m)
SELECT 'q-veh-' || lpad(v::text, 5, '0'), t,
       55.5 + (v %% 40) * 0.02 + 0.01 * sin(s / 500.0 + v),
       37.3 + (v / 40) * 0.02 + 0.01 * cos(s / 500.0 + v),
       CASE WHEN moving THEN 40 + 20 * sin(s / 50.0) ELSE 0 END,
       (s * 7 + v) %% 360, moving,
       10000 + v + extract(epoch FROM t) / 36000.0, 5
FROM generate_series(1, %(units)s) v,
     generate_series(0, 8639) s,
     LATERAL (SELECT %(day)s::timestamptz + s * interval '10 seconds' AS t,
                     (s / 360 + v) %% 3 <> 0 AS moving) at
WHERE t < %(end)s
"""


# What the stream's latest-state extension would hold after these fixes (migration 0004).
FILL_DEVICE_STATE = """
INSERT INTO telemetry.device_state (device_id, last_seen_at, last_received_at,
    last_position_at, lat, lon, speed_kmh, heading, accuracy_m, ignition)
SELECT p.device_id, p.ts, p.stored_at, p.ts, p.lat, p.lon, p.speed_kmh, p.heading,
       p.accuracy_m, p.ignition
FROM assets.devices d
CROSS JOIN LATERAL (
    SELECT * FROM telemetry.positions WHERE device_id = d.id AND ts >= %(since)s
    ORDER BY ts DESC LIMIT 1
) p
WHERE d.vehicle_id IS NOT NULL
ON CONFLICT (device_id) DO NOTHING
"""

REORDER_NEXT_CLOSED_DAY = "SELECT telemetry.reorder_next_closed_day(%s, %s)"

SHIFT_VEHICLE_DAY = """
INSERT INTO telemetry.vehicle_daily (device_id, bucket, fix_count, odometer_min_km,
    odometer_max_km, speed_max_kmh, hours_run_min, hours_run_max, moving_minutes,
    ignition_minutes)
SELECT device_id, bucket - %(shift)s, fix_count, odometer_min_km, odometer_max_km,
       speed_max_kmh, hours_run_min, hours_run_max,
       moving_minutes, ignition_minutes
FROM telemetry.vehicle_daily
WHERE bucket = %(source)s::timestamp AT TIME ZONE 'UTC'
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True)
class DatasetSpec:
    days: int = 30
    equipment: int = 1_000
    vehicles: int = 1_000
    # Raw positions are generated for the most recent days only (a month at one fix per
    # 10 s is ~55 GB, more than the benchmark machine's free disk); vehicle_daily rows
    # of the older days are copies of generated days' rows, shifted back.
    position_days: int = 8


@dataclass(frozen=True)
class Dataset:
    spec: DatasetSpec
    end: datetime
    readings: int
    positions: int
    generate_s: float


def equipment_id(n: int) -> str:
    return f"q-eq-{n:05d}"


def vehicle_id(n: int) -> str:
    return f"q-veh-{n:05d}"


def ensure_dataset(database_url: str, spec: DatasetSpec, progress: Progress) -> Dataset:
    """Generate the dataset unless this database already holds it."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(MARKER)
        row = conn.execute(
            "SELECT generated_at FROM bench.dataset WHERE spec = %s",
            (Jsonb(asdict(spec)),),
        ).fetchone()
    if row is not None:
        progress(f"dataset {spec} already generated (ending {row[0]:%Y-%m-%d %H:%M})")
        if _reorder_closed_days(database_url, row[0], progress):  # generated before 0016
            _vacuum_rollups(database_url)
        _fill_device_state(database_url, row[0])
        return _counted(database_url, spec, row[0], 0.0)
    started = time.monotonic()
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    _register(database_url, spec)
    days = [
        (end - timedelta(days=spec.days)).date() + timedelta(days=n) for n in range(spec.days + 1)
    ]
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda day: _generate_day(database_url, spec, day, end, progress), days))
    for day in days:
        _rollups(database_url, day, progress)
    _reorder_closed_days(database_url, end, progress)
    _shift_vehicle_days(database_url, spec, days, end)
    _fill_device_state(database_url, end)
    _vacuum_rollups(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO bench.dataset VALUES (%s, %s)",
            (Jsonb(asdict(spec)), end),
        )
    return _counted(database_url, spec, end, time.monotonic() - started)


def _register(database_url: str, spec: DatasetSpec) -> None:
    equipment = [equipment_id(n) for n in range(1, spec.equipment + 1)]
    vehicles = [vehicle_id(n) for n in range(1, spec.vehicles + 1)]
    with psycopg.connect(database_url) as conn:
        upsert_equipment(conn, units=[EquipmentIn(e, "pump") for e in equipment])
        upsert_vehicles(conn, vehicles=[VehicleIn(v, f"Q{v[-5:]}") for v in vehicles])
        upsert_devices(
            conn,
            devices=[
                *(DeviceIn(e, "controller", equipment_id=e) for e in equipment),
                *(DeviceIn(v, "tracker", vehicle_id=v) for v in vehicles),
            ],
        )


def _generate_day(
    database_url: str, spec: DatasetSpec, day: date, end: datetime, progress: Progress
) -> None:
    started = time.monotonic()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    params = {"day": start, "end": end}
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT telemetry.ensure_partitions(%s, %s)", (day, day))
        loads = [(READINGS, "readings", spec.equipment)]
        if day > (end - timedelta(days=spec.position_days)).date():
            loads.append((POSITIONS, "positions", spec.vehicles))
        for template, table, units in loads:
            part = sql.Identifier(f"{table}_p{day:%Y%m%d}")
            query = sql.SQL(template).format(part=part)
            conn.execute(query, {**params, "units": units})
            conn.execute(sql.SQL("VACUUM (ANALYZE) telemetry.{}").format(part))
    progress(f"dataset: {day} generated in {time.monotonic() - started:.0f} s")


def _rollups(database_url: str, day: date, progress: Progress) -> None:
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT telemetry.rebuild_rollups(%s, %s)", (day, day))
    progress(f"dataset: {day} rollups in {time.monotonic() - started:.0f} s")


def _reorder_closed_days(database_url: str, end: datetime, progress: Progress) -> int:
    """What the stream's upkeep does by `end` with the default setting; the days done."""
    after_days = Settings.model_fields["rollups_reorder_after_days"].default
    started, done = time.monotonic(), 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        while conn.execute(REORDER_NEXT_CLOSED_DAY, (after_days, end)).fetchone() != (None,):
            done += 1
            # Autovacuum's part in a running system: the day's old row versions become
            # room for the next day's, so the tables keep their size.
            conn.execute("VACUUM telemetry.equipment_hourly, telemetry.equipment_hourly_metrics")
    if done:
        progress(f"dataset: {done} closed days reordered in {time.monotonic() - started:.0f} s")
    return done


def _vacuum_rollups(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "VACUUM (ANALYZE) telemetry.equipment_hourly, telemetry.equipment_hourly_metrics, "
            "telemetry.vehicle_daily"
        )


def _fill_device_state(database_url: str, end: datetime) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(FILL_DEVICE_STATE, {"since": end - timedelta(days=1)})


def _shift_vehicle_days(
    database_url: str, spec: DatasetSpec, days: list[date], end: datetime
) -> None:
    """vehicle_daily rows for days without raw positions: a whole generated day, moved."""
    source = days[-2]  # the last whole day
    with psycopg.connect(database_url, autocommit=True) as conn:
        for day in days:
            if day > (end - timedelta(days=spec.position_days)).date():
                continue
            shift = source - day
            conn.execute(SHIFT_VEHICLE_DAY, {"source": source, "shift": shift})


def _counted(database_url: str, spec: DatasetSpec, end: datetime, generate_s: float) -> Dataset:
    # Planner estimates after ANALYZE: exact counts would scan 300 M rows.
    with psycopg.connect(database_url) as conn:
        readings, positions = (
            _rows(conn, "telemetry.readings"),
            _rows(conn, "telemetry.positions"),
        )
    return Dataset(spec, end, readings, positions, generate_s)


def _rows(conn: psycopg.Connection, parent: str) -> int:
    row = conn.execute(
        "SELECT coalesce(sum(c.reltuples), 0)::bigint FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        (parent,),
    ).fetchone()
    return int(row[0]) if row else 0
