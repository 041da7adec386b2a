"""The API fixtures of tests/integration/api, and a way to store telemetry for them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

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
from kernel.db import create_pool
from kernel.settings import Settings
from stream.app import batch_extensions
from stream.persist import TelemetryWriter
from stream.repository import prepare_connection
from tests.integration.api.conftest import client, token_for  # noqa: F401  # fixtures

Store = Callable[[Sequence[Reading], Sequence[Position]], None]


@pytest.fixture
def store(database_url: str) -> Store:
    """Writes telemetry as the stream does: raw rows, rollups and latest state at once."""

    def write(readings: Sequence[Reading], positions: Sequence[Position]) -> None:
        asyncio.run(_write(database_url, readings, positions))

    return write


@pytest.fixture
def fleet(database_url: str) -> None:
    """Vehicles veh-1..veh-4 (tracker trk-N each, veh-4 with a phone too), unit eq-1 (ctl-1)."""
    with psycopg.connect(database_url) as conn:
        upsert_vehicles(conn, vehicles=[VehicleIn(f"veh-{n}", f"A{n}00AA") for n in range(1, 5)])
        upsert_equipment(conn, units=[EquipmentIn("eq-1", "pump")])
        upsert_devices(
            conn,
            devices=[
                *(DeviceIn(f"trk-{n}", "tracker", vehicle_id=f"veh-{n}") for n in range(1, 5)),
                DeviceIn("phone-4", "phone", vehicle_id="veh-4"),
                DeviceIn("ctl-1", "controller", equipment_id="eq-1"),
            ],
        )


async def _write(
    database_url: str, readings: Sequence[Reading], positions: Sequence[Position]
) -> None:
    pool = create_pool(database_url, max_size=1, name="test", configure=prepare_connection)
    writer = TelemetryWriter(pool, batch_extensions(Settings(database_url=database_url)))
    try:
        await writer.write_readings(readings)
        await writer.write_positions(positions)
    finally:
        await pool.close()
