"""Packed Kafka values (many devices' records in one message, as ingest sends them) through
the stream's persistence, with latest state, meters and rollups in the same transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import cast

import orjson
import psycopg
import pytest

from devices.records import Position, Reading, encode
from devices.registry import (
    DeviceIn,
    EquipmentIn,
    VehicleIn,
    upsert_devices,
    upsert_equipment,
    upsert_vehicles,
)
from ingest.packing import Pack, PartitionMap, pack_records
from kernel import topics
from kernel.db import create_pool
from kernel.dlq import DeadLetter, RejectReason
from kernel.settings import Settings
from stream import handlers
from stream.app import batch_extensions
from stream.handlers import PersistHandler
from stream.persist import TelemetryWriter
from stream.repository import prepare_connection

T0_US = 1_764_000_000_000_000
MINUTE_US = 60_000_000
UNITS = [f"pump-{n}" for n in range(12)]
VANS = [f"van-{n}" for n in range(5)]


def _register(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        upsert_equipment(conn, units=[EquipmentIn(u, "pump") for u in UNITS])
        upsert_vehicles(conn, vehicles=[VehicleIn(v) for v in VANS])
        upsert_devices(
            conn,
            devices=[
                *(DeviceIn(f"ctl-{u}", "controller", equipment_id=u) for u in UNITS),
                *(DeviceIn(f"trk-{v}", "tracker", vehicle_id=v) for v in VANS),
            ],
        )


def _readings(per_unit: int) -> list[Reading]:
    """Round-robin over the units, one minute apart, the hours counter ticking."""
    return [
        Reading(
            f"ctl-{unit}",
            T0_US + n * MINUTE_US,
            1000.0 + n / 60,
            True,
            {"temperature_c": 60.0 + n, "pressure_bar": 3.0},
        )
        for n in range(per_unit)
        for unit in UNITS
    ]


def _positions(per_van: int) -> list[Position]:
    return [
        Position(f"trk-{van}", T0_US + n * MINUTE_US, 55.0 + n / 1000, 37.0, 30.0, 90.0, True)
        for n in range(per_van)
        for van in VANS
    ]


def _packs(records: Sequence[Reading] | Sequence[Position], partitions: int = 2) -> list[Pack]:
    where = PartitionMap()
    where.update(topics.READINGS, range(partitions))
    where.update(topics.POSITIONS, range(partitions))
    return pack_records(records, where.partition)


def _one_partition(topic: str, device_id: str) -> int:
    return 0


class Stream:
    """The stream's persist handler with every batch extension, and the letters it sent."""

    def __init__(self, database_url: str) -> None:
        self.pool = create_pool(database_url, max_size=2, name="test", configure=prepare_connection)
        writer = TelemetryWriter(self.pool, batch_extensions(Settings(database_url=database_url)))
        self.letters: list[DeadLetter] = []
        self.handler = PersistHandler(writer, self._send)

    async def _send(self, letters: Sequence[DeadLetter]) -> None:
        self.letters += letters


async def _persist_readings(database_url: str, *batches: list[bytes]) -> Stream:
    stream = Stream(database_url)
    try:
        for values in batches:
            await stream.handler.handle_readings(values)
    finally:
        await stream.pool.close()
    return stream


