"""SQL of maintenance plans: the plans, their units, anchors, occurrences and meter samples."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from predictive.plans.schedule import Anchor

JSON_COLUMNS: Final = frozenset({"skills", "checklist"})
PLAN_COLUMNS: Final = (
    "name",
    "target_kind",
    "target_id",
    "work_type",
    "skills",
    "duration_h",
    "checklist",
    "every_days",
    "every_months",
    "every_hours_run",
    "every_odometer_km",
    "lead_days",
    "lead_hours_run",
    "lead_odometer_km",
    "starts_at",
    "enabled",
    "created_by",
)
CLOSED_STATUSES: Final = ("completed", "closed", "cancelled")


class Unit(NamedTuple):
    """A unit a plan covers."""

    plan_id: int
    subject_kind: str
    subject_id: str


Subject = tuple[str, str]

PLAN_UNITS = """
SELECT p.id, 'equipment', e.id, e.created_at FROM predictive.plans p
JOIN assets.equipment e ON (p.target_kind = 'equipment_model' AND e.model = p.target_id)
    OR (p.target_kind = 'equipment' AND e.id = p.target_id)
WHERE p.id = ANY(%(ids)s)
UNION ALL
SELECT p.id, 'vehicle', v.id, v.created_at FROM predictive.plans p
JOIN assets.vehicles v ON p.target_kind = 'vehicle' AND v.id = p.target_id
WHERE p.id = ANY(%(ids)s)
ORDER BY 1, 2, 3
"""

LATEST_ANCHORS = """
SELECT DISTINCT ON (plan_id, subject_kind, subject_id)
    plan_id, subject_kind, subject_id, done_at, hours_run, odometer_km, source
FROM predictive.plan_anchors WHERE plan_id = ANY(%s)
ORDER BY plan_id, subject_kind, subject_id, done_at DESC, id DESC
"""

INSERT_ANCHOR = """
INSERT INTO predictive.plan_anchors (plan_id, subject_kind, subject_id, done_at, hours_run,
    odometer_km, source, ticket_id, recorded_by)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING
