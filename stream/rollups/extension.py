"""The rollup BatchExtension: raw rows and their rollups commit in one transaction."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from devices.records import Position, Reading
from stream.rollups import repository
from stream.rollups.aggregate import fold_positions, fold_readings


class RollupExtension:
    """Folds each batch's new rows into the rollup tables, unless TimescaleDB does it.

    It sees only rows the batch inserted, so a redelivered or duplicated row is never
    counted twice, and rows arriving out of order just extend older buckets.
    """

    def __init__(self) -> None:
        self._by_stream: bool | None = None  # asked once: the schema cannot switch live

    async def on_readings(self, conn: psycopg.AsyncConnection, new: Sequence[Reading]) -> None:
        if new and await self._maintained_here(conn):
            units, metrics = fold_readings(new)
            await repository.upsert_unit_hours(conn, units)
            await repository.upsert_metric_hours(conn, metrics)

    async def on_positions(self, conn: psycopg.AsyncConnection, new: Sequence[Position]) -> None:
        if new and await self._maintained_here(conn):
            await repository.upsert_vehicle_days(conn, fold_positions(new))

    async def _maintained_here(self, conn: psycopg.AsyncConnection) -> bool:
        if self._by_stream is None:
            self._by_stream = await repository.rollups_maintained_by_stream(conn)
        return self._by_stream
