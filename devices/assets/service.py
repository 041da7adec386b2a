"""Sites, equipment and vehicles as the registry's CRUD service handles them."""

from __future__ import annotations

from typing import Any

from devices.assets import repository
from devices.assets.models import (
    EquipmentCreate,
    EquipmentRead,
    SiteCreate,
    SiteRead,
    VehicleCreate,
    VehicleRead,
)
from devices.crud import ItemKind


def _site_changes(changes: dict[str, Any]) -> dict[str, Any]:
    # Switching shapes: a polygon drops the circle (and recentres), a radius drops the polygon.
    if changes.get("polygon") is not None:
        return {"radius_m": None, "lat": None, "lon": None} | changes
    if changes.get("radius_m") is not None:
        return {"polygon": None} | changes
    return changes


SITE = ItemKind(
    "site", repository.SITES, SiteCreate, SiteRead, repository.site_values, {}, _site_changes
)
EQUIPMENT = ItemKind(
    "equipment",
    repository.EQUIPMENT,
    EquipmentCreate,
    EquipmentRead,
    repository.equipment_values,
    {"site_id": ("site", repository.SITES)},
)
VEHICLE = ItemKind(
    "vehicle",
    repository.VEHICLES,
    VehicleCreate,
    VehicleRead,
    repository.vehicle_values,
    {"home_site_id": ("site", repository.SITES)},
)
