"""SQL the health endpoint reads: the unit, its anomaly history and its latest readings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from predictive.training.repository import Readings, to_readings

EQUIPMENT = """
SELECT id, model, installed_on, engineer_id FROM assets.equipment WHERE id = %s
"""

ANOMALIES = """
SELECT kind, severity, score, opened_at, cleared_at FROM predictive.anomalies
WHERE equipment_id = %s AND (opened_at >= %s OR cleared_at IS NULL)
ORDER BY opened_at DESC
"""

LATEST_READINGS = """
SELECT (extract(epoch FROM r.ts) * 1000000)::int8, r.running, r.metrics
FROM telemetry.readings r JOIN assets.devices d ON d.id = r.device_id
WHERE d.equipment_id = %s AND r.ts > %s
ORDER BY r.ts DESC LIMIT %s
"""


async def equipment(conn: psycopg.AsyncConnection, equipment_id: str) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(EQUIPMENT, (equipment_id,))
        return await cur.fetchone()


async def anomalies(
    conn: psycopg.AsyncConnection, equipment_id: str, *, since: datetime
) -> list[dict[str, Any]]:
    """Anomalies opened since a moment, and any still open, newest first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(ANOMALIES, (equipment_id, since))
        return await cur.fetchall()


async def latest_readings(
    conn: psycopg.AsyncConnection, equipment_id: str, *, since: datetime, count: int
) -> Readings:
    """The unit's newest readings (at most count, not before since), oldest first."""
    cur = await conn.execute(LATEST_READINGS, (equipment_id, since, count))
    rows = await cur.fetchall()
    return to_readings([(equipment_id, int(r[0]), r[1], r[2]) for r in reversed(rows)])
