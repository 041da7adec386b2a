"""Loading engineers (with their shifts, absences, skills and current load) from the
database into the assignment engine's profiles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tickets.assignment import Absence, EngineerProfile, WeeklyShift

# The open load and today's count are separate aggregates so that each reads only its rows
# through an index (migration 0015), not every ticket ever stored.
ENGINEERS_SQL = """
SELECT e.*,
    coalesce(o.open_tickets, 0) AS open_tickets, coalesce(o.open_hours, 0) AS open_hours,
    coalesce(d.assigned_today, 0) AS assigned_today,
    coalesce(o.en_route_to_urgent, false) AS en_route_to_urgent
FROM tickets.engineers e
LEFT JOIN (
    SELECT assignee_id, count(*) AS open_tickets,
        sum(coalesce(estimated_h, 1)) AS open_hours,
        bool_or(status = 'en_route' AND priority IN ('high', 'critical')) AS en_route_to_urgent
    FROM tickets.tickets
    WHERE assignee_id IS NOT NULL AND status NOT IN ('completed', 'closed', 'cancelled')
    GROUP BY assignee_id
) o ON o.assignee_id = e.id
LEFT JOIN (
    SELECT assignee_id, count(*) AS assigned_today
    FROM tickets.tickets
    WHERE assignee_id IS NOT NULL AND updated_at >= date_trunc('day', %(now)s::timestamptz)
    GROUP BY assignee_id
) d ON d.assignee_id = e.id
ORDER BY e.id
"""
SKILLS_SQL = "SELECT engineer_id, skill, level FROM tickets.engineer_skills"
SHIFTS_SQL = "SELECT engineer_id, weekday, starts, ends FROM tickets.shifts"
# Relative to the `now` the engine assigns at (a replay, a test, the demo's clock), not the
# database's clock.
ABSENCES_SQL = """
SELECT engineer_id, kind, starts_at, ends_at FROM tickets.absences
WHERE ends_at > %(now)s::timestamptz - interval '1 day'
"""
# Visits only to the sites being assigned: the engine scores nothing else (site_history).
VISITS_SQL = """
SELECT assignee_id, site_id, count(*) FROM tickets.tickets
WHERE site_id = ANY(%(site_ids)s) AND status IN ('completed', 'closed')
    AND assignee_id IS NOT NULL
GROUP BY assignee_id, site_id
"""
PREFERRED_SQL = "SELECT engineer_id, customer FROM tickets.engineer_preferred_by"
RESPONSIBLE_SQL = """
SELECT engineer_id, site_id FROM tickets.engineer_responsible_sites
UNION ALL
SELECT engineer_id, id FROM assets.equipment WHERE engineer_id IS NOT NULL
"""

Grouped = dict[str, list[tuple[Any, ...]]]


async def load_profiles(
    conn: psycopg.AsyncConnection, now: datetime, *, site_ids: Collection[str]
) -> list[EngineerProfile]:
    """Every engineer as the engine needs them at `now`, for tickets at `site_ids`."""
    # One round trip: the statements do not depend on each other.
    async with conn.pipeline():
        engineers = await conn.cursor(row_factory=dict_row).execute(ENGINEERS_SQL, {"now": now})
        grouped = [
            await conn.execute(SKILLS_SQL),
            await conn.execute(SHIFTS_SQL),
            await conn.execute(ABSENCES_SQL, {"now": now}),
            await conn.execute(VISITS_SQL, {"site_ids": list(site_ids)}),
            await conn.execute(PREFERRED_SQL),
            await conn.execute(RESPONSIBLE_SQL),
        ]
    skills, shifts, absences, visits, preferred, responsible = [
        _grouped(await cur.fetchall()) for cur in grouped
    ]
    links = Links(preferred=preferred, responsible=responsible)
    return [
        _profile(e, skills, shifts, absences, visits, links) for e in await engineers.fetchall()
    ]


@dataclass(frozen=True)
class Links:
    """Customers who prefer an engineer; sites and equipment an engineer answers for."""

    preferred: Grouped
    responsible: Grouped


def _grouped(rows: list[tuple[Any, ...]]) -> Grouped:
    grouped: Grouped = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(tuple(row[1:]))
    return grouped


def _profile(
    row: dict[str, Any],
    skills: Grouped,
    shifts: Grouped,
    absences: Grouped,
    visits: Grouped,
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
