"""Writing batches of raw telemetry: idempotent, isolating rows the database refuses,
and waiting out database outages rather than dropping or skipping anything.

A batch is split by device into lanes written concurrently, one transaction each, so that
PostgreSQL stores one lane while this process prepares the next: written one after the
other, each waited for the other about half the time. A device's rows stay in one lane, so
its order is kept and no two lanes touch its raw rows, latest state or rollups. Meters
belong to the equipment or vehicle, which may have devices in two lanes: those lanes lock
the meter rows in key order, so one waits for the other and neither deadlocks. The batch
counts as written only when every lane is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, Protocol

import psycopg
from psycopg_pool import AsyncConnectionPool

from devices.records import Position, Reading
from kernel.db import ensure_open
from stream import repository
from stream.repository import RowT

log = logging.getLogger(__name__)

RETRY_FIRST_DELAY_S = 0.5
RETRY_MAX_DELAY_S = 15.0
MIN_ROWS_PER_LANE = 500
# Errors that condemn a row, not the database: bad data or a violated constraint.
ROW_ERRORS = (psycopg.errors.DataError, psycopg.errors.IntegrityError)

InsertFn = Callable[[psycopg.AsyncConnection, Sequence[RowT]], Awaitable[list[RowT]]]


class BatchExtension(Protocol):
    """Work done in the same transaction as a batch's insert, on the rows that were new.

    Latest state, meters and rollups hook in here, so they move exactly with the raw
    data: a redelivered batch inserts nothing new and so changes nothing twice.
    """

    async def on_readings(self, conn: psycopg.AsyncConnection, new: Sequence[Reading]) -> None:
        """Called with the readings the batch inserted."""

    async def on_positions(self, conn: psycopg.AsyncConnection, new: Sequence[Position]) -> None:
        """Called with the positions the batch inserted."""


@dataclass(frozen=True, slots=True)
class RejectedRow(Generic[RowT]):
    row: RowT
    detail: str


@dataclass
class WriteResult(Generic[RowT]):
    stored: int = 0
    rejected: list[RejectedRow[RowT]] = field(default_factory=list)


class TelemetryWriter:
    """Writes readings and positions; one instance per process, sharing a pool."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        extensions: Sequence[BatchExtension] = (),
        *,
        lanes: int = 1,
        min_rows_per_lane: int = MIN_ROWS_PER_LANE,
    ) -> None:
        if lanes < 1:
            raise ValueError(f"lanes must be at least 1, not {lanes}")
        self._pool = pool
        self._known_days: set[date] = set()
        self._extensions = tuple(extensions)
        self._lanes = lanes
        self._min_rows_per_lane = min_rows_per_lane

    async def write_readings(self, rows: Sequence[Reading]) -> WriteResult[Reading]:
        return await self._write_in_lanes(rows, self._insert_readings)

    async def write_positions(self, rows: Sequence[Position]) -> WriteResult[Position]:
        return await self._write_in_lanes(rows, self._insert_positions)

    async def _write_in_lanes(
        self, rows: Sequence[RowT], insert: InsertFn[RowT]
    ) -> WriteResult[RowT]:
        lanes = by_device(rows, self._lanes, self._min_rows_per_lane)
        if len(lanes) == 1:
            return await self._write_until_done(lanes[0], insert)
        results = await asyncio.gather(*(self._write_until_done(lane, insert) for lane in lanes))
        merged: WriteResult[RowT] = WriteResult()
        for result in results:
            merged.stored += result.stored
            merged.rejected += result.rejected
        return merged

    async def _insert_readings(
        self, conn: psycopg.AsyncConnection, rows: Sequence[Reading]
    ) -> list[Reading]:
        new = await repository.insert_readings(conn, rows)
        for extension in self._extensions:
            await extension.on_readings(conn, new)
        return new

    async def _insert_positions(
        self, conn: psycopg.AsyncConnection, rows: Sequence[Position]
    ) -> list[Position]:
        new = await repository.insert_positions(conn, rows)
        for extension in self._extensions:
            await extension.on_positions(conn, new)
        return new

    async def _write_until_done(
        self, rows: Sequence[RowT], insert: InsertFn[RowT]
    ) -> WriteResult[RowT]:
        delay_s = RETRY_FIRST_DELAY_S
        while True:
            try:
                return await self._write(rows, insert)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                log.warning("database unavailable (%s); retrying in %.1f s", exc, delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RETRY_MAX_DELAY_S)

    async def _write(self, rows: Sequence[RowT], insert: InsertFn[RowT]) -> WriteResult[RowT]:
        result: WriteResult[RowT] = WriteResult()
        if not rows:
            return result
        # Not open(wait=True): psycopg_pool's wait() asserts when two callers wait at once
        # (all connections busy), and on a timeout it closes the pool for good.
        await ensure_open(self._pool)
        async with self._pool.connection() as conn:
            await self._ensure_partitions(conn, rows)
            await _insert_isolating(conn, rows, insert, result)
        return result

    async def _ensure_partitions(self, conn: psycopg.AsyncConnection, rows: Sequence[RowT]) -> None:
        days = repository.days_of(rows) - self._known_days
        if days:
            await repository.ensure_partitions(conn, days)
            await conn.commit()
            self._known_days |= days


def by_device(rows: Sequence[RowT], lanes: int, min_rows_per_lane: int) -> list[Sequence[RowT]]:
    """The rows in at most `lanes` non-empty groups, every device's rows in one, in order.

    A small batch stays whole: a lane of a few rows costs more round trips than it saves.
    """
    if lanes == 1 or len(rows) < min_rows_per_lane * lanes:
        return [rows]
    groups: list[list[RowT]] = [[] for _ in range(lanes)]
    for row in rows:
        groups[hash(row.device_id) % lanes].append(row)
    return [group for group in groups if group]


async def _insert_isolating(
    conn: psycopg.AsyncConnection,
    rows: Sequence[RowT],
    insert: InsertFn[RowT],
    result: WriteResult[RowT],
) -> None:
    """Insert all rows; if the database refuses the batch, bisect to find the bad rows."""
    try:
        async with conn.transaction():
            result.stored += len(await insert(conn, rows))
    except ROW_ERRORS as exc:
        if len(rows) == 1:
            result.rejected.append(RejectedRow(rows[0], f"{exc.sqlstate}: {exc}"))
            return
        middle = len(rows) // 2
        await _insert_isolating(conn, rows[:middle], insert, result)
        await _insert_isolating(conn, rows[middle:], insert, result)
