"""Registering a simulated fleet in the asset registry, as an admin would a real one."""

from __future__ import annotations

import psycopg

from devices.registry import (
    DeviceIn,
    EquipmentIn,
    SiteIn,
    VehicleIn,
    upsert_devices,
    upsert_equipment,
    upsert_sites,
    upsert_vehicles,
)
from devices.simulator.fleet import Fleet


def register_fleet(database_url: str, fleet: Fleet) -> None:
    """Upsert the fleet's sites, equipment, vehicles and one device for each unit."""
    with psycopg.connect(database_url) as conn:
        upsert_sites(
            conn, sites=[SiteIn(s.id, s.name, s.lat, s.lon, s.radius_m) for s in fleet.sites]
        )
        upsert_equipment(
            conn,
            units=[EquipmentIn(e.id, e.kind.value, e.site_id, e.model) for e in fleet.equipment],
        )
        upsert_vehicles(
            conn, vehicles=[VehicleIn(v.id, v.plate, v.home_site_id) for v in fleet.vehicles]
        )
        upsert_devices(
            conn,
            devices=[
                *(DeviceIn(e.id, "controller", equipment_id=e.id) for e in fleet.equipment),
                *(DeviceIn(v.id, "tracker", vehicle_id=v.id) for v in fleet.vehicles),
            ],
        )
