"""SQL of the silence check: devices quiet for longer than expected, and marking them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

# A device is silent once nothing new was stored from it for longer than its expected
# interval (its own, else its kind's). Each silence is reported once: the row remembers
# which last_received_at it was reported for, and new data moves last_received_at on.
LOCK_SILENT = """
SELECT s.device_id,
    CASE WHEN d.equipment_id IS NOT NULL THEN 'equipment'
         WHEN d.vehicle_id IS NOT NULL THEN 'vehicle' ELSE 'device' END AS subject_kind,
    coalesce(d.equipment_id, d.vehicle_id, d.id) AS subject_id,
    s.last_seen_at, s.last_received_at,
    coalesce(d.expected_interval_s, k.expected_interval_s) AS expected_interval_s
FROM telemetry.device_state s
JOIN assets.devices d ON d.id = s.device_id
JOIN assets.device_kinds k ON k.kind = d.kind
WHERE d.enabled
  AND s.silence_reported_for IS DISTINCT FROM s.last_received_at
  AND s.last_received_at
      + make_interval(secs => coalesce(d.expected_interval_s, k.expected_interval_s)) < %(now)s
ORDER BY s.device_id
LIMIT %(limit)s
FOR UPDATE OF s SKIP LOCKED
"""

MARK_REPORTED = """
UPDATE telemetry.device_state SET silence_reported_for = last_received_at
WHERE device_id = ANY(%s)
"""


@dataclass(frozen=True, slots=True)
class SilentDevice:
    device_id: str
    subject_kind: str
    subject_id: str
    last_seen_at: datetime
    last_received_at: datetime
    expected_interval_s: float


async def lock_silent(
    conn: psycopg.AsyncConnection, *, now: datetime, limit: int
) -> list[SilentDevice]:
    """Silent devices not reported yet, locked (others' locked rows are skipped)."""
    async with conn.cursor(row_factory=class_row(SilentDevice)) as cur:
        await cur.execute(LOCK_SILENT, {"now": now, "limit": limit})
        return await cur.fetchall()


async def mark_reported(conn: psycopg.AsyncConnection, device_ids: Sequence[str]) -> None:
    await conn.execute(MARK_REPORTED, (list(device_ids),))
