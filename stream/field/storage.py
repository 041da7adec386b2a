"""SQL of field control in the stream: sites and device links read; tracker checkpoints,
visits, trips and engineers' positions written (idempotent throughout)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import psycopg

from devices.assets.models import DEFAULT_RADIUS_M
from stream.field.events import SiteEntered, SiteLeft, TripCompleted, event_id, evidence_of

LinkRow = tuple[str, str | None, list[str], str | None, bool]
SiteRow = tuple[str, float | None, float | None, float, list[list[float]] | None]

TS = "timestamptz 'epoch' + {} * interval '1 microsecond'"
EPOCH_US = "(extract(epoch FROM {}) * 1000000)::int8"


class Owner(Protocol):
    """Whose device it is, as a visit or trip row records it."""

    @property
    def vehicle_id(self) -> str | None: ...
    @property
    def engineer_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class StoredState:
    """One device's tracker checkpoint; revision is that of the row it was read as or will be."""

    device_id: str
    visits: dict[str, Any]
    trips: dict[str, Any] | None
    last_fix_us: int | None
    open: bool
    revision: int


async def sites_fingerprint(conn: psycopg.AsyncConnection) -> str:
    """A digest of every site's geofence: it changes exactly when the index must be rebuilt."""
    cur = await conn.execute(
        "SELECT md5(coalesce(string_agg(concat_ws('|', id, lat, lon, radius_m, polygon::text), "
        "',' ORDER BY id), '')) FROM assets.sites"
    )
    row = await cur.fetchone()
    return str(row[0]) if row else ""


async def load_sites(conn: psycopg.AsyncConnection) -> list[SiteRow]:
    cur = await conn.execute(
        "SELECT id, lat, lon, coalesce(radius_m, %s), polygon FROM assets.sites "
        "WHERE polygon IS NOT NULL OR (lat IS NOT NULL AND lon IS NOT NULL)",
        (DEFAULT_RADIUS_M,),
    )
    return list(await cur.fetchall())


LINKS = """
SELECT d.id, d.vehicle_id,
    coalesce(array_agg(e.id ORDER BY e.id) FILTER (WHERE e.id IS NOT NULL), '{}'),
    min(e.id) FILTER (WHERE e.phone_device_id = d.id),
    d.vehicle_id IS NOT NULL AND (d.kind = 'tracker' OR NOT EXISTS (
        SELECT 1 FROM assets.devices t
        WHERE t.vehicle_id = d.vehicle_id AND t.kind = 'tracker' AND t.enabled))
FROM assets.devices d
LEFT JOIN tickets.engineers e
    ON e.phone_device_id = d.id OR (d.vehicle_id IS NOT NULL AND e.vehicle_id = d.vehicle_id)
WHERE d.enabled AND d.kind IN ('tracker', 'phone')
GROUP BY d.id
HAVING d.vehicle_id IS NOT NULL OR count(e.id) > 0
"""


async def load_links(conn: psycopg.AsyncConnection) -> list[LinkRow]:
    """Enabled trackers and phones that place a vehicle or an engineer."""
    cur = await conn.execute(LINKS)
    return list(await cur.fetchall())


STATE_COLUMNS = f"device_id, visits, trips, {EPOCH_US.format('last_fix_at')}, open, revision"


async def load_states(
    conn: psycopg.AsyncConnection, device_ids: Sequence[str] | None = None
) -> list[StoredState]:
    """The checkpoints of these devices, or (None) of every device with something open."""
    if device_ids is None:
        sql = f"SELECT {STATE_COLUMNS} FROM telemetry.field_state WHERE open"
        cur = await conn.execute(sql)
    else:
        sql = f"SELECT {STATE_COLUMNS} FROM telemetry.field_state WHERE device_id = ANY(%s)"
        cur = await conn.execute(sql, (list(device_ids),))
    return [StoredState(*row) for row in await cur.fetchall()]


