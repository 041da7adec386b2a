"""SQL joining GPS visits and tickets: whose device, which tickets at a site, whether an
engineer was at a site, whose work overlaps (parameterised, no formatting of input)."""

from __future__ import annotations

from datetime import datetime

import psycopg

# The devices that place an engineer: their own phone, and the trackers and phones of their
# vehicle. Parameter: the engineer id.
ENGINEER_DEVICES = """
SELECT d.id FROM tickets.engineers e JOIN assets.devices d
    ON d.id = e.phone_device_id
    OR (e.vehicle_id IS NOT NULL AND d.vehicle_id = e.vehicle_id AND d.kind <> 'controller')
WHERE e.id = %s
"""
# Statuses in which the assignee is working the ticket: a departure from its site is news.
WORKING = ["assigned", "accepted", "en_route", "on_site", "on_hold"]


async def engineers_of_device(conn: psycopg.AsyncConnection, device_id: str) -> list[str]:
    """Engineers placed by the device: its owner (a phone), or those of its vehicle."""
    cur = await conn.execute(
        "SELECT e.id FROM tickets.engineers e LEFT JOIN assets.devices d ON d.id = %s "
        "WHERE e.phone_device_id = %s "
        "OR (d.vehicle_id IS NOT NULL AND e.vehicle_id = d.vehicle_id) ORDER BY e.id",
        (device_id, device_id),
    )
    return [str(row[0]) for row in await cur.fetchall()]


async def tickets_to_arrive(
    conn: psycopg.AsyncConnection, engineer_ids: list[str], site_id: str
) -> list[tuple[int, datetime | None]]:
    """(id, accepted_at) of tickets at the site these engineers accepted or drive to."""
    cur = await conn.execute(
        "SELECT id, accepted_at FROM tickets.tickets WHERE assignee_id = ANY(%s) "
        "AND site_id = %s AND status IN ('accepted', 'en_route') ORDER BY id",
        (engineer_ids, site_id),
    )
    return [(int(i), at) for i, at in await cur.fetchall()]


async def tickets_worked_at(
    conn: psycopg.AsyncConnection, engineer_ids: list[str], site_id: str, event_id: str
) -> list[tuple[int, str]]:
    """(id, status) of tickets at the site these engineers work on, without this departure."""
    cur = await conn.execute(
        "SELECT t.id, t.status FROM tickets.tickets t WHERE t.assignee_id = ANY(%s) "
        "AND t.site_id = %s AND t.status = ANY(%s) AND NOT EXISTS ("
        "  SELECT 1 FROM tickets.history h WHERE h.ticket_id = t.id AND h.action = 'departed'"
        "  AND h.details ->> 'event_id' = %s) ORDER BY t.id",
        (engineer_ids, site_id, WORKING, event_id),
    )
    return [(int(i), str(s)) for i, s in await cur.fetchall()]


async def ticket_on_site(
    conn: psycopg.AsyncConnection, engineer_id: str, site_id: str
) -> int | None:
    """The engineer's (first) ticket at the site that is on site, if any."""
    cur = await conn.execute(
        "SELECT min(id) FROM tickets.tickets WHERE assignee_id = %s AND site_id = %s "
        "AND status = 'on_site'",
        (engineer_id, site_id),
    )
    row = await cur.fetchone()
    return None if row is None or row[0] is None else int(row[0])


async def at_a_site_on_site(conn: psycopg.AsyncConnection, engineer_id: str) -> bool:
    """Whether a device of the engineer is still at a site where a ticket of theirs is on
    site (a visit not yet left)."""
    cur = await conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM telemetry.visits v JOIN tickets.tickets t "
        f"ON t.site_id = v.site_id AND t.assignee_id = %s AND t.status = 'on_site' "
        f"WHERE v.left_at IS NULL "
        f"AND (v.engineer_id = %s OR v.device_id IN ({ENGINEER_DEVICES})))",
        (engineer_id, engineer_id, engineer_id),
    )
    row = await cur.fetchone()
    return bool(row and row[0])


