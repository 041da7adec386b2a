"""Loading engineers' profiles for the engine from a real database: the per-ticket reads
give what the full-table aggregates gave, and the planner can answer them by index."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, time

import psycopg
import pytest

from kernel.clock import utcnow
from tickets.assignment import Absence, EngineerProfile, WeeklyShift
from tickets.roster import ENGINEERS_SQL, VISITS_SQL, load_profiles

# The aggregates as they were computed over every ticket: the reference the cheaper reads
# must reproduce.
FULL_LOAD_SQL = """
SELECT e.id,
    coalesce(l.open_tickets, 0), coalesce(l.open_hours, 0), coalesce(l.assigned_today, 0),
    coalesce(l.en_route_to_urgent, false)
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
FULL_VISITS_SQL = """
SELECT assignee_id, site_id, count(*) FROM tickets.tickets
WHERE status IN ('completed', 'closed') AND site_id IS NOT NULL AND assignee_id IS NOT NULL
GROUP BY assignee_id, site_id
"""

# (assignee, site, status, priority, estimated_h, days since last change)
TICKETS = [
    ("e1", "s1", "completed", "normal", 2.0, 3),
    ("e1", "s1", "closed", "low", None, 0),
    ("e1", "s2", "closed", "normal", 1.0, 40),
    ("e1", "s1", "cancelled", "high", 5.0, 0),
    ("e1", "s1", "assigned", "normal", 2.5, 0),
    ("e1", "s2", "en_route", "high", None, 1),
    ("e2", "s1", "on_hold", "normal", 4.0, 2),
    ("e2", "s1", "completed", "normal", 1.0, 0),
    ("e2", "s2", "completed", "critical", 1.0, 400),
    ("e2", None, "completed", "normal", 1.0, 0),
    ("e2", "s2", "en_route", "low", 1.0, 0),
    (None, "s1", "new", "high", 3.0, 0),
    (None, "s2", "completed", "normal", 1.0, 0),
]