SAVE_STATES = f"""
INSERT INTO telemetry.field_state AS s
    (device_id, visits, trips, last_fix_at, open, revision, updated_at)
SELECT u.device_id, u.visits::jsonb, u.trips::jsonb, {TS.format("u.last_us")}, u.open, u.revision,
    now()
FROM unnest(%b::text[], %b::text[], %b::text[], %b::int8[], %b::bool[], %b::int8[])
    AS u(device_id, visits, trips, last_us, open, revision)
ON CONFLICT (device_id) DO UPDATE SET visits = excluded.visits, trips = excluded.trips,
    last_fix_at = excluded.last_fix_at, open = excluded.open, revision = excluded.revision,
    updated_at = excluded.updated_at
WHERE s.revision = excluded.revision - 1
RETURNING device_id
"""


async def save_states(conn: psycopg.AsyncConnection, states: Sequence[StoredState]) -> set[str]:
    """Write checkpoints over the revision before theirs; the ids of those written."""
    if not states:
        return set()
    cur = await conn.execute(
        SAVE_STATES,
        (
            [s.device_id for s in states],
            [_state_json(s.visits) for s in states],
            [None if s.trips is None else _state_json(s.trips) for s in states],
            [s.last_fix_us for s in states],
            [s.open for s in states],
            [s.revision for s in states],
        ),
    )
    return {row[0] for row in await cur.fetchall()}


VISIT_COLUMNS = "event_id, device_id, vehicle_id, engineer_id, site_id, arrived_at"
INSERT_ENTERED = f"""
INSERT INTO telemetry.visits ({VISIT_COLUMNS}, evidence)
SELECT u.event_id, u.device_id, u.vehicle_id, u.engineer_id, u.site_id,
    {TS.format("u.arrived_us")}, u.evidence::jsonb
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::int8[], %s::text[])
    AS u(event_id, device_id, vehicle_id, engineer_id, site_id, arrived_us, evidence)
ON CONFLICT (event_id) DO NOTHING
"""
# A SiteLeft closes the row its SiteEntered opened (same device, site and arrival); should
# that row be missing, the whole visit is inserted.
RECORD_LEFT = f"""
INSERT INTO telemetry.visits AS v ({VISIT_COLUMNS}, left_at, duration_s, leave_reason,
    left_event_id, evidence)
SELECT u.event_id, u.device_id, u.vehicle_id, u.engineer_id, u.site_id,
    {TS.format("u.arrived_us")}, {TS.format("u.departed_us")}, u.duration_s, u.reason,
    u.left_event_id, u.evidence::jsonb
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::int8[], %s::int8[],
    %s::float8[], %s::text[], %s::text[], %s::text[])
    AS u(event_id, device_id, vehicle_id, engineer_id, site_id, arrived_us, departed_us,
         duration_s, reason, left_event_id, evidence)
ON CONFLICT (event_id) DO UPDATE SET left_at = excluded.left_at,
    duration_s = excluded.duration_s, leave_reason = excluded.leave_reason,
    left_event_id = excluded.left_event_id, evidence = excluded.evidence
WHERE v.left_at IS NULL
"""


def _visit_key(event: SiteEntered | SiteLeft, owner: Owner) -> list[Any]:
    return [event.device_id, owner.vehicle_id, owner.engineer_id, event.site_id, event.arrived_us]


async def insert_entered(
    conn: psycopg.AsyncConnection, visits: Sequence[tuple[SiteEntered, Owner]]
) -> None:
    """Open a visit row per SiteEntered (again: nothing)."""
    if visits:
        rows = [[e.event_id, *_visit_key(e, o), _json(evidence_of(e))] for e, o in visits]
        await conn.execute(INSERT_ENTERED, _columns(rows, 7))


async def record_left(
    conn: psycopg.AsyncConnection, visits: Sequence[tuple[SiteLeft, Owner]]
) -> None:
    """Close the visit row of each SiteLeft (again: nothing)."""
    if not visits:
        return
    rows = [
        [
            event_id("SiteEntered", e.device_id, e.site_id, e.arrived_us),
            *_visit_key(e, o),
            e.departed_us,
            e.duration_s,
            e.reason,
            e.event_id,
            _json(evidence_of(e)),
        ]
        for e, o in visits
    ]
    await conn.execute(RECORD_LEFT, _columns(rows, 11))


