"""Batch handlers for the telemetry topics, free of faust so tests can drive them directly."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic

from devices.records import Position, Reading, encode
from kernel import topics
from kernel.clock import now_us
from kernel.dlq import DeadLetter, RejectReason
from stream.lanes import LaneChains
from stream.packed import Unpacked, in_steps, positions_in, readings_in
from stream.persist import TelemetryWriter
from stream.repository import RowT
from stream.results import WriteResult

log = logging.getLogger(__name__)

SendDeadLetters = Callable[[Sequence[DeadLetter]], Awaitable[None]]
# Rows decoded and written at a time (one transaction): a batch of packed values can hold
# hundreds of thousands, and the event loop must get a turn between steps.
ROWS_PER_STEP = 10_000
# Steps submitted and not yet finished: the next is decoded while these are written.
STEPS_IN_FLIGHT = 2


@dataclass
class StreamCounters:
    consumed: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


class PersistHandler:
    """Decodes a batch of Kafka values, stores it, and dead-letters what cannot be stored."""

    def __init__(self, writer: TelemetryWriter, send_dead_letters: SendDeadLetters) -> None:
        self._writer = writer
        self._send_dead_letters = send_dead_letters
        self.counters = StreamCounters()

    async def handle_readings(self, values: Sequence[bytes]) -> None:
        steps = in_steps(values, readings_in, max_records=ROWS_PER_STEP)
        await self._pipelined(steps, self._writer.readings_chains(), topics.READINGS)

    async def handle_positions(self, values: Sequence[bytes]) -> None:
        steps = in_steps(values, positions_in, max_records=ROWS_PER_STEP)
        await self._pipelined(steps, self._writer.positions_chains(), topics.POSITIONS)

    async def _pipelined(
        self, steps: Iterator[Unpacked[RowT]], chains: LaneChains[RowT], topic: str
    ) -> None:
        """Decode the next step while the ones before it are being written; finish steps in
        order, so dead letters and counters follow the batch's order."""
        in_flight: deque[_Step[RowT]] = deque()
        try:
            for step in steps:
                rows, letters = _decoded(step, topic)
                in_flight.append(_Step(rows, letters, chains.submit(rows)))
                if len(in_flight) >= STEPS_IN_FLIGHT:
                    await self._finish(in_flight.popleft(), topic)
            while in_flight:
                await self._finish(in_flight.popleft(), topic)
        finally:
            await _abandon(in_flight)

    async def _finish(self, step: _Step[RowT], topic: str) -> None:
        result = await step.written
        letters = step.letters
        undecodable = len(letters)
        letters += [_db_rejected(r.row, r.detail, topic) for r in result.rejected]
        if letters:
            await self._send_dead_letters(letters)
        # Records, not Kafka messages: a device's batch arrives as one message.
        self.counters.consumed += len(step.rows) + undecodable
        self.counters.stored += result.stored
        self.counters.duplicates += len(step.rows) - len(result.rejected) - result.stored
        self.counters.rejected.update(letter.reason.value for letter in letters)


@dataclass(frozen=True, slots=True)
class _Step(Generic[RowT]):
    rows: list[RowT]
    letters: list[DeadLetter]
    written: asyncio.Task[WriteResult[RowT]]


async def _abandon(in_flight: deque[_Step[RowT]]) -> None:
    """After a failure, stop the steps still being written: their batch is not acknowledged,
    so Kafka delivers it again and the rows already stored count as duplicates."""
    for step in in_flight:
        step.written.cancel()
    await asyncio.gather(*(step.written for step in in_flight), return_exceptions=True)


def _decoded(found: Unpacked[RowT], topic: str) -> tuple[list[RowT], list[DeadLetter]]:
    """The rows to store, and a dead letter for each value (or pack member) that is bad."""
    letters = [
        DeadLetter(
            bad.value,
            topic,
            RejectReason.UNDECODABLE_RECORD,
            bad.detail,
            now_us(),
            item_index=bad.member_index,
        )
        for bad in found.bad
    ]
    return found.records, letters


def _db_rejected(row: Reading | Position, detail: str, topic: str) -> DeadLetter:
    return DeadLetter(encode(row), topic, RejectReason.DB_REJECTED, detail, now_us())
