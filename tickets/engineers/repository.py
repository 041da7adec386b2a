"""SQL for engineers and what hangs off them: skills, shifts, absences, customer and
responsibility links, and the latest position (parameterised, no formatting of input)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row

from tickets.engineers.models import Absence, EngineerRead, Position, Shift
from tickets.engineers.status import StatusChange

# Columns of tickets.engineers a write may set (names from our own code, never from input).
COLUMNS: Final = (
    "name",
    "phone",
    "timezone",
    "home_lat",
    "home_lon",
    "areas",
    "max_concurrent",
    "status",
    "vehicle_id",
)
SELECT_ENGINEERS = "SELECT * FROM tickets.engineers"
# Each child list: the query reading it for some engineers, and how a row becomes a value.
CHILD_QUERIES: Final[Mapping[str, str]] = {
    "skills": "SELECT engineer_id, skill, level FROM tickets.engineer_skills "
    "WHERE engineer_id = ANY(%s) ORDER BY skill",
    "shifts": "SELECT engineer_id, weekday, starts, ends FROM tickets.shifts "
    "WHERE engineer_id = ANY(%s) ORDER BY weekday, starts",
    "absences": "SELECT engineer_id, kind, starts_at, ends_at FROM tickets.absences "
    "WHERE engineer_id = ANY(%s) ORDER BY starts_at",
    "preferred_by_customers": "SELECT engineer_id, customer FROM tickets.engineer_preferred_by "
    "WHERE engineer_id = ANY(%s) ORDER BY customer",
    "responsible_sites": "SELECT engineer_id, site_id FROM tickets.engineer_responsible_sites "
    "WHERE engineer_id = ANY(%s) ORDER BY site_id",
}


async def get_engineers(
    conn: psycopg.AsyncConnection, engineer_ids: Sequence[str] | None = None
) -> list[EngineerRead]:
    """The engineers with these ids (every engineer for None), by id."""
    async with conn.cursor(row_factory=dict_row) as cur:
        if engineer_ids is None:
            await cur.execute(f"{SELECT_ENGINEERS} ORDER BY id")
        else:
            await cur.execute(
                f"{SELECT_ENGINEERS} WHERE id = ANY(%s) ORDER BY id", (list(engineer_ids),)
            )
        rows = await cur.fetchall()
    ids = [row["id"] for row in rows]
    children = {name: await _grouped(conn, sql, ids) for name, sql in CHILD_QUERIES.items()}
    return [_engineer(row, children) for row in rows]


async def existing_ids(conn: psycopg.AsyncConnection, engineer_ids: Sequence[str]) -> set[str]:
    """Which of these engineer ids are on the roster."""
    cur = await conn.execute(
        "SELECT id FROM tickets.engineers WHERE id = ANY(%s)", (list(engineer_ids),)
    )
    return {row[0] for row in await cur.fetchall()}


async def insert_engineer(
    conn: psycopg.AsyncConnection, engineer_id: str, columns: Mapping[str, Any]
) -> None:
    """Insert an engineer's row with the given columns (the others take defaults)."""
    names = [name for name in COLUMNS if name in columns]
    await conn.execute(
        f"INSERT INTO tickets.engineers (id, {', '.join(names)}) VALUES (%s{', %s' * len(names)})",
        [engineer_id, *(columns[name] for name in names)],
    )


async def update_engineer(
    conn: psycopg.AsyncConnection, engineer_id: str, columns: Mapping[str, Any]
) -> None:
    """Set the given columns of an engineer's row."""
    names = [name for name in COLUMNS if name in columns]
    if names:
        await conn.execute(
            f"UPDATE tickets.engineers SET {', '.join(f'{n} = %s' for n in names)} WHERE id = %s",
            [*(columns[name] for name in names), engineer_id],
        )


async def delete_engineer(conn: psycopg.AsyncConnection, engineer_id: str) -> bool:
    """Delete an engineer and, by cascade, their lists; False if there was none."""
    cur = await conn.execute("DELETE FROM tickets.engineers WHERE id = %s", (engineer_id,))
    return cur.rowcount == 1


async def has_tickets(conn: psycopg.AsyncConnection, engineer_id: str) -> bool:
    """Whether any ticket (open or in the records) names the engineer as assignee."""
    cur = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM tickets.tickets WHERE assignee_id = %s)", (engineer_id,)
    )
    row = await cur.fetchone()
    return bool(row and row[0])


async def replace_skills(
    conn: psycopg.AsyncConnection, engineer_id: str, skills: Mapping[str, int]
) -> None:
    """Replace an engineer's skills with these levels."""
    await conn.execute("DELETE FROM tickets.engineer_skills WHERE engineer_id = %s", (engineer_id,))
    await _insert_many(
        conn,
        "INSERT INTO tickets.engineer_skills (engineer_id, skill, level) VALUES (%s, %s, %s)",
        [(engineer_id, skill, level) for skill, level in skills.items()],
    )


async def replace_shifts(
    conn: psycopg.AsyncConnection, engineer_id: str, shifts: Iterable[Shift]
) -> None:
    """Replace an engineer's weekly shifts."""
    await conn.execute("DELETE FROM tickets.shifts WHERE engineer_id = %s", (engineer_id,))
    await _insert_many(
        conn,
        "INSERT INTO tickets.shifts (engineer_id, weekday, starts, ends) VALUES (%s, %s, %s, %s)",
        [(engineer_id, s.weekday, s.starts, s.ends) for s in shifts],
    )


async def replace_absences(
    conn: psycopg.AsyncConnection, engineer_id: str, absences: Iterable[Absence]
) -> None:
    """Replace an engineer's absences."""
    await conn.execute("DELETE FROM tickets.absences WHERE engineer_id = %s", (engineer_id,))
    await _insert_many(
        conn,
        "INSERT INTO tickets.absences (engineer_id, kind, starts_at, ends_at) "
        "VALUES (%s, %s, %s, %s)",
        [(engineer_id, a.kind, a.starts_at, a.ends_at) for a in absences],
    )


