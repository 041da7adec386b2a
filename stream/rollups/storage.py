"""Storage upkeep of natively partitioned telemetry: partitions ahead, retention."""

from __future__ import annotations

import logging

from psycopg_pool import AsyncConnectionPool

from stream.rollups import repository

log = logging.getLogger(__name__)


async def run_storage_maintenance(*, pool: AsyncConnectionPool, ahead_days: int) -> list[str]:
    """Create day partitions `ahead_days` ahead and drop expired ones; never raises.

    A failure (database down, a lock held) is logged and retried at the next run: the
    partitions already exist days ahead, so one missed run changes nothing.
    """
    try:
        await pool.open()  # not wait=True: see TelemetryWriter._write
        async with pool.connection() as conn:
            dropped = await repository.run_storage_maintenance(conn, ahead_days=ahead_days)
    except Exception as exc:  # a timer must outlive any one failure
        log.warning("storage maintenance failed (%s); retrying at the next run", exc)
        return []
    if dropped:
        log.info("retention dropped %d partition(s): %s", len(dropped), ", ".join(dropped))
    return dropped
