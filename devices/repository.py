"""SQL for registered devices, the ids seen but not registered, and device kinds."""

from __future__ import annotations

from typing import Any, Final

import psycopg
from psycopg.rows import class_row

from devices.models import DeviceCreate, DeviceKindRead, UnknownDeviceRead
from devices.tables import Table

DEVICES: Final = Table(
    "assets",
    "devices",
    ("id", "kind", "equipment_id", "vehicle_id", "enabled", "expected_interval_s"),
    "SELECT t.id, t.kind, t.equipment_id, t.vehicle_id, t.enabled, t.expected_interval_s, "
    "t.created_at, t.updated_at, s.last_seen_at, "
    "EXISTS (SELECT 1 FROM assets.mqtt_accounts a WHERE a.device_id = t.id) AS has_credentials "
    "FROM assets.devices t LEFT JOIN telemetry.device_state s ON s.device_id = t.id",
)
UNKNOWN_COLUMNS = "id, first_seen, last_seen, message_count, last_topic"


def device_values(device: DeviceCreate) -> dict[str, Any]:
    return device.model_dump(mode="json")


async def list_unknown(
    conn: psycopg.AsyncConnection, *, limit: int, offset: int
) -> list[UnknownDeviceRead]:
    """Unknown ids, most recently seen first (not those registered since, by any means)."""
    async with conn.cursor(row_factory=class_row(UnknownDeviceRead)) as cur:
        await cur.execute(
            f"SELECT {UNKNOWN_COLUMNS} FROM assets.unknown_devices u "
            "WHERE NOT EXISTS (SELECT 1 FROM assets.devices d WHERE d.id = u.id) "
            "ORDER BY last_seen DESC, id LIMIT %s OFFSET %s",
            (limit, offset),
        )
        return await cur.fetchall()


async def take_unknown(conn: psycopg.AsyncConnection, device_id: str) -> UnknownDeviceRead | None:
    """Remove an unknown id from the list, returning what was known of it."""
    async with conn.cursor(row_factory=class_row(UnknownDeviceRead)) as cur:
        await cur.execute(
            f"DELETE FROM assets.unknown_devices WHERE id = %s RETURNING {UNKNOWN_COLUMNS}",
            (device_id,),
        )
        return await cur.fetchone()


async def list_kinds(conn: psycopg.AsyncConnection) -> list[DeviceKindRead]:
    async with conn.cursor(row_factory=class_row(DeviceKindRead)) as cur:
        await cur.execute("SELECT kind, expected_interval_s FROM assets.device_kinds ORDER BY kind")
        return await cur.fetchall()


async def set_kind_interval(
    conn: psycopg.AsyncConnection, kind: str, expected_interval_s: float
) -> None:
    await conn.execute(
        "UPDATE assets.device_kinds SET expected_interval_s = %s WHERE kind = %s",
        (expected_interval_s, kind),
    )