# The work ticket: one at the trip's end site, assigned to an engineer of the vehicle (or the
# phone's owner), accepted before the trip ended and not completed by then.
INSERT_TRIPS = f"""
INSERT INTO telemetry.trips (event_id, device_id, vehicle_id, engineer_id, started_at, ended_at,
    distance_m, distance_source, duration_s, max_speed_kmh, avg_speed_kmh, start_site_id,
    end_site_id, work, ticket_id, evidence)
SELECT u.event_id, u.device_id, u.vehicle_id, u.engineer_id, {TS.format("u.started_us")},
    {TS.format("u.ended_us")}, u.distance_m, u.distance_source, u.duration_s, u.max_speed_kmh,
    u.avg_speed_kmh, u.start_site_id, u.end_site_id, w.id IS NOT NULL, w.id, u.evidence::jsonb
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::int8[], %s::int8[],
    %s::float8[], %s::text[], %s::float8[], %s::float8[], %s::float8[], %s::text[], %s::text[],
    %s::text[])
    AS u(event_id, device_id, vehicle_id, engineer_id, started_us, ended_us, distance_m,
         distance_source, duration_s, max_speed_kmh, avg_speed_kmh, start_site_id, end_site_id,
         evidence)
LEFT JOIN LATERAL (
    SELECT t.id FROM tickets.tickets t JOIN tickets.engineers e ON e.id = t.assignee_id
    WHERE t.site_id = u.end_site_id
      AND (e.id = u.engineer_id OR e.vehicle_id = u.vehicle_id)
      AND t.status NOT IN ('cancelled', 'declined')
      AND t.accepted_at <= {TS.format("u.ended_us")}
      AND (t.completed_at IS NULL OR t.completed_at >= {TS.format("u.ended_us")})
    ORDER BY t.accepted_at DESC
    LIMIT 1
) w ON true
ON CONFLICT (event_id) DO NOTHING
"""


async def insert_trips(
    conn: psycopg.AsyncConnection, trips: Sequence[tuple[TripCompleted, Owner]]
) -> None:
    """Store each trip once, classified work or non-work."""
    if not trips:
        return
    rows = [
        [
            t.event_id,
            t.device_id,
            o.vehicle_id,
            o.engineer_id,
            t.started_us,
            t.ended_us,
            t.distance_m,
            t.distance_source,
            t.duration_s,
            t.max_speed_kmh,
            t.avg_speed_kmh,
            t.start_site_id,
            t.end_site_id,
            _json(evidence_of(t)),
        ]
        for t, o in trips
    ]
    await conn.execute(INSERT_TRIPS, _columns(rows, 14))


MOVE_ENGINEERS = f"""
UPDATE tickets.engineers e
SET position_lat = u.lat, position_lon = u.lon, position_at = {TS.format("u.ts_us")}
FROM unnest(%s::text[], %s::float8[], %s::float8[], %s::int8[]) AS u(id, lat, lon, ts_us)
WHERE e.id = u.id AND (e.position_at IS NULL OR e.position_at < {TS.format("u.ts_us")})
"""


async def move_engineers(
    conn: psycopg.AsyncConnection, fixes: Sequence[tuple[str, float, float, int]]
) -> None:
    """Set each engineer's latest position (engineer_id, lat, lon, ts_us) unless one is newer."""
    if fixes:
        await conn.execute(MOVE_ENGINEERS, _columns([list(f) for f in sorted(fixes)], 4))


def _state_json(state: dict[str, Any]) -> str:
    # The trackers' states hold named tuples (path fixes): JSON arrays, as json.dumps makes
    # them, while orjson wants to be told.
    return orjson.dumps(state, default=_tuple_as_list).decode()


def _tuple_as_list(value: object) -> list[Any]:
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows turned into the per-column arrays that unnest() takes."""
    return [[row[i] for row in rows] for i in range(width)]
