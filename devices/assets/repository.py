"""SQL for sites, equipment and vehicles (through the generic table functions)."""

from __future__ import annotations

from typing import Any, Final

import psycopg
from psycopg.types.json import Jsonb

from devices import tables
from devices.assets.models import (
    EquipmentCreate,
    EquipmentRead,
    SiteCreate,
    SiteRead,
    VehicleCreate,
    VehicleRead,
)
from devices.tables import Table

SITES: Final = Table(
    "assets",
    "sites",
    ("id", "name", "address", "customer", "area", "lat", "lon", "radius_m", "polygon"),
    "SELECT t.id, t.name, t.address, t.customer, t.area, t.lat, t.lon, t.radius_m, t.polygon, "
    "t.created_at, t.updated_at FROM assets.sites t",
)
EQUIPMENT: Final = Table(
    "assets",
    "equipment",
    (
        "id",
        "kind",
        "site_id",
        "model",
        "serial",
        "installed_on",
        "criticality",
        "meter_kinds",
        "engineer_id",
    ),
    "SELECT t.id, t.kind, t.site_id, t.model, t.serial, t.installed_on, t.criticality, "
    "t.meter_kinds, t.engineer_id, t.created_at, t.updated_at FROM assets.equipment t",
)
VEHICLES: Final = Table(
    "assets",
    "vehicles",
    ("id", "plate", "home_site_id", "engineer_id"),
    "SELECT t.id, t.plate, t.home_site_id, t.engineer_id, t.created_at, t.updated_at "
    "FROM assets.vehicles t",
)


def site_values(site: SiteCreate) -> dict[str, Any]:
    values = site.model_dump()
    polygon = values["polygon"]
    values["polygon"] = None if polygon is None else Jsonb([list(p) for p in polygon])
    return values


def equipment_values(unit: EquipmentCreate) -> dict[str, Any]:
    return unit.model_dump(mode="json") | {"installed_on": unit.installed_on}


def vehicle_values(vehicle: VehicleCreate) -> dict[str, Any]:
    return vehicle.model_dump()


async def get_site(conn: psycopg.AsyncConnection, site_id: str) -> SiteRead | None:
    return await tables.get(conn, SITES, SiteRead, site_id)


async def get_equipment(conn: psycopg.AsyncConnection, unit_id: str) -> EquipmentRead | None:
    return await tables.get(conn, EQUIPMENT, EquipmentRead, unit_id)


async def get_vehicle(conn: psycopg.AsyncConnection, vehicle_id: str) -> VehicleRead | None:
    return await tables.get(conn, VEHICLES, VehicleRead, vehicle_id)