def _rows(database_url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchall()


def test_a_packed_batch_stores_every_reading_and_moves_state_meters_and_rollups(
    database_url: str,
) -> None:
    _register(database_url)
    readings = _readings(per_unit=30)
    packs = _packs(readings)
    assert len(packs) < 10 and all(p.key() is None for p in packs)  # many devices per value

    stream = asyncio.run(_persist_readings(database_url, [p.value() for p in packs]))

    assert stream.handler.counters.stored == len(readings) == 360
    assert _rows(database_url, "SELECT count(*) FROM telemetry.readings") == [(360,)]
    newest = T0_US + 29 * MINUTE_US
    state = _rows(
        database_url,
        "SELECT device_id, (extract(epoch FROM last_reading_at) * 1e6)::int8, running, "
        "(metrics->'temperature_c'->>'value')::float8 FROM telemetry.device_state "
        "ORDER BY device_id",
    )
    assert state == [(f"ctl-{u}", newest, True, 89.0) for u in sorted(UNITS)]
    meters = _rows(
        database_url,
        "SELECT subject_id, round(value::numeric, 4)::float8 FROM telemetry.meters "
        "WHERE meter = 'hours_run' ORDER BY subject_id",
    )
    assert meters == [(u, round(1000 + 29 / 60, 4)) for u in sorted(UNITS)]
    hourly = _rows(
        database_url,
        "SELECT sum(reading_count), count(DISTINCT device_id) FROM telemetry.equipment_hourly",
    )
    assert hourly == [(360, 12)]
    assert stream.letters == []


def test_a_batch_larger_than_a_step_is_stored_whole_in_steps(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(database_url)
    monkeypatch.setattr(handlers, "ROWS_PER_STEP", 50)
    readings = _readings(per_unit=40)
    values = [p.value() for p in pack_records(readings, _one_partition, max_bytes=2_000)]
    assert len(values) > 480 / 50

    stream = asyncio.run(_persist_readings(database_url, values))

    assert stream.handler.counters.stored == 480
    assert _rows(database_url, "SELECT sum(reading_count) FROM telemetry.equipment_hourly") == [
        (480,)
    ]


def test_a_redelivered_pack_changes_nothing_twice(database_url: str) -> None:
    _register(database_url)
    values = [p.value() for p in _packs(_readings(per_unit=10))]
    asyncio.run(_persist_readings(database_url, values, values))
    assert _rows(database_url, "SELECT count(*) FROM telemetry.readings") == [(120,)]
    assert _rows(database_url, "SELECT sum(reading_count) FROM telemetry.equipment_hourly") == [
        (120,)
    ]
    meters = _rows(
        database_url, "SELECT round(max(value)::numeric, 6)::float8 FROM telemetry.meters"
    )
    assert meters == [(round(1000 + 9 / 60, 6),)]


def test_a_bad_member_of_a_pack_is_dead_lettered_alone_and_the_rest_stored(
    database_url: str,
) -> None:
    _register(database_url)
    readings = _readings(per_unit=2)
    members = [orjson.loads(encode(r)) for r in readings]
    bad = {"device_id": "ctl-pump-0", "ts_us": T0_US, "metrics": {"temperature_c": "hot"}}
    value = orjson.dumps([*members[:5], bad, *members[5:]])

    stream = asyncio.run(_persist_readings(database_url, [value, b"not json"]))

    assert _rows(database_url, "SELECT count(*) FROM telemetry.readings") == [(len(readings),)]
    member, whole = stream.letters
    assert (member.reason, member.item_index) == (RejectReason.UNDECODABLE_RECORD, 5)
    assert orjson.loads(member.payload) == bad
    assert (whole.payload, whole.item_index) == (b"not json", None)
    assert stream.handler.counters.consumed == len(readings) + 2


def test_packed_positions_store_every_fix_and_each_vehicle_s_last_position(
    database_url: str,
) -> None:
    _register(database_url)
    positions = _positions(per_van=20)

    async def persist() -> None:
        stream = Stream(database_url)
        try:
            await stream.handler.handle_positions([p.value() for p in _packs(positions)])
        finally:
            await stream.pool.close()

    asyncio.run(persist())
    assert _rows(database_url, "SELECT count(*) FROM telemetry.positions") == [(100,)]
    last = _rows(
        database_url,
        "SELECT device_id, lat FROM telemetry.device_state WHERE last_position_at IS NOT NULL "
        "ORDER BY device_id",
    )
    assert last == [(f"trk-{v}", 55.0 + 19 / 1000) for v in sorted(VANS)]
    daily = _rows(database_url, "SELECT sum(fix_count) FROM telemetry.vehicle_daily")
    assert daily == [(100,)]


def _register_vans(database_url: str, vans: Sequence[str]) -> None:
    with psycopg.connect(database_url) as conn:
        upsert_vehicles(conn, vehicles=[VehicleIn(v) for v in vans])
        upsert_devices(conn, devices=[DeviceIn(f"trk-{v}", "tracker", vehicle_id=v) for v in vans])


def _winding_route(vans: Sequence[str], per_van: int) -> list[Position]:
    """Fixes zigzagging east and north, so the odometer depends on the fixes' order."""
    return [
        Position(f"trk-{van}", T0_US + n * MINUTE_US, 55.0 + n / 1000, 37.0 + (n % 3) / 500, 30.0)
        for n in range(per_van)
        for van in vans
    ]


async def _persist_positions(
    database_url: str, values: list[bytes], *, lanes: int, min_rows_per_lane: int
) -> None:
    pool = create_pool(database_url, max_size=8, name="test", configure=prepare_connection)
    extensions = batch_extensions(Settings(database_url=database_url))
    writer = TelemetryWriter(pool, extensions, lanes=lanes, min_rows_per_lane=min_rows_per_lane)
    handler = PersistHandler(writer, Stream(database_url)._send)
    try:
        await handler.handle_positions(values)
    finally:
        await pool.close()


def test_steps_written_through_lanes_move_meters_as_one_step_does(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    laned, whole = [f"laned-{n}" for n in range(6)], [f"whole-{n}" for n in range(6)]
    _register_vans(database_url, laned + whole)

    def values(vans: list[str]) -> list[bytes]:
        records = _winding_route(vans, per_van=40)
        return [p.value() for p in pack_records(records, _one_partition, max_bytes=1_500)]

    # Many small steps, each written in three lanes.
    monkeypatch.setattr(handlers, "ROWS_PER_STEP", 9)
    asyncio.run(_persist_positions(database_url, values(laned), lanes=3, min_rows_per_lane=1))
    monkeypatch.setattr(handlers, "ROWS_PER_STEP", 100_000)
    asyncio.run(_persist_positions(database_url, values(whole), lanes=1, min_rows_per_lane=1))

    meters = cast(
        list[tuple[str, str, float]],
        _rows(
            database_url,
            "SELECT subject_id, meter, round(value::numeric, 9)::float8 FROM telemetry.meters "
            "ORDER BY meter, subject_id",
        ),
    )
    of_laned = [(s.replace("laned-", ""), m, v) for s, m, v in meters if s.startswith("laned")]
    of_whole = [(s.replace("whole-", ""), m, v) for s, m, v in meters if s.startswith("whole")]
    assert of_laned == of_whole and len(of_laned) >= 6
    assert all(v > 0 for _, m, v in of_laned if m == "odometer_km")
    assert _rows(database_url, "SELECT count(*) FROM telemetry.positions") == [(2 * 6 * 40,)]
