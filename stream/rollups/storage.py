"""Storage upkeep without TimescaleDB: partitions ahead, retention, closed days reordered."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from psycopg_pool import AsyncConnectionPool

from stream.rollups import repository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpkeepDone:
    dropped: list[str]  # expired partitions
    reordered: list[date]  # UTC days whose hourly rollups were rewritten in key order


async def run_storage_upkeep(
    *, pool: AsyncConnectionPool, ahead_days: int, reorder_after_days: int
) -> UpkeepDone:
    """The stream's periodic upkeep: partitions and retention, then closed days reordered."""
    dropped = await run_storage_maintenance(pool=pool, ahead_days=ahead_days)
    reordered = await reorder_closed_days(pool=pool, closed_after_days=reorder_after_days)
    return UpkeepDone(dropped, reordered)


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


async def reorder_closed_days(*, pool: AsyncConnectionPool, closed_after_days: int) -> list[date]:
    """Reorder every closed day not yet reordered, one transaction each; never raises.

    Each day holds the stream's rollup upserts back while it is rewritten, so days are
    committed one at a time and the stream writes in between. A failure leaves the rest
    for the next run; the days already done stay done.
    """
    done: list[date] = []
    try:
        await pool.open()
        while (day := await _reorder_one(pool, closed_after_days)) is not None:
            done.append(day)
    except Exception as exc:  # a timer must outlive any one failure
        log.warning("reordering closed rollup days failed (%s); retrying at the next run", exc)
    if done:
        log.info("rollups reordered for %s", ", ".join(d.isoformat() for d in done))
    return done


async def _reorder_one(pool: AsyncConnectionPool, closed_after_days: int) -> date | None:
    async with pool.connection() as conn:  # commits on leaving
        return await repository.reorder_next_closed_day(conn, closed_after_days=closed_after_days)