async def ticket_en_route_elsewhere(
    conn: psycopg.AsyncConnection, engineer_id: str, site_id: str
) -> int | None:
    """The engineer's (first) en-route ticket at another site than this one, if any."""
    cur = await conn.execute(
        "SELECT min(id) FROM tickets.tickets WHERE assignee_id = %s AND status = 'en_route' "
        "AND site_id IS DISTINCT FROM %s",
        (engineer_id, site_id),
    )
    row = await cur.fetchone()
    return None if row is None or row[0] is None else int(row[0])


async def engineer_tracked(conn: psycopg.AsyncConnection, engineer_id: str) -> bool:
    """Whether any device places the engineer (without one, presence cannot be judged)."""
    cur = await conn.execute(f"SELECT EXISTS ({ENGINEER_DEVICES})", (engineer_id,))
    row = await cur.fetchone()
    return bool(row and row[0])


async def visited(
    conn: psycopg.AsyncConnection, *, engineer_id: str, site_id: str, lo: datetime, hi: datetime
) -> bool:
    """Whether a visit at the site by the engineer's devices overlaps [lo, hi]."""
    cur = await conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM telemetry.visits v WHERE v.site_id = %s "
        f"AND (v.engineer_id = %s OR v.device_id IN ({ENGINEER_DEVICES})) "
        "AND v.arrived_at <= %s AND coalesce(v.left_at, 'infinity') >= %s)",
        (site_id, engineer_id, engineer_id, hi, lo),
    )
    row = await cur.fetchone()
    return bool(row and row[0])


async def fixes_between(
    conn: psycopg.AsyncConnection, *, engineer_id: str, lo: datetime, hi: datetime
) -> int:
    """How many fixes the engineer's devices reported in [lo, hi]: none means GPS was off."""
    cur = await conn.execute(
        f"SELECT count(*) FROM telemetry.positions WHERE device_id IN ({ENGINEER_DEVICES}) "
        "AND ts BETWEEN %s AND %s",
        (engineer_id, lo, hi),
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def assisted_by(conn: psycopg.AsyncConnection, ticket_id: int) -> list[str]:
    """The engineers a ticket's completion names besides the assignee."""
    cur = await conn.execute(
        "SELECT assisted_by FROM tickets.completions WHERE ticket_id = %s", (ticket_id,)
    )
    row = await cur.fetchone()
    return [] if row is None else [str(engineer_id) for engineer_id in row[0]]


async def add_flag(conn: psycopg.AsyncConnection, ticket_id: int, flag: str) -> bool:
    """Add a flag to a ticket; False if it already had it."""
    cur = await conn.execute(
        "UPDATE tickets.tickets SET flags = array_append(flags, %s), updated_at = now() "
        "WHERE id = %s AND NOT %s = ANY(flags)",
        (flag, ticket_id, flag),
    )
    return cur.rowcount == 1


async def overlapping_work(
    conn: psycopg.AsyncConnection,
    *,
    ticket_id: int,
    engineer_id: str,
    site_id: str | None,
    lo: datetime,
    hi: datetime,
) -> tuple[int, str | None, datetime, datetime] | None:
    """Another completed ticket of the engineer, elsewhere, whose work overlaps [lo, hi)."""
    cur = await conn.execute(
        "SELECT id, site_id, coalesce(arrived_at, accepted_at) AS work_from, completed_at "
        "FROM tickets.tickets WHERE assignee_id = %s AND id <> %s "
        "AND status IN ('completed', 'closed') AND site_id IS DISTINCT FROM %s "
        "AND coalesce(arrived_at, accepted_at) < %s AND completed_at > %s "
        "ORDER BY completed_at LIMIT 1",
        (engineer_id, ticket_id, site_id, hi, lo),
    )
    row = await cur.fetchone()
    return None if row is None else (int(row[0]), row[1], row[2], row[3])
