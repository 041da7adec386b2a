"""Data for the dashboard tests: a simulated fleet's telemetry written as the stream writes
it (TelemetryWriter with the rollup and state extensions), the work done on it
(work_factories), and what the stream would count of dead letters and consumer lag."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from devices.records import Position, Reading
from devices.registry import DeviceIn, upsert_devices
from devices.simulator.fleet import Fleet, FleetConfig
from kernel.clock import to_epoch_us, utcnow
from kernel.db import create_pool
from stream.persist import TelemetryWriter
from stream.repository import prepare_connection
from stream.rollups.extension import RollupExtension
from stream.state.extension import StateExtension
from stream.state.meters import MeterLimits
from tests.integration.dashboards.work_factories import field_work, tickets
from toir.fleet_registry import register_engineers, register_fleet

SIMULATED = timedelta(hours=2)
PHONE = "phone-eng-001"
QUIET = "ctl-quiet"
NEVER = "ctl-never"


@dataclass(frozen=True)
class Seeded:
    """What the tests select in the template variables."""

    now: datetime
    area: str
    site_id: str
    equipment_ids: list[str]
    vehicle_id: str
    engineer_id: str


def seed(database_url: str) -> Seeded:
    """A fleet with two hours of telemetry, tickets in every state, visits and trips."""
    now = utcnow()
    fleet = Fleet(
        FleetConfig(equipment=6, vehicles=3, seed=11),
        equipment_interval_s=60,
        vehicle_interval_s=30,
    )
    register_fleet(database_url, fleet)
    register_engineers(database_url, fleet)
    samples = fleet.advance(to_epoch_us(now - SIMULATED)) + fleet.advance(to_epoch_us(now))
    samples.append(Position(PHONE, to_epoch_us(now), fleet.sites[0].lat, fleet.sites[0].lon))
    samples.append(Reading(QUIET, to_epoch_us(now - SIMULATED), running=True, metrics={"t": 1.0}))
    with psycopg.connect(database_url, autocommit=True) as conn:
        _extra_devices(conn)
    asyncio.run(_write(database_url, samples))
    equipment = [e.id for e in fleet.equipment]
    with psycopg.connect(database_url, autocommit=True) as conn:
        _areas_and_people(conn, now)
        tickets(conn, now, equipment)
        field_work(conn, now, fleet)
        _platform(conn, now)
        site_id, area = conn.execute(
            "SELECT site_id, area FROM assets.equipment e JOIN assets.sites s ON s.id = e.site_id "
            "WHERE e.id = %s",
            (equipment[0],),
        ).fetchone() or ("", "")
    return Seeded(now, area, site_id, equipment, fleet.vehicles[0].id, "eng-001")


def _extra_devices(conn: psycopg.Connection) -> None:
    upsert_devices(
        conn,
        devices=[
            DeviceIn(PHONE, "phone"),
            DeviceIn(QUIET, "controller"),
            DeviceIn(NEVER, "controller"),
        ],
    )


async def _write(database_url: str, samples: list[Reading | Position]) -> None:
    pool = create_pool(database_url, max_size=1, name="test", configure=prepare_connection)
    writer = TelemetryWriter(pool, [RollupExtension(), StateExtension(MeterLimits())])
    try:
        await writer.write_readings([s for s in samples if isinstance(s, Reading)])
        await writer.write_positions([s for s in samples if isinstance(s, Position)])
    finally:
        await pool.close()


def _areas_and_people(conn: psycopg.Connection, now: datetime) -> None:
    conn.execute(
        "UPDATE assets.sites SET area = CASE WHEN s.n % 2 = 1 THEN 'north' ELSE 'south' END, "
        "customer = CASE WHEN s.n % 2 = 1 THEN 'Acme' ELSE 'Globex' END "
        "FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM assets.sites) s "
        "WHERE s.id = sites.id"
    )
    # A device that went quiet: nothing stored from it for longer than its interval.
    conn.execute(
        "UPDATE telemetry.device_state SET last_received_at = %s WHERE device_id = %s",
        (now - SIMULATED, QUIET),
    )
    for engineer_id, areas, status in (
        ("eng-001", ["north"], "en_route"),
        ("eng-002", ["south"], "on_site"),
        ("eng-003", ["north", "south"], "available"),
    ):
        conn.execute(
            "UPDATE tickets.engineers SET areas = %s, status = %s WHERE id = %s",
            (areas, status, engineer_id),
        )
    conn.execute("UPDATE tickets.engineers SET phone_device_id = %s WHERE id = 'eng-001'", (PHONE,))
    conn.execute(
        "UPDATE tickets.engineers SET position_lat = 55.7, position_lon = 37.5, position_at = %s "
        "WHERE id = 'eng-003'",
        (now - timedelta(minutes=5),),
    )


def _platform(conn: psycopg.Connection, now: datetime) -> None:
    for minutes, reason, count in ((50, "invalid_json", 3), (20, "unknown_device", 7)):
        conn.execute(
            "INSERT INTO telemetry.dead_letter_counts VALUES "
            "(date_trunc('minute', %s::timestamptz), 'toir/v1/devices/+/telemetry', %s, %s)",
            (now - timedelta(minutes=minutes), reason, count),
        )
    for minutes in (30, 20, 10):
        for partition, lag in ((0, 5 * minutes), (1, minutes)):
            conn.execute(
                "INSERT INTO telemetry.consumer_lag VALUES (%s, 'toir-stream', "
                "'toir.telemetry.readings', %s, %s)",
                (now - timedelta(minutes=minutes), partition, lag),
            )