async def replace_preferred_by(
    conn: psycopg.AsyncConnection, engineer_id: str, customers: Iterable[str]
) -> None:
    """Replace the customers who prefer this engineer."""
    await conn.execute(
        "DELETE FROM tickets.engineer_preferred_by WHERE engineer_id = %s", (engineer_id,)
    )
    await _insert_many(
        conn,
        "INSERT INTO tickets.engineer_preferred_by (engineer_id, customer) VALUES (%s, %s)",
        [(engineer_id, customer) for customer in sorted(set(customers))],
    )


async def replace_responsible_sites(
    conn: psycopg.AsyncConnection, engineer_id: str, site_ids: Iterable[str]
) -> None:
    """Replace the sites this engineer is responsible for."""
    await conn.execute(
        "DELETE FROM tickets.engineer_responsible_sites WHERE engineer_id = %s", (engineer_id,)
    )
    await _insert_many(
        conn,
        "INSERT INTO tickets.engineer_responsible_sites (engineer_id, site_id) VALUES (%s, %s)",
        [(engineer_id, site) for site in sorted(set(site_ids))],
    )


async def set_status(conn: psycopg.AsyncConnection, engineer_id: str, status: str) -> str | None:
    """Set an engineer's status; the status it replaced, None if there is no such engineer."""
    cur = await conn.execute(
        "UPDATE tickets.engineers e SET status = %s FROM (SELECT id, status FROM "
        "tickets.engineers WHERE id = %s FOR UPDATE) prior WHERE e.id = prior.id "
        "RETURNING prior.status",
        (status, engineer_id),
    )
    row = await cur.fetchone()
    return None if row is None else str(row[0])


async def status_of(conn: psycopg.AsyncConnection, engineer_id: str) -> str | None:
    """An engineer's status, their row locked until the transaction ends; None: no engineer."""
    cur = await conn.execute(
        "SELECT status FROM tickets.engineers WHERE id = %s FOR UPDATE", (engineer_id,)
    )
    row = await cur.fetchone()
    return None if row is None else str(row[0])


async def last_status_change(
    conn: psycopg.AsyncConnection, engineer_id: str, event_id: str
) -> tuple[datetime | None, bool]:
    """When the engineer's latest logged status change happened, and whether this event
    already changed their status."""
    cur = await conn.execute(
        "SELECT max(at), coalesce(bool_or(event_id = %s), false) "
        "FROM tickets.engineer_status_log WHERE engineer_id = %s",
        (event_id, engineer_id),
    )
    row = await cur.fetchone()
    assert row is not None
    return row[0], bool(row[1])


async def log_status(conn: psycopg.AsyncConnection, change: StatusChange) -> None:
    """Append a status change to the engineer's log."""
    await conn.execute(
        "INSERT INTO tickets.engineer_status_log (engineer_id, at, from_status, to_status, "
        "actor_kind, actor_id, reason, event_id, site_id, ticket_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            change.engineer_id,
            change.at,
            change.from_status.value,
            change.to_status.value,
            change.actor_kind,
            change.actor_id,
            change.reason,
            change.event_id,
            change.site_id,
            change.ticket_id,
        ),
    )


async def move_position(
    conn: psycopg.AsyncConnection, engineer_id: str, fix: Position
) -> Position | None:
    """Store a fix unless a newer one is stored (fixes arrive out of order); the stored one."""
    await conn.execute(
        "UPDATE tickets.engineers SET position_lat = %s, position_lon = %s, position_at = %s "
        "WHERE id = %s AND (position_at IS NULL OR position_at <= %s)",
        (fix.lat, fix.lon, fix.at, engineer_id, fix.at),
    )
    cur = await conn.execute(
        "SELECT position_lat, position_lon, position_at FROM tickets.engineers WHERE id = %s",
        (engineer_id,),
    )
    row = await cur.fetchone()
    return None if row is None else _position(row[0], row[1], row[2])


async def _insert_many(
    conn: psycopg.AsyncConnection, sql: str, rows: Sequence[tuple[Any, ...]]
) -> None:
    if rows:
        async with conn.cursor() as cur:
            await cur.executemany(sql, rows)


async def _grouped(
    conn: psycopg.AsyncConnection, sql: str, engineer_ids: list[str]
) -> dict[str, list[tuple[Any, ...]]]:
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    cur = await conn.execute(sql, (engineer_ids,))
    for row in await cur.fetchall():
        grouped[row[0]].append(tuple(row[1:]))
    return grouped


def _engineer(row: dict[str, Any], children: Mapping[str, Mapping[str, list[Any]]]) -> EngineerRead:
    def of(name: str) -> list[tuple[Any, ...]]:
        return list(children[name].get(row["id"], []))

    return EngineerRead.model_validate(
        {
            **{name: row[name] for name in ("id", *COLUMNS)},
            "skills": dict(of("skills")),
            "shifts": [{"weekday": d, "starts": s, "ends": e} for d, s, e in of("shifts")],
            "absences": [{"kind": k, "starts_at": s, "ends_at": e} for k, s, e in of("absences")],
            "preferred_by_customers": [c for (c,) in of("preferred_by_customers")],
            "responsible_sites": [s for (s,) in of("responsible_sites")],
            "position": _position(row["position_lat"], row["position_lon"], row["position_at"]),
        }
    )


def _position(lat: float | None, lon: float | None, at: datetime | None) -> Position | None:
    if lat is None or lon is None or at is None:
        return None
    return Position(lat=lat, lon=lon, at=at)
