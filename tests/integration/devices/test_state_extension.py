"""Latest state and meters kept by the batch extension, against a real database."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from devices.records import Position, Reading
from devices.registry import (
    DeviceIn,
    EquipmentIn,
    VehicleIn,
    upsert_devices,
    upsert_equipment,
    upsert_vehicles,
)
from kernel.clock import utcnow
from kernel.db import create_pool
from kernel.events import DeviceSilent
from kernel.geo import offset_m
from stream.persist import TelemetryWriter
from stream.repository import prepare_connection
from stream.state.extension import StateExtension
from stream.state.latest import fixes_from_positions, hours_from_positions, hours_from_readings
from stream.state.meters import MeterLimits, MeterState, advance_hours, advance_odometer
from stream.state.models import BaselineIn, MeterName
from stream.state.service import set_baseline
from stream.state.silence import report_silent_devices

T0_US = 1_764_000_000_000_000
MINUTE_US = 60_000_000
LIMITS = MeterLimits(max_gap_s=600, max_accuracy_m=50, max_speed_kmh=200, min_move_m=10)


def register(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        upsert_equipment(conn, units=[EquipmentIn("boiler-1", "boiler")])
        upsert_vehicles(conn, vehicles=[VehicleIn("van-1", "A123BC")])
        upsert_devices(
            conn,
            devices=[
                DeviceIn("ctl-1", "controller", equipment_id="boiler-1"),
                DeviceIn("trk-1", "tracker", vehicle_id="van-1"),
                DeviceIn("loose-1", "tracker"),
            ],
        )


def readings(rng: random.Random) -> list[Reading]:
    rows, counter_h = [], 1200.0
    for i in range(240):
        ts = T0_US + i * MINUTE_US + (i // 100) * 30 * MINUTE_US  # gaps of 30 min at i=100, 200
        counter_h = 0.0 if i == 150 else counter_h + 1 / 60  # the controller was reset
        with_counter = i < 120 or i >= 150
        metrics = {"temp_c": 60.0 + rng.random(), **({"flow_m3h": float(i)} if i % 3 else {})}
        rows.append(Reading("ctl-1", ts, counter_h if with_counter else None, i % 40 < 30, metrics))
    return rows


def positions(rng: random.Random) -> list[Position]:
    rows = []
    for i in range(240):
        ts = T0_US + i * 20_000_000
        north_m = 150.0 * min(i, 150) + rng.uniform(-4, 4)  # drives, then stands and jitters
        if i == 77:
            north_m += 40_000  # a GPS jump
        lat, lon = offset_m(55.75, 37.62, north_m, 0.0)
        accuracy = 400.0 if i % 17 == 0 else 5.0
        rows.append(Position("trk-1", ts, lat, lon, 30.0, None, i < 200, None, accuracy))
        rows.append(Position("loose-1", ts, lat, lon, accuracy_m=5.0))
    return rows


def batches(rows: list[Any], rng: random.Random, size: int) -> list[list[Any]]:
    """Time-ordered chunks, each shuffled, with duplicates inside and of the chunk before."""
    chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
    out = []
    for n, chunk in enumerate(chunks):
        batch = chunk + rng.sample(chunk, min(5, len(chunk)))
        batch += rng.sample(chunks[n - 1], 5) if n else []
        rng.shuffle(batch)
        out.append(batch)
    return out


async def write(
    database_url: str,
    *,
    readings_in: Sequence[list[Reading]] = (),
    fixes_in: Sequence[list[Position]] = (),
) -> None:
    pool = create_pool(database_url, max_size=2, name="test", configure=prepare_connection)
    writer = TelemetryWriter(pool, [StateExtension(LIMITS)])
    try:
        for batch in readings_in:
            assert not (await writer.write_readings(batch)).rejected
        for fix_batch in fixes_in:
            assert not (await writer.write_positions(fix_batch)).rejected
    finally:
        await pool.close()


def meters(database_url: str) -> dict[tuple[str, str, str], tuple[float, str]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT subject_kind, subject_id, meter, value, source FROM telemetry.meters"
        ).fetchall()
    return {(k, i, m): (v, s) for k, i, m, v, s in rows}


def state_row(database_url: str, device_id: str) -> dict[str, Any]:
    with psycopg.connect(database_url) as conn:
        cur = conn.execute(
            "SELECT (extract(epoch FROM last_seen_at) * 1e6)::int8 AS last_us, running, metrics, "
            "(extract(epoch FROM last_position_at) * 1e6)::int8 AS fix_us, lat, lon, ignition "
            "FROM telemetry.device_state WHERE device_id = %s",
            (device_id,),
        )
        row = cur.fetchone()
        assert row is not None and cur.description is not None
        return dict(zip([c.name for c in cur.description], row, strict=True))


def test_meters_and_state_after_shuffled_and_duplicated_batches_equal_a_recomputation(
    database_url: str,
) -> None:
    register(database_url)
    rng = random.Random(3)
    all_readings, all_fixes = readings(rng), positions(rng)
    asyncio.run(
        write(
            database_url,
            readings_in=batches(all_readings, rng, 37),
            fixes_in=batches(all_fixes, rng, 53),
        )
    )

    hours = advance_hours(MeterState(), hours_from_readings(all_readings), LIMITS).value
    trk = [p for p in all_fixes if p.device_id == "trk-1"]
    loose = [p for p in all_fixes if p.device_id == "loose-1"]
    van_hours = advance_hours(MeterState(), hours_from_positions(trk), LIMITS).value
    van_km = advance_odometer(MeterState(), fixes_from_positions(trk), LIMITS).value
    loose_km = advance_odometer(MeterState(), fixes_from_positions(loose), LIMITS).value
    stored = meters(database_url)
    assert stored[("equipment", "boiler-1", "hours_run")][0] == pytest.approx(hours, abs=1e-9)
    assert stored[("vehicle", "van-1", "hours_run")][0] == pytest.approx(van_hours, abs=1e-9)
    assert stored[("vehicle", "van-1", "odometer_km")][0] == pytest.approx(van_km, abs=1e-9)
    assert stored[("device", "loose-1", "odometer_km")][0] == pytest.approx(loose_km, abs=1e-9)
    assert 22.0 < van_km < 23.0  # 150 steps of 150 m, the jump and the jitter left out

    newest = max(all_readings, key=lambda r: r.ts_us)
    ctl = state_row(database_url, "ctl-1")
    assert (ctl["last_us"], ctl["running"]) == (newest.ts_us, newest.running)
    assert ctl["metrics"]["flow_m3h"]["value"] == 239.0  # the newest reading that had it
    assert ctl["metrics"]["temp_c"]["value"] == newest.metrics["temp_c"]
    last_fix = max(trk, key=lambda p: p.ts_us)
    trk_state = state_row(database_url, "trk-1")
    assert (trk_state["fix_us"], trk_state["lat"], trk_state["ignition"]) == (
        last_fix.ts_us,
        last_fix.lat,
        last_fix.ignition,
    )


def test_a_redelivered_batch_and_a_late_message_move_nothing(database_url: str) -> None:
    register(database_url)
    rows = [
        Reading("ctl-1", T0_US + i * MINUTE_US, 100.0 + i / 60, True, {"t": i}) for i in range(30)
    ]
    asyncio.run(write(database_url, readings_in=[rows[:20], rows[20:]]))
    before, state_before = meters(database_url), state_row(database_url, "ctl-1")

    late = Reading("ctl-1", T0_US + 5 * MINUTE_US + 1, 500.0, False, {"t": -1.0})
    asyncio.run(write(database_url, readings_in=[rows[10:30], [late]]))

    assert meters(database_url) == before
    assert state_row(database_url, "ctl-1") == state_before
    assert before[("equipment", "boiler-1", "hours_run")][0] == pytest.approx(100 + 29 / 60)


def test_a_baseline_sets_the_meter_and_later_data_adds_to_it(database_url: str) -> None:
    register(database_url)
    first = [Reading("ctl-1", T0_US + i * MINUTE_US, 1000.0 + i / 60) for i in range(10)]
    asyncio.run(write(database_url, readings_in=[first]))
    baseline = BaselineIn(meter=MeterName.HOURS_RUN, value=50.0, reason="meter replaced")
    read = asyncio.run(_set_baseline(database_url, baseline))
    assert [(h.value, h.previous_value) for h in read.history] == [(50.0, pytest.approx(1000.15))]

    later = [Reading("ctl-1", T0_US + i * MINUTE_US, 1000.0 + i / 60) for i in range(10, 70)]
    asyncio.run(write(database_url, readings_in=[later]))
    value, source = meters(database_url)[("equipment", "boiler-1", "hours_run")]
    assert value == pytest.approx(51.0)
    assert source == "counter"


async def _set_baseline(database_url: str, baseline: BaselineIn) -> Any:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        return await set_baseline(
            conn=conn,
            subject_kind="equipment",
            subject_id="boiler-1",
            baseline_in=baseline,
            set_by="admin",
        )


def test_a_silent_device_is_reported_once_per_silence(database_url: str) -> None:
    register(database_url)
    asyncio.run(write(database_url, readings_in=[[Reading("ctl-1", T0_US, 1.0)]]))
    later = utcnow() + timedelta(minutes=11)  # controllers are expected every 10 minutes

    first = asyncio.run(_check_silence(database_url, later))
    again = asyncio.run(_check_silence(database_url, later + timedelta(hours=1)))

    assert [e.subject.id for e in first] == ["boiler-1"]
    assert first[0].evidence["device_id"] == "ctl-1"
    assert first[0].evidence["expected_interval_s"] == 600.0
    assert again == []
    asyncio.run(write(database_url, readings_in=[[Reading("ctl-1", T0_US + 1, 1.0)]]))
    next_silence = asyncio.run(_check_silence(database_url, later + timedelta(minutes=30)))
    assert len(next_silence) == 1 and next_silence[0].event_id != first[0].event_id


async def _check_silence(database_url: str, now: Any) -> list[DeviceSilent]:
    sent: list[DeviceSilent] = []

    async def send(events: Sequence[DeviceSilent]) -> None:
        sent.extend(events)

    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await report_silent_devices(conn=conn, now=now, send=send)
    return sent