def seed(database_url: str) -> None:
    """Three engineers (one without tickets), two sites, tickets in every kind of state."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO assets.sites (id, name) VALUES ('s1', 'North'), ('s2', 'South')")
        conn.execute(
            "INSERT INTO tickets.engineers (id, name, areas, home_lat, home_lon, max_concurrent) "
            "VALUES ('e1', 'One', '{north}', 55.7, 37.6, 4), ('e2', 'Two', '{}', NULL, NULL, 2), "
            "('e3', 'Three', '{south}', 55.1, 37.1, 3)"
        )
        conn.execute(
            "INSERT INTO assets.equipment (id, site_id, kind, engineer_id) "
            "VALUES ('b1', 's1', 'boiler', 'e2')"
        )
        conn.execute(
            "INSERT INTO tickets.engineer_skills VALUES ('e1', 'hvac', 3), ('e1', 'electrical', 1)"
        )
        conn.execute("INSERT INTO tickets.shifts VALUES ('e2', 0, '08:00', '17:00')")
        conn.execute(
            "INSERT INTO tickets.absences (engineer_id, kind, starts_at, ends_at) VALUES "
            "('e3', 'sick', '2030-03-01 10:00Z', '2030-03-03 10:00Z'), "
            "('e3', 'leave', '2001-03-01 10:00Z', '2001-03-08 10:00Z')"
        )
        conn.execute("INSERT INTO tickets.engineer_preferred_by VALUES ('e1', 'acme')")
        conn.execute("INSERT INTO tickets.engineer_responsible_sites VALUES ('e3', 's2')")
        for assignee, site, status, priority, hours, days_ago in TICKETS:
            conn.execute(
                "INSERT INTO tickets.tickets (kind, status, priority, title, site_id, assignee_id, "
                "estimated_h, updated_at) VALUES ('anomaly', %s, %s, 't', %s, %s, %s, "
                "now() - %s * interval '1 day')",
                (status, priority, site, assignee, hours, days_ago),
            )


def profiles(database_url: str, now: datetime, site_ids: list[str]) -> list[EngineerProfile]:
    async def go() -> list[EngineerProfile]:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            return await load_profiles(conn, now, site_ids=site_ids)

    return asyncio.run(go())


def full_table_loads(database_url: str, now: datetime) -> list[EngineerProfile]:
    """Only the load and visit fields, from the aggregates over every ticket."""
    with psycopg.connect(database_url) as conn:
        loads = conn.execute(FULL_LOAD_SQL, {"now": now}).fetchall()
        visits = conn.execute(FULL_VISITS_SQL).fetchall()
    return [
        EngineerProfile(
            id=engineer_id,
            timezone="UTC",
            home_lat=0.0,
            home_lon=0.0,
            open_tickets=int(open_tickets),
            open_hours=float(open_hours),
            assigned_today=int(today),
            en_route_to_urgent=bool(urgent),
            site_visits={site: int(n) for who, site, n in visits if who == engineer_id},
        )
        for engineer_id, open_tickets, open_hours, today, urgent in loads
    ]


def loads_and_visits(profile: EngineerProfile) -> tuple[object, ...]:
    p = profile
    return (
        p.id,
        p.open_tickets,
        p.open_hours,
        p.assigned_today,
        p.en_route_to_urgent,
        dict(p.site_visits),
    )


def narrowed(profile: EngineerProfile, site_ids: list[str]) -> EngineerProfile:
    visits = {site: n for site, n in profile.site_visits.items() if site in site_ids}
    return replace(profile, site_visits=visits)


@pytest.mark.parametrize("site_ids", [["s1"], ["s2"], ["s1", "s2"], ["s9"]])
def test_loads_and_visits_equal_the_full_table_aggregates_narrowed_to_the_sites(
    database_url: str, site_ids: list[str]
) -> None:
    seed(database_url)
    now = utcnow()
    expected = [narrowed(p, site_ids) for p in full_table_loads(database_url, now)]
    found = profiles(database_url, now, site_ids)
    assert [loads_and_visits(p) for p in found] == [loads_and_visits(p) for p in expected]


def test_the_seeded_loads_are_the_ones_counted_by_hand(database_url: str) -> None:
    seed(database_url)
    by_id = {p.id: p for p in profiles(database_url, utcnow(), ["s1", "s2"])}
    # e1: one assigned (2.5 h) and one en route to a high-priority ticket (1 h by default);
    # "today" counts their tickets changed today whatever their state, cancelled too.
    assert loads_and_visits(by_id["e1"]) == ("e1", 2, 3.5, 3, True, {"s1": 2, "s2": 1})
    # e2: on hold and en route to a low one; the completed ticket without a site is no visit.
    assert loads_and_visits(by_id["e2"]) == ("e2", 2, 5.0, 3, False, {"s1": 1, "s2": 1})
    assert loads_and_visits(by_id["e3"]) == ("e3", 0, 0.0, 0, False, {})


def test_every_statement_of_the_round_trip_lands_in_its_own_field(database_url: str) -> None:
    seed(database_url)
    e1, e2, e3 = profiles(database_url, utcnow(), ["s1"])
    assert (e1.skills, e1.areas, e1.max_concurrent) == (
        {"hvac": 3, "electrical": 1},
        frozenset({"north"}),
        4,
    )
    assert e1.preferred_by_customers == frozenset({"acme"})
    assert (e2.home_lat, e2.home_lon) == (0.0, 0.0)
    assert e2.shifts == (WeeklyShift(0, time(8), time(17)),)
    assert e2.responsible_for == frozenset({"b1"})
    assert e3.responsible_for == frozenset({"s2"})
    assert e3.absences == (Absence(date(2030, 3, 1), date(2030, 3, 3), "sick"),)


@pytest.mark.parametrize(
    ("sql", "params", "index"),
    [
        (ENGINEERS_SQL, {"now": datetime(2030, 1, 1, tzinfo=UTC)}, "tickets_open_load_idx"),
        (ENGINEERS_SQL, {"now": datetime(2030, 1, 1, tzinfo=UTC)}, "tickets_assignee_updated_idx"),
        (VISITS_SQL, {"site_ids": ["s1"]}, "tickets_site_visits_idx"),
    ],
)
def test_the_per_ticket_reads_can_use_an_index_instead_of_scanning_every_ticket(
    database_url: str, sql: str, params: dict[str, object], index: str
) -> None:
    seed(database_url)
    with psycopg.connect(database_url) as conn:
        conn.execute("ANALYZE tickets.tickets")
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute(f"EXPLAIN {sql}", params).fetchall())
    assert index in plan
    assert "Seq Scan on tickets " not in plan


def test_absences_are_those_around_the_time_assigned_at_not_the_database_clock(
    database_url: str,
) -> None:
    seed(database_url)
    *_, e3 = profiles(database_url, datetime(2001, 3, 5, 12, tzinfo=UTC), ["s1"])
    assert Absence(date(2001, 3, 1), date(2001, 3, 8), "leave") in e3.absences
    *_, e3_now = profiles(database_url, utcnow(), ["s1"])
    assert Absence(date(2001, 3, 1), date(2001, 3, 8), "leave") not in e3_now.absences
