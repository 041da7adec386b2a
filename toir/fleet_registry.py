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


DEMO_SKILLS = {"diagnostics": 3, "inspection": 3, "maintenance": 3}


def register_engineers(database_url: str, fleet: Fleet) -> None:
    """One engineer per vehicle, based at its home site, on shift around the clock (a demo
    runs at any hour), skilled for every kind of work the demo produces."""
    sites = {site.id: site for site in fleet.sites}
    with psycopg.connect(database_url) as conn:
        for index, vehicle in enumerate(fleet.vehicles, start=1):
            home = sites[vehicle.home_site_id]
            engineer_id = f"eng-{index:03d}"
            conn.execute(
                "INSERT INTO tickets.engineers (id, name, home_lat, home_lon, vehicle_id) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                "vehicle_id = excluded.vehicle_id",
                (engineer_id, f"Engineer {index}", home.lat, home.lon, vehicle.id),
            )
            for skill, level in DEMO_SKILLS.items():
                conn.execute(
                    "INSERT INTO tickets.engineer_skills VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (engineer_id, skill, level),
                )
            for day in range(7):
                conn.execute(
                    "INSERT INTO tickets.shifts VALUES (%s, %s, '00:00', '23:59:59') "
                    "ON CONFLICT DO NOTHING",
                    (engineer_id, day),
                )
