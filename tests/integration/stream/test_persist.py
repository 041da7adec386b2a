import asyncio

import psycopg
import pytest

from devices.records import Position, Reading
from kernel.db import create_pool
from stream import repository
from stream.persist import TelemetryWriter, WriteResult
from stream.repository import prepare_connection

TS_US = 1_764_000_000_000_000  # 2025-11-24


async def _write_readings(database_url: str, *batches: list[Reading]) -> list[WriteResult[Reading]]:
    pool = create_pool(database_url, max_size=2, name="test", configure=prepare_connection)
    writer = TelemetryWriter(pool)
    try:
        return [await writer.write_readings(batch) for batch in batches]
    finally:
        await pool.close()


async def _write_positions(database_url: str, batch: list[Position]) -> WriteResult[Position]:
    pool = create_pool(database_url, max_size=2, name="test", configure=prepare_connection)
    try:
        return await TelemetryWriter(pool).write_positions(batch)
    finally:
        await pool.close()


def _readings(count: int, *, device: str = "eq-1", start_us: int = TS_US) -> list[Reading]:
    return [
        Reading(device, start_us + i * 1_000_000, 100.0 + i, True, {"temperature_c": 60.0 + i})
        for i in range(count)
    ]


def _rows(database_url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchall()


def test_a_batch_is_stored_with_exact_values(database_url: str) -> None:
    [result] = asyncio.run(_write_readings(database_url, _readings(3)))
    assert (result.stored, result.rejected) == (3, [])
    rows = _rows(
        database_url,
        "SELECT device_id, extract(epoch FROM ts)::bigint, hours_run, running, "
        "metrics->>'temperature_c' FROM telemetry.readings ORDER BY ts",
    )
    assert rows[0] == ("eq-1", TS_US // 1_000_000, 100.0, True, "60.0")
    assert len(rows) == 3


def test_timestamps_keep_microseconds(database_url: str) -> None:
    reading = Reading("eq-1", TS_US + 123_457, metrics={})
    asyncio.run(_write_readings(database_url, [reading]))
    rows = _rows(database_url, "SELECT extract(microseconds FROM ts)::int FROM telemetry.readings")
    assert rows == [((TS_US % 60_000_000 + 123_457),)]


def test_a_redelivered_batch_stores_nothing_twice(database_url: str) -> None:
    batch = _readings(50)
    first, again = asyncio.run(_write_readings(database_url, batch, batch))
    assert (first.stored, again.stored) == (50, 0)
    assert _rows(database_url, "SELECT count(*) FROM telemetry.readings") == [(50,)]


def test_duplicates_inside_one_batch_are_stored_once(database_url: str) -> None:
    batch = _readings(5)
    [result] = asyncio.run(_write_readings(database_url, batch + batch[:2]))
    assert result.stored == 5


def test_rows_the_database_refuses_are_isolated_and_the_rest_stored(database_url: str) -> None:
    batch = _readings(20)
    bad = Reading("eq-1", TS_US + 500_000, -5.0, True, {})
    [result] = asyncio.run(_write_readings(database_url, [*batch[:7], bad, *batch[7:]]))
    assert result.stored == 20
    assert [r.row for r in result.rejected] == [bad]
    assert result.rejected[0].detail.startswith("23514")  # check_violation


def test_old_and_future_days_get_partitions_on_demand(database_url: str) -> None:
    old = Reading("eq-1", 978_307_200_000_000, metrics={})  # 2001-01-01
    [result] = asyncio.run(_write_readings(database_url, [old]))
    assert result.stored == 1
    assert _rows(database_url, "SELECT count(*) FROM telemetry.readings_p20010101") == [(1,)]


def test_positions_are_stored_with_every_field(database_url: str) -> None:
    fix = Position("veh-1", TS_US, 55.75, 37.62, 42.5, 90.0, True, 1234.5, 4.0, 150.0, 80.0, 7.5)
    result = asyncio.run(_write_positions(database_url, [fix, fix]))
    assert result.stored == 1
    rows = _rows(
        database_url,
        "SELECT lat, lon, speed_kmh, heading, ignition, odometer_km, accuracy_m, altitude_m, "
        "battery_pct, hours_run FROM telemetry.positions",
    )
    assert rows == [(55.75, 37.62, 42.5, 90.0, True, 1234.5, 4.0, 150.0, 80.0, 7.5)]


@pytest.mark.parametrize("lat", [91.0, -90.5])
def test_a_position_out_of_range_is_refused_by_the_database(database_url: str, lat: float) -> None:
    result = asyncio.run(_write_positions(database_url, [Position("veh-1", TS_US, lat, 37.0)]))
    assert result.stored == 0
    assert len(result.rejected) == 1


def test_a_batch_overlapping_stored_rows_stores_and_reports_only_the_new_ones(
    database_url: str,
) -> None:
    batch = _readings(30)
    first, overlapping = asyncio.run(_write_readings(database_url, batch[10:20], batch))
    assert (first.stored, overlapping.stored, overlapping.rejected) == (10, 20, [])
    assert _rows(database_url, "SELECT count(*) FROM telemetry.readings") == [(30,)]


def test_times_before_2000_are_stored_exactly(database_url: str) -> None:
    # Binary COPY counts timestamps from 2000-01-01: these sit just before and after it.
    times_us = [946_684_799_999_999, 946_684_800_000_000, 946_684_800_000_001]
    asyncio.run(_write_readings(database_url, [Reading("eq-1", t) for t in times_us]))
    stored = _rows(
        database_url,
        "SELECT (extract(epoch FROM ts) * 1000000)::bigint FROM telemetry.readings ORDER BY ts",
    )
    assert stored == [(t,) for t in times_us]


def test_a_position_keeps_its_microseconds(database_url: str) -> None:
    fix = Position("veh-1", TS_US + 654_321, 55.75, 37.62)
    asyncio.run(_write_positions(database_url, [fix]))
    stored = _rows(
        database_url, "SELECT (extract(epoch FROM ts) * 1000000)::bigint FROM telemetry.positions"
    )
    assert stored == [(TS_US + 654_321,)]


async def _copy_twice(database_url: str, rows: list[Reading]) -> tuple[bool, bool, int]:
    """Copy the rows straight in, then again (with one new row) in the same transaction."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await prepare_connection(conn)
        extra = Reading("eq-1", TS_US - 1_000_000)
        await repository.ensure_partitions(conn, repository.days_of([extra, *rows]))
        async with conn.transaction():
            first = await repository.try_copy_readings(conn, rows)
            second = await repository.try_copy_readings(conn, [extra, *rows])
            cur = await conn.execute("SELECT count(*) FROM telemetry.readings")
            row = await cur.fetchone()
        return first, second, row[0] if row else -1


def test_the_direct_copy_gives_way_and_writes_nothing_when_a_row_is_stored(
    database_url: str,
) -> None:
    first, second, count = asyncio.run(_copy_twice(database_url, _readings(5)))
    assert (first, second, count) == (True, False, 5)


async def _write_in_lanes(database_url: str, *batches: list[Reading]) -> list[WriteResult[Reading]]:
    pool = create_pool(database_url, max_size=3, name="test", configure=prepare_connection)
    writer = TelemetryWriter(pool, lanes=3, min_rows_per_lane=1)
    try:
        return [await writer.write_readings(batch) for batch in batches]
    finally:
        await pool.close()


def _many_devices(count: int) -> list[Reading]:
    return [
        Reading(f"eq-{i % 7}", TS_US + i * 1_000_000, 100.0 + i, True, {"temperature_c": 60.0})
        for i in range(count)
    ]


def test_a_batch_in_lanes_is_stored_whole_and_once(database_url: str) -> None:
    batch = _many_devices(70)
    first, again = asyncio.run(_write_in_lanes(database_url, batch, batch))
    assert (first.stored, first.rejected, again.stored) == (70, [], 0)
    assert _rows(database_url, "SELECT count(*) FROM telemetry.readings") == [(70,)]


def test_a_refused_row_in_one_lane_is_isolated_and_every_lane_stored(database_url: str) -> None:
    batch = _many_devices(70)
    bad = Reading("eq-3", TS_US + 500_000, -5.0, True, {})
    [result] = asyncio.run(_write_in_lanes(database_url, [*batch[:30], bad, *batch[30:]]))
    assert (result.stored, [r.row for r in result.rejected]) == (70, [bad])
    assert _rows(database_url, "SELECT count(*) FROM telemetry.readings") == [(70,)]


_ODD_READINGS = [
    Reading("eq-1", TS_US, None, None, {}),
    Reading("eq-1", TS_US + 1, 0.0, False, {"a": -0.00125}),
    Reading("насос-7", TS_US + 2, 12345.678901234, True, {"давление_кгс": 3.25, "b": 0.0}),
    Reading("eq-" + "x" * 200, TS_US + 3, 5e-324, None, {"m" * 60: 1.0}),
]
_ODD_SQL = (
    "SELECT device_id, (extract(epoch FROM ts) * 1000000)::bigint, hours_run, running, "
    "metrics FROM telemetry.readings ORDER BY ts"
)


@pytest.mark.parametrize("staged", [False, True], ids=["copied-straight-in", "staged"])
def test_every_kind_of_value_is_stored_exactly(database_url: str, staged: bool) -> None:
    # A batch repeating a stored row takes the staged path; one of new rows goes straight in.
    first = [_ODD_READINGS[0]] if staged else []
    asyncio.run(_write_readings(database_url, first, _ODD_READINGS))
    expected = [(r.device_id, r.ts_us, r.hours_run, r.running, r.metrics) for r in _ODD_READINGS]
    assert _rows(database_url, _ODD_SQL) == expected
