"""Loading engineers (with their shifts, absences, skills and current load) from the
database into the assignment engine's profiles."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tickets.assignment import Absence, EngineerProfile, WeeklyShift

ENGINEERS_SQL = """
SELECT e.*,
    coalesce(l.open_tickets, 0) AS open_tickets, coalesce(l.open_hours, 0) AS open_hours,
    coalesce(l.assigned_today, 0) AS assigned_today,
    coalesce(l.en_route_to_urgent, false) AS en_route_to_urgent
FROM tickets.engineers e
LEFT JOIN (
    SELECT assignee_id,
        count(*) FILTER (WHERE status NOT IN ('completed', 'closed', 'cancelled')) AS open_tickets,
        sum(coalesce(estimated_h, 1)) FILTER (
            WHERE status NOT IN ('completed', 'closed', 'cancelled')) AS open_hours,
        count(*) FILTER (WHERE updated_at >= date_trunc('day', %(now)s::timestamptz))
            AS assigned_today,
        bool_or(status = 'en_route' AND priority IN ('high', 'critical')) AS en_route_to_urgent
    FROM tickets.tickets WHERE assignee_id IS NOT NULL GROUP BY assignee_id
) l ON l.assignee_id = e.id
ORDER BY e.id
"""


async def load_profiles(conn: psycopg.AsyncConnection, now: datetime) -> list[EngineerProfile]:
    """Every engineer as the engine needs them at `now`."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(ENGINEERS_SQL, {"now": now})
        engineers = await cur.fetchall()
    skills = await _grouped(conn, "SELECT engineer_id, skill, level FROM tickets.engineer_skills")
    shifts = await _grouped(conn, "SELECT engineer_id, weekday, starts, ends FROM tickets.shifts")
    absences = await _grouped(
        conn,
        "SELECT engineer_id, kind, starts_at, ends_at FROM tickets.absences "
        "WHERE ends_at > now() - interval '1 day'",
    )
    visits = await _grouped(conn, VISITS_SQL)
    links = Links(
        preferred=await _grouped(conn, PREFERRED_SQL),
        responsible=await _grouped(conn, RESPONSIBLE_SQL),
    )
    return [_profile(e, skills, shifts, absences, visits, links) for e in engineers]


@dataclass(frozen=True)
class Links:
    """Customers who prefer an engineer; sites and equipment an engineer answers for."""

    preferred: dict[str, list[tuple[Any, ...]]]
    responsible: dict[str, list[tuple[Any, ...]]]


PREFERRED_SQL = "SELECT engineer_id, customer FROM tickets.engineer_preferred_by"
RESPONSIBLE_SQL = """
SELECT engineer_id, site_id FROM tickets.engineer_responsible_sites
UNION ALL
SELECT engineer_id, id FROM assets.equipment WHERE engineer_id IS NOT NULL
"""


ABSENCES_SQL = """
SELECT engineer_id, kind, starts_at, ends_at FROM tickets.absences
WHERE ends_at > %(now)s::timestamptz - interval '1 day'
"""
VISITS_SQL = """
SELECT assignee_id, site_id, count(*) FROM tickets.tickets
WHERE status IN ('completed', 'closed') AND site_id IS NOT NULL AND assignee_id IS NOT NULL
GROUP BY assignee_id, site_id
"""


async def _grouped(
    conn: psycopg.AsyncConnection, sql: str, params: dict[str, Any] | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    cur = await conn.execute(sql, params)
    for row in await cur.fetchall():
        grouped[row[0]].append(tuple(row[1:]))
    return grouped


def _profile(
    row: dict[str, Any],
    skills: dict[str, list[tuple[Any, ...]]],
    shifts: dict[str, list[tuple[Any, ...]]],
    absences: dict[str, list[tuple[Any, ...]]],
    visits: dict[str, list[tuple[Any, ...]]],
    links: Links,
) -> EngineerProfile:
    engineer_id = row["id"]
    return EngineerProfile(
        id=engineer_id,
        timezone=row["timezone"],
        home_lat=row["home_lat"] if row["home_lat"] is not None else 0.0,
        home_lon=row["home_lon"] if row["home_lon"] is not None else 0.0,
        skills={skill: level for skill, level in skills.get(engineer_id, [])},
        areas=frozenset(row["areas"] or ()),
        max_concurrent=row["max_concurrent"],
        status=row["status"],
        position_lat=row["position_lat"],
        position_lon=row["position_lon"],
        position_at=row["position_at"],
        shifts=tuple(WeeklyShift(d, s, e) for d, s, e in shifts.get(engineer_id, [])),
        absences=tuple(
            Absence(start.date(), end.date(), "sick" if kind == "sick" else "leave")
            for kind, start, end in absences.get(engineer_id, [])
        ),
        open_tickets=int(row["open_tickets"]),
        open_hours=float(row["open_hours"]),
        assigned_today=int(row["assigned_today"]),
        en_route_to_urgent=bool(row["en_route_to_urgent"]),
        site_visits={site: int(n) for site, n in visits.get(engineer_id, [])},
        preferred_by_customers=frozenset(c for (c,) in links.preferred.get(engineer_id, [])),
        responsible_for=frozenset(s for (s,) in links.responsible.get(engineer_id, [])),
    )