"""

# Maintenance tickets of a plan completed since their unit's newest anchor.
NEW_COMPLETIONS = """
SELECT t.id, t.plan_id, t.equipment_id, t.completed_at
FROM (
    SELECT id, equipment_id, completed_at,
        -- Causes are free text: only "plan:<digits>" names a plan.
        CASE WHEN cause ~ '^plan:[0-9]{1,18}$' THEN substr(cause, 6)::bigint END AS plan_id
    FROM tickets.tickets
    WHERE kind = 'maintenance_due' AND completed_at IS NOT NULL AND equipment_id IS NOT NULL
) t
JOIN predictive.plans p ON p.id = t.plan_id
WHERE NOT EXISTS (SELECT 1 FROM predictive.plan_anchors a WHERE a.ticket_id = t.id)
ORDER BY t.completed_at
"""

OPEN_PLAN_TICKETS = """
SELECT substr(cause, 6)::bigint, equipment_id FROM tickets.tickets
WHERE kind = 'maintenance_due' AND cause = ANY(%s) AND status <> ALL(%s)
"""

METERS = """
SELECT subject_kind, subject_id, meter, value FROM telemetry.meters
WHERE (subject_kind, subject_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
  AND source <> 'new'
"""

OLDEST_SAMPLES = """
SELECT DISTINCT ON (subject_kind, subject_id, meter) subject_kind, subject_id, meter,
    taken_at, value
FROM predictive.meter_samples
WHERE (subject_kind, subject_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
  AND taken_at >= %s
ORDER BY subject_kind, subject_id, meter, taken_at
"""

RECORD_SAMPLES = """
INSERT INTO predictive.meter_samples (subject_kind, subject_id, meter, hour, value, taken_at)
SELECT k, i, m, date_trunc('hour', %s::timestamptz), v, %s
FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[]) AS u(k, i, m, v)
ON CONFLICT DO NOTHING
"""

INSERT_OCCURRENCE = """
INSERT INTO predictive.plan_occurrences (plan_id, subject_kind, subject_id, due_key, event_id,
    basis, due_at, emitted_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING event_id
"""


async def insert_plan(conn: psycopg.AsyncConnection, values: dict[str, Any]) -> dict[str, Any]:
    columns = [c for c in PLAN_COLUMNS if c in values]
    sql = (
        f"INSERT INTO predictive.plans ({', '.join(columns)}) "  # constant names only
        f"VALUES ({', '.join(['%s'] * len(columns))}) RETURNING *"
    )
    row = await _one(conn, sql, [_param(c, values[c]) for c in columns])
    assert row is not None
    return row


async def update_plan(
    conn: psycopg.AsyncConnection, plan_id: int, changes: dict[str, Any]
) -> dict[str, Any] | None:
    columns = [c for c in PLAN_COLUMNS if c in changes]
    assignments = ", ".join([*(f"{c} = %s" for c in columns), "updated_at = now()"])
    sql = f"UPDATE predictive.plans SET {assignments} WHERE id = %s RETURNING *"
    return await _one(conn, sql, [*(_param(c, changes[c]) for c in columns), plan_id])


async def get_plan(conn: psycopg.AsyncConnection, plan_id: int) -> dict[str, Any] | None:
    return await _one(conn, "SELECT * FROM predictive.plans WHERE id = %s", [plan_id])


async def get_plan_for_update(conn: psycopg.AsyncConnection, plan_id: int) -> dict[str, Any] | None:
    return await _one(conn, "SELECT * FROM predictive.plans WHERE id = %s FOR UPDATE", [plan_id])


async def list_plans(
    conn: psycopg.AsyncConnection, *, enabled_only: bool = False
) -> list[dict[str, Any]]:
    sql = "SELECT * FROM predictive.plans WHERE enabled OR NOT %s ORDER BY id"
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, (enabled_only,))
        return await cur.fetchall()


async def delete_plan(conn: psycopg.AsyncConnection, plan_id: int) -> bool:
    cur = await conn.execute("DELETE FROM predictive.plans WHERE id = %s", (plan_id,))
    return cur.rowcount > 0


async def plan_units(
    conn: psycopg.AsyncConnection, plan_ids: Sequence[int]
) -> dict[Unit, datetime]:
    """Every registered unit each plan covers, with when the unit was registered."""
    cur = await conn.execute(PLAN_UNITS, {"ids": list(plan_ids)})
    return {Unit(int(p), str(k), str(i)): at for p, k, i, at in await cur.fetchall()}


async def plans_for_subject(
    conn: psycopg.AsyncConnection, subject_kind: str, subject_id: str
) -> list[dict[str, Any]]:
    """Enabled plans covering one unit (by its id or, for equipment, its model)."""
    sql = """
        SELECT p.* FROM predictive.plans p WHERE p.enabled AND (
            (p.target_kind = %(kind)s AND p.target_id = %(id)s)
            OR (%(kind)s = 'equipment' AND p.target_kind = 'equipment_model' AND p.target_id =
                (SELECT model FROM assets.equipment WHERE id = %(id)s)))
        ORDER BY p.id
    """
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, {"kind": subject_kind, "id": subject_id})
        return await cur.fetchall()


async def latest_anchors(
    conn: psycopg.AsyncConnection, plan_ids: Sequence[int]
) -> dict[Unit, tuple[Anchor, str]]:
    """Each unit's newest anchor per plan, with its source (start, ticket or manual)."""
    cur = await conn.execute(LATEST_ANCHORS, (list(plan_ids),))
    return {
        Unit(int(plan), kind, subject): (Anchor(done_at, hours, km), source)
        for plan, kind, subject, done_at, hours, km, source in await cur.fetchall()
    }


async def insert_anchor(
    conn: psycopg.AsyncConnection,
    unit: Unit,
    anchor: Anchor,
    *,
    source: str,
    ticket_id: int | None = None,
    recorded_by: str | None = None,
) -> None:
    params = (*unit, anchor.done_at, anchor.hours_run, anchor.odometer_km, source)
    await conn.execute(INSERT_ANCHOR, (*params, ticket_id, recorded_by))


async def fill_start_meters(conn: psycopg.AsyncConnection, unit: Unit, anchor: Anchor) -> None:
    """Give a start anchor the meters it lacked (the unit had reported none yet)."""
    await conn.execute(
        "UPDATE predictive.plan_anchors SET hours_run = coalesce(hours_run, %s), "
        "odometer_km = coalesce(odometer_km, %s) WHERE plan_id = %s AND subject_kind = %s "
        "AND subject_id = %s AND source = 'start'",
        (anchor.hours_run, anchor.odometer_km, *unit),
    )


async def new_completions(
    conn: psycopg.AsyncConnection,
) -> list[tuple[int, Unit, datetime]]:
    """Completed plan tickets not yet taken as anchors: (ticket id, unit, completed at)."""
    cur = await conn.execute(NEW_COMPLETIONS)
    return [
        (int(ticket), Unit(int(plan), "equipment", unit), done)
        for ticket, plan, unit, done in await cur.fetchall()
    ]


async def open_plan_tickets(
    conn: psycopg.AsyncConnection, plan_ids: Iterable[int]
) -> set[tuple[int, str]]:
    """(plan id, equipment id) of every open maintenance ticket of these plans."""
    causes = [f"plan:{plan_id}" for plan_id in plan_ids]
    cur = await conn.execute(OPEN_PLAN_TICKETS, (causes, list(CLOSED_STATUSES)))
    return {(int(plan), str(unit)) for plan, unit in await cur.fetchall()}


async def meters_of(
    conn: psycopg.AsyncConnection, subjects: Sequence[Subject]
) -> dict[Subject, dict[str, float]]:
    """Current meter values per subject."""
    cur = await conn.execute(METERS, ([s[0] for s in subjects], [s[1] for s in subjects]))
    found: dict[Subject, dict[str, float]] = {}
    for kind, subject, meter, value in await cur.fetchall():
        found.setdefault((kind, subject), {})[meter] = float(value)
    return found


async def oldest_samples(
    conn: psycopg.AsyncConnection, subjects: Sequence[Subject], *, since: datetime
) -> dict[tuple[str, str, str], tuple[datetime, float]]:
    """The oldest meter sample since a moment, per subject and meter."""
    params = ([s[0] for s in subjects], [s[1] for s in subjects], since)
    cur = await conn.execute(OLDEST_SAMPLES, params)
    return {(k, i, m): (at, float(v)) for k, i, m, at, v in await cur.fetchall()}


async def samples_around(
    conn: psycopg.AsyncConnection, subject: Subject, meter: str, at: datetime
) -> list[tuple[datetime, float]]:
    """The samples just before and just after a moment, in time order."""
    sql = """
        (SELECT taken_at, value FROM predictive.meter_samples WHERE subject_kind = %(k)s
         AND subject_id = %(i)s AND meter = %(m)s AND taken_at <= %(at)s
         ORDER BY taken_at DESC LIMIT 1)
        UNION ALL
        (SELECT taken_at, value FROM predictive.meter_samples WHERE subject_kind = %(k)s
         AND subject_id = %(i)s AND meter = %(m)s AND taken_at > %(at)s
         ORDER BY taken_at LIMIT 1)
        ORDER BY 1
    """
    cur = await conn.execute(sql, {"k": subject[0], "i": subject[1], "m": meter, "at": at})
    return [(taken_at, float(value)) for taken_at, value in await cur.fetchall()]


async def record_samples(
    conn: psycopg.AsyncConnection, meters: dict[Subject, dict[str, float]], *, now: datetime
) -> None:
    """Keep the first sample of the hour of every meter given."""
    rows = [(k, i, m, v) for (k, i), values in meters.items() for m, v in values.items()]
    columns = [list(column) for column in zip(*rows, strict=True)] if rows else [[], [], [], []]
    await conn.execute(RECORD_SAMPLES, (now, now, *columns))


async def prune_samples(conn: psycopg.AsyncConnection, *, before: datetime) -> None:
    await conn.execute("DELETE FROM predictive.meter_samples WHERE taken_at < %s", (before,))


async def claim_occurrence(
    conn: psycopg.AsyncConnection,
    unit: Unit,
    *,
    due_key: str,
    event_id: str,
    basis: str,
    due_at: datetime | None,
    now: datetime,
) -> bool:
    """Record an occurrence; False if it was recorded before (its event went out then)."""
    params = (*unit, due_key, event_id, basis, due_at, now)
    cur = await conn.execute(INSERT_OCCURRENCE, params)
    return await cur.fetchone() is not None


async def subject_exists(conn: psycopg.AsyncConnection, kind: str, subject_id: str) -> bool:
    table = {"equipment": "assets.equipment", "vehicle": "assets.vehicles"}[kind]
    cur = await conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE id = %s)", (subject_id,))
    row = await cur.fetchone()
    return bool(row and row[0])


async def count_model_units(conn: psycopg.AsyncConnection, model: str) -> int:
    cur = await conn.execute("SELECT count(*) FROM assets.equipment WHERE model = %s", (model,))
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _one(
    conn: psycopg.AsyncConnection, sql: str, params: Sequence[Any]
) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql.encode(), params)
        return await cur.fetchone()


def _param(column: str, value: Any) -> Any:
    return Jsonb(value) if column in JSON_COLUMNS else value
