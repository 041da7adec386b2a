"""Wiring of the storage upkeep into the faust app."""

from __future__ import annotations

import faust
from psycopg_pool import AsyncConnectionPool

from kernel.settings import Settings
from stream.rollups.storage import run_storage_upkeep

# Partitions exist `partitions_ahead_days` ahead, so hourly is far more often than needed;
# it keeps retention within an hour of its horizon, and reorders a day within an hour of
# its closing.
STORAGE_MAINTENANCE_INTERVAL_S = 3600.0


def register_storage_maintenance(
    app: faust.App, pool: AsyncConnectionPool, settings: Settings
) -> None:
    """Run the storage upkeep once when the worker starts, then every hour."""
    ahead_days = settings.partitions_ahead_days
    after = settings.rollups_reorder_after_days

    async def upkeep() -> None:
        await run_storage_upkeep(pool=pool, ahead_days=ahead_days, reorder_after_days=after)

    app.task(upkeep)
    app.timer(interval=STORAGE_MAINTENANCE_INTERVAL_S, name="storage_maintenance")(upkeep)
