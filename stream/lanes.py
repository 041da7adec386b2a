"""A batch's steps in flight together, without reordering any device's rows.

A worker decodes a large batch in steps and writes each step as a few concurrent lane
transactions, split by device. Waiting for a whole step before starting the next left both
sides idle by turns: the worker while PostgreSQL finished the slowest lane, PostgreSQL while
the worker decoded and prepared the next step. Here each lane is a chain instead: a lane's
transaction for a step starts once the same lane's transaction for the previous step has
committed, whatever the other lanes are doing. A device always falls in the same lane, so
its rows, latest state and meters still move in order. A step too small to split waits for
every lane and is then what every lane's next transaction waits for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic

from stream.repository import RowT
from stream.results import WriteResult

WriteLane = Callable[[Sequence[RowT]], Awaitable[WriteResult[RowT]]]
WHOLE = -1  # the lane index of a step kept whole


class LaneChains(Generic[RowT]):
    """Submit steps in order; each submitted step's result resolves once all of it is written."""

    def __init__(self, write_lane: WriteLane[RowT], lanes: int, min_rows_per_lane: int) -> None:
        self._write_lane: WriteLane[RowT] = write_lane
        self._lanes = lanes
        self._min_rows_per_lane = min_rows_per_lane
        self._tails: list[asyncio.Task[WriteResult[RowT]] | None] = [None] * lanes

    def submit(self, rows: Sequence[RowT]) -> asyncio.Task[WriteResult[RowT]]:
        """Start writing a step behind the steps submitted before it."""
        parts = lane_parts(rows, self._lanes, self._min_rows_per_lane)
        return asyncio.ensure_future(_merged([self._chain(lane, part) for lane, part in parts]))

    def _chain(self, lane: int, rows: Sequence[RowT]) -> asyncio.Task[WriteResult[RowT]]:
        before = self._tails if lane == WHOLE else [self._tails[lane]]
        task = asyncio.ensure_future(self._after([t for t in before if t is not None], rows))
        if lane == WHOLE:
            self._tails = [task] * self._lanes
        else:
            self._tails[lane] = task
        return task

    async def _after(
        self, before: list[asyncio.Task[WriteResult[RowT]]], rows: Sequence[RowT]
    ) -> WriteResult[RowT]:
        # A failed predecessor fails this part too: writing past it would reorder a device.
        for task in before:
            await task
        return await self._write_lane(rows)


def lane_parts(
    rows: Sequence[RowT], lanes: int, min_rows_per_lane: int
) -> list[tuple[int, Sequence[RowT]]]:
    """(lane, rows) for each non-empty lane, every device's rows in its lane, in order; a
    small step stays whole (WHOLE): a lane of a few rows costs more round trips than it saves.
    """
    if lanes == 1 or len(rows) < min_rows_per_lane * lanes:
        return [(WHOLE, rows)] if rows else []
    groups: list[list[RowT]] = [[] for _ in range(lanes)]
    for row in rows:
        groups[hash(row.device_id) % lanes].append(row)
    return [(lane, group) for lane, group in enumerate(groups) if group]


async def _merged(parts: list[asyncio.Task[WriteResult[RowT]]]) -> WriteResult[RowT]:
    merged: WriteResult[RowT] = WriteResult()
    for result in await asyncio.gather(*parts):
        merged.stored += result.stored
        merged.rejected += result.rejected
    return merged
