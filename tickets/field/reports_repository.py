"""SQL of the field reports: a vehicle's trips, visits and engine hours over a time range, and
every engineer's latest position with their current ticket."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tickets.field.models import EngineerPosition, TripRead, VisitRead


async def vehicle_exists(conn: psycopg.AsyncConnection, vehicle_id: str) -> bool:
    cur = await conn.execute("SELECT 1 FROM assets.vehicles WHERE id = %s", (vehicle_id,))
    return await cur.fetchone() is not None


async def trips(
    conn: psycopg.AsyncConnection, vehicle_id: str, lo: datetime, hi: datetime
) -> list[TripRead]:
    """The vehicle's trips that started in [lo, hi), in time order."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT event_id AS id, device_id, started_at, ended_at, distance_m / 1000.0 AS "
            "distance_km, distance_source, duration_s, max_speed_kmh, avg_speed_kmh, "
            "start_site_id, end_site_id, work, ticket_id FROM telemetry.trips "
            "WHERE vehicle_id = %s AND started_at >= %s AND started_at < %s ORDER BY started_at",
            (vehicle_id, lo, hi),
        )
        return [TripRead.model_validate(row) for row in await cur.fetchall()]


async def visits(
    conn: psycopg.AsyncConnection, vehicle_id: str, lo: datetime, hi: datetime
) -> list[VisitRead]:
    """The vehicle's visits that began in [lo, hi), in time order."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT event_id AS id, device_id, engineer_id, site_id, arrived_at, left_at, "
            "duration_s FROM telemetry.visits "
            "WHERE vehicle_id = %s AND arrived_at >= %s AND arrived_at < %s ORDER BY arrived_at",
            (vehicle_id, lo, hi),
        )
        return [VisitRead.model_validate(row) for row in await cur.fetchall()]


# Per local day, the advance of the vehicle's hours-run counter, from positions and readings
# alike; with several devices reporting one, the largest advance counts.
ENGINE_HOURS = """
WITH devices AS (SELECT id FROM assets.devices WHERE vehicle_id = %(vehicle)s),
samples AS (
    SELECT device_id, ts, hours_run FROM telemetry.positions
    WHERE device_id IN (SELECT id FROM devices) AND ts >= %(lo)s AND ts < %(hi)s
      AND hours_run IS NOT NULL
    UNION ALL
    SELECT device_id, ts, hours_run FROM telemetry.readings
    WHERE device_id IN (SELECT id FROM devices) AND ts >= %(lo)s AND ts < %(hi)s
      AND hours_run IS NOT NULL
),
per_device AS (
    SELECT (ts AT TIME ZONE %(tz)s)::date AS day, max(hours_run) - min(hours_run) AS hours
    FROM samples GROUP BY 1, device_id
)
SELECT day, max(hours) FROM per_device GROUP BY day
"""


async def engine_hours_by_day(
    conn: psycopg.AsyncConnection, vehicle_id: str, lo: datetime, hi: datetime, tz: str
) -> dict[date, float]:
    cur = await conn.execute(ENGINE_HOURS, {"vehicle": vehicle_id, "lo": lo, "hi": hi, "tz": tz})
    return {day: float(hours) for day, hours in await cur.fetchall()}


# The ticket an engineer is on: the one furthest along (on site, then driving, accepted...).
ENGINEER_POSITIONS = """
SELECT e.id AS engineer_id, e.name, e.status, e.position_lat AS lat, e.position_lon AS lon,
    e.position_at AS at, extract(epoch FROM %s - e.position_at)::float8 AS age_s,
    t.id AS ticket_id, t.status AS ticket_status, t.site_id, t.title
FROM tickets.engineers e
LEFT JOIN LATERAL (
    SELECT id, status, site_id, title FROM tickets.tickets
    WHERE assignee_id = e.id
      AND status IN ('on_site', 'en_route', 'accepted', 'on_hold', 'assigned')
    ORDER BY array_position(ARRAY['on_site', 'en_route', 'accepted', 'on_hold', 'assigned'],
        status), updated_at DESC
    LIMIT 1
) t ON true
ORDER BY e.id
"""


async def engineer_positions(
    conn: psycopg.AsyncConnection, now: datetime
) -> list[EngineerPosition]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(ENGINEER_POSITIONS, (now,))
        return [_engineer_position(row) for row in await cur.fetchall()]


def _engineer_position(row: dict[str, Any]) -> EngineerPosition:
    ticket = None
    if row["ticket_id"] is not None:
        ticket = {
            "id": row["ticket_id"],
            "status": row["ticket_status"],
            "site_id": row["site_id"],
            "title": row["title"],
        }
    return EngineerPosition.model_validate(row | {"current_ticket": ticket})
