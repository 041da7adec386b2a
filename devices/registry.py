"""Asset registry repository: sites, equipment, vehicles and their devices (SQL only)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg


@dataclass(frozen=True, slots=True)
class SiteIn:
    id: str
    name: str
    lat: float
    lon: float
    radius_m: float = 150.0
    customer: str | None = None
    area: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class EquipmentIn:
    id: str
    kind: str
    site_id: str | None = None
    model: str | None = None
    criticality: str = "normal"


@dataclass(frozen=True, slots=True)
class VehicleIn:
    id: str
    plate: str | None = None
    home_site_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceIn:
    id: str
    kind: str
    equipment_id: str | None = None
    vehicle_id: str | None = None
    enabled: bool = True


def upsert_sites(conn: psycopg.Connection, *, sites: Iterable[SiteIn]) -> None:
    sql = """
        INSERT INTO assets.sites (id, name, lat, lon, radius_m, customer, area, address)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, lat = excluded.lat,
            lon = excluded.lon, radius_m = excluded.radius_m, customer = excluded.customer,
            area = excluded.area, address = excluded.address
    """
    rows = [(s.id, s.name, s.lat, s.lon, s.radius_m, s.customer, s.area, s.address) for s in sites]
    with conn.cursor() as cur:
        cur.executemany(sql, rows)


def upsert_equipment(conn: psycopg.Connection, *, units: Iterable[EquipmentIn]) -> None:
    sql = """
        INSERT INTO assets.equipment (id, kind, site_id, model, criticality)
        VALUES (%s, %s, %s, %s, %s)
        ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, site_id = excluded.site_id,
            model = excluded.model, criticality = excluded.criticality
    """
    rows = [(u.id, u.kind, u.site_id, u.model, u.criticality) for u in units]
    with conn.cursor() as cur:
        cur.executemany(sql, rows)


def upsert_vehicles(conn: psycopg.Connection, *, vehicles: Iterable[VehicleIn]) -> None:
    sql = """
        INSERT INTO assets.vehicles (id, plate, home_site_id) VALUES (%s, %s, %s)
        ON CONFLICT (id) DO UPDATE SET plate = excluded.plate,
            home_site_id = excluded.home_site_id
    """
    with conn.cursor() as cur:
        cur.executemany(sql, [(v.id, v.plate, v.home_site_id) for v in vehicles])


def upsert_devices(conn: psycopg.Connection, *, devices: Iterable[DeviceIn]) -> None:
    sql = """
        INSERT INTO assets.devices (id, kind, equipment_id, vehicle_id, enabled)
        VALUES (%s, %s, %s, %s, %s)
        ON CONFLICT (id) DO UPDATE SET kind = excluded.kind,
            equipment_id = excluded.equipment_id, vehicle_id = excluded.vehicle_id,
            enabled = excluded.enabled
    """
    rows = [(d.id, d.kind, d.equipment_id, d.vehicle_id, d.enabled) for d in devices]
    with conn.cursor() as cur:
        cur.executemany(sql, rows)


async def fetch_device_states(conn: psycopg.AsyncConnection) -> dict[str, bool]:
    """Every registered device id with whether it is enabled."""
    cur = await conn.execute("SELECT id, enabled FROM assets.devices")
    return {device_id: enabled for device_id, enabled in await cur.fetchall()}


async def fetch_device_state(conn: psycopg.AsyncConnection, device_id: str) -> bool | None:
    """Whether one device is enabled; None when it is not registered."""
    cur = await conn.execute("SELECT enabled FROM assets.devices WHERE id = %s", (device_id,))
    row = await cur.fetchone()
    return None if row is None else bool(row[0])


@dataclass(frozen=True, slots=True)
class UnknownSighting:
    """An unregistered id that published: when first and last, how often, on which topic."""

    device_id: str
    first_us: int
    last_us: int
    count: int
    last_topic: str | None

    def merged(self, later: UnknownSighting) -> UnknownSighting:
        newer = later if later.last_us >= self.last_us else self
        return UnknownSighting(
            self.device_id,
            min(self.first_us, later.first_us),
            newer.last_us,
            self.count + later.count,
            newer.last_topic or self.last_topic or later.last_topic,
        )


# Ids registered in the meantime are skipped: they are no longer unknown.
RECORD_UNKNOWN = """
INSERT INTO assets.unknown_devices AS u (id, first_seen, last_seen, message_count, last_topic)
SELECT s.id, timestamptz 'epoch' + s.first_us * interval '1 microsecond',
    timestamptz 'epoch' + s.last_us * interval '1 microsecond', s.n, s.topic
FROM unnest(%s::text[], %s::int8[], %s::int8[], %s::int8[], %s::text[])
    AS s(id, first_us, last_us, n, topic)
WHERE NOT EXISTS (SELECT 1 FROM assets.devices d WHERE d.id = s.id)
ORDER BY s.id
ON CONFLICT (id) DO UPDATE SET
    first_seen = least(u.first_seen, excluded.first_seen),
    last_seen = greatest(u.last_seen, excluded.last_seen),
    message_count = u.message_count + excluded.message_count,
    last_topic = CASE WHEN excluded.last_seen >= u.last_seen
                      THEN coalesce(excluded.last_topic, u.last_topic) ELSE u.last_topic END
"""


async def record_unknown_devices(
    conn: psycopg.AsyncConnection, sightings: Sequence[UnknownSighting]
) -> None:
    """Add sightings of unregistered ids to assets.unknown_devices, in one statement."""
    await conn.execute(
        RECORD_UNKNOWN,
        (
            [s.device_id for s in sightings],
            [s.first_us for s in sightings],
            [s.last_us for s in sightings],
            [s.count for s in sightings],
            [s.last_topic for s in sightings],
        ),
    )
