"""Rollups kept by the stream equal a recomputation from raw data, whatever the order."""

import asyncio
import random
from collections.abc import Sequence
from typing import Any, TypeVar

import psycopg
import pytest

from devices.records import Position, Reading
from kernel.db import create_pool
from stream.persist import TelemetryWriter
from stream.repository import prepare_connection
from stream.rollups.extension import RollupExtension

START_US = 1_764_028_800_000_000  # 2025-11-25 00:00 UTC
STEP_US = 97_000_000  # not a divisor of an hour: buckets get uneven counts
HOURLY = (
    "SELECT device_id, bucket, reading_count, running_count, hours_run_min, hours_run_max, "
    "hours_run_delta FROM telemetry.equipment_hourly ORDER BY 1, 2"
)
METRICS = (
    "SELECT device_id, bucket, metric, sample_count, value_min, value_max, value_sum, value_avg "
    "FROM telemetry.equipment_hourly_metrics ORDER BY 1, 2, 3"
)
DAILY = (
    "SELECT device_id, bucket, fix_count, odometer_min_km, odometer_max_km, distance_km, "
    "speed_max_kmh, hours_run_min, hours_run_max, engine_hours, moving_minutes::text, "
    "ignition_minutes::text, driving_s, ignition_on_s FROM telemetry.vehicle_daily ORDER BY 1, 2"
)


def _readings(count: int) -> list[Reading]:
    rng = random.Random(7)
    rows = []
    for i in range(count):
        device = f"eq-{i % 3}"
        metrics = {"temperature_c": round(rng.uniform(20, 90), 3)}
        if i % 4:
            metrics["current_a"] = round(rng.uniform(0, 200), 3)
        running = None if i % 11 == 0 else i % 5 != 0
        rows.append(Reading(device, START_US + i * STEP_US, 1000.0 + i / 60, running, metrics))
    return rows


def _positions(count: int) -> list[Position]:
    rng = random.Random(8)
    rows = []
    for i in range(count):
        speed = rng.choice([None, 0.0, 3.0, 5.0, 42.0])
        ignition = rng.choice([None, True, False])
        ts_us = START_US + i * 1_900_000_000  # ~32 min apart: spans three days
        rows.append(
            Position(f"veh-{i % 2}", ts_us, 55.7, 37.6, speed, None, ignition, 100.0 + i, None)
        )
    return rows


T = TypeVar("T")


def _shuffled_batches(rows: Sequence[T], seed: int) -> list[list[T]]:
    """Out of order, with whole batches redelivered and duplicates inside batches."""
    rng = random.Random(seed)
    shuffled = list(rows)
    rng.shuffle(shuffled)
    batches = [shuffled[i : i + 37] for i in range(0, len(shuffled), 37)]
    batches += [batches[1], batches[3]]  # redelivered after a crash
    batches[0] = batches[0] + batches[0][:5]  # the same row twice in one batch
    rng.shuffle(batches)
    return batches


async def _write(
    database_url: str, readings: list[list[Reading]], fixes: list[list[Position]], lanes: int
) -> None:
    pool = create_pool(database_url, max_size=lanes, name="test", configure=prepare_connection)
    writer = TelemetryWriter(pool, [RollupExtension()], lanes=lanes, min_rows_per_lane=1)
    try:
        for batch in readings:
            await writer.write_readings(batch)
        for fixes_batch in fixes:
            await writer.write_positions(fixes_batch)
    finally:
        await pool.close()


def _snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(database_url) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in _QUERIES.items()}


def _rebuild(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT telemetry.rebuild_rollups('2025-11-24', '2025-11-30')")


_QUERIES = {"hourly": HOURLY, "metrics": METRICS, "daily": DAILY}


# Three lanes: every batch is written as up to three concurrent transactions.
@pytest.fixture(params=[1, 3], ids=["one-lane", "three-lanes"])
def written(database_url: str, request: pytest.FixtureRequest) -> dict[str, list[tuple[Any, ...]]]:
    readings = _shuffled_batches(_readings(400), seed=1)
    fixes = _shuffled_batches(_positions(150), seed=2)
    asyncio.run(_write(database_url, readings, fixes, lanes=request.param))
    return _snapshot(database_url)


def test_incremental_rollups_equal_a_recomputation_from_raw_data(
    database_url: str, written: dict[str, list[tuple[Any, ...]]]
) -> None:
    _rebuild(database_url)
    recomputed = _snapshot(database_url)
    assert written["hourly"] == recomputed["hourly"]
    assert written["daily"] == recomputed["daily"]
    # Sums of floats depend on the order of addition: equal to rounding.
    assert [r[:6] for r in written["metrics"]] == [r[:6] for r in recomputed["metrics"]]
    assert [r[6:] for r in written["metrics"]] == [
        pytest.approx(r[6:], rel=1e-12) for r in recomputed["metrics"]
    ]


def test_every_row_is_counted_once_despite_redelivery(
    database_url: str, written: dict[str, list[tuple[Any, ...]]]
) -> None:
    assert sum(int(r[2]) for r in written["hourly"]) == 400
    assert sum(int(r[2]) for r in written["daily"]) == 150
    temperature = [r for r in written["metrics"] if r[2] == "temperature_c"]
    assert sum(int(r[3]) for r in temperature) == 400


def test_driving_time_counts_minutes_with_a_moving_fix(database_url: str) -> None:
    day = START_US
    fixes = [
        Position("veh", day + 10_000_000, 1, 1, 30.0, None, True, 10.0),  # 00:00 moving
        Position("veh", day + 50_000_000, 1, 1, 30.0, None, None, 10.5),  # same minute
        Position("veh", day + 130_000_000, 1, 1, 4.9, None, True, 11.0),  # 00:02 too slow
        Position("veh", day + 190_000_000, 1, 1, 80.0, None, False, 12.0),  # ignition off
        Position("veh", day + 250_000_000, 1, 1, 5.0, None, True, 14.5),  # 00:04 moving
    ]
    asyncio.run(_write(database_url, [], [fixes[3:], fixes[:3], fixes[1:2]], lanes=1))
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT fix_count, distance_km, driving_s, ignition_on_s, speed_max_kmh "
            "FROM telemetry.vehicle_daily"
        ).fetchone()
    assert row == (5, 4.5, 120, 180, 80.0)
