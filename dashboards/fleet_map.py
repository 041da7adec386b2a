"""Fleet map: where vehicles and engineers are now, which sites wait for work, and the
track of one vehicle."""

from __future__ import annotations

from dashboards.grafana import JSON, dashboard, override, sql, time_bucket, value_colors
from dashboards.panels import (
    PRIORITY_COLORS,
    STATUS_COLORS,
    geomap,
    markers,
    table,
)
from dashboards.variables import AREA, VEHICLE, matches, overlaps

UID = "toir-fleet-map"

VEHICLES_NOW = f"""
SELECT vehicle_id, plate, engineer_name, status, speed_kmh, last_position_at,
       latitude, longitude
FROM reporting.vehicle_positions_latest
WHERE {matches("area", "area")}
"""

ENGINEERS_NOW = f"""
SELECT engineer_id, name, status, position_at, position_source, latitude, longitude
FROM reporting.engineer_positions_latest
WHERE {overlaps("areas", "area")}
"""

SITES_WAITING = f"""
SELECT site_id, name, customer, open_tickets, top_priority, top_priority_rank, at_risk,
       breached, latitude, longitude
FROM reporting.site_open_tickets
WHERE {matches("area", "area")}
"""

# One fix per $__interval: Grafana sizes the interval to the panel, so a week's track stays
# a few thousand points.
TRACK = f"""
SELECT DISTINCT ON ({time_bucket("ts")})
       ts AS time, latitude, longitude, speed_kmh, ignition
FROM reporting.vehicle_track
WHERE vehicle_id = '$vehicle' AND $__timeFilter(ts)
ORDER BY {time_bucket("ts")}, ts
"""

VEHICLE_LIST = f"""
SELECT plate, vehicle_id, engineer_name AS engineer, status, speed_kmh AS "speed",
       last_position_at AS "last fix"
FROM reporting.vehicle_positions_latest
WHERE {matches("area", "area")}
ORDER BY array_position(ARRAY['offline', 'moving', 'parked'], status), plate
"""

SITE_LIST = f"""
SELECT name AS site, customer, top_priority AS "top priority", open_tickets AS "open",
       at_risk AS "at risk", breached
FROM reporting.site_open_tickets
WHERE {matches("area", "area")}
ORDER BY top_priority_rank DESC, breached DESC, open_tickets DESC, name
"""

STATUS = override("status", mappings=[value_colors(STATUS_COLORS)])
PRIORITY = override("top_priority", mappings=[value_colors(PRIORITY_COLORS)])


def build() -> JSON:
    """The Fleet map dashboard."""
    return dashboard(
        uid=UID,
        title="Fleet map",
        description="Vehicles, engineers and sites waiting for work, live.",
        variables=[AREA, VEHICLE],
        time_from="now-6h",
        refresh="30s",
        panels=[
            geomap(
                "Fleet now",
                [
                    sql(SITES_WAITING, ref_id="C"),
                    sql(VEHICLES_NOW, ref_id="A"),
                    sql(ENGINEERS_NOW, ref_id="B"),
                ],
                [
                    markers(
                        "Sites with open tickets",
                        "C",
                        color_field="top_priority",
                        size_field="top_priority_rank",
                    ),
                    markers("Vehicles", "A", color_field="status"),
                    markers("Engineers", "B", color_field="status", size=9),
                ],
                overrides=[STATUS, PRIORITY],
                width=16,
                height=14,
                description=(
                    "Vehicles: moving (5 km/h or more), parked, or offline (silent longer "
                    "than their expected interval). Engineers: by work status, placed at the "
                    "newest of their own, phone and vehicle positions. Sites: sized and "
                    "coloured by the highest priority of their open tickets."
                ),
            ),
            table(
                "Vehicles",
                [sql(VEHICLE_LIST)],
                overrides=[override("status", mappings=[value_colors(STATUS_COLORS)])],
                width=8,
                height=14,
            ),
            geomap(
                "Track of $vehicle",
                [sql(TRACK)],
                [markers("Track", "A", color="blue", size=3)],
                width=16,
                height=12,
                description="The selected vehicle's fixes over the time range, one per interval.",
            ),
            table(
                "Sites with open tickets",
                [sql(SITE_LIST)],
                overrides=[override("top priority", mappings=[value_colors(PRIORITY_COLORS)])],
                width=8,
                height=12,
            ),
        ],
    )
