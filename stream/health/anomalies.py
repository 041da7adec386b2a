"""The anomaly agent's work per batch of readings, its checkpoints and model refreshes.

Per batch, in steps of a few thousand readings (a batch of packed values can hold very
many): decode, map devices to their equipment, reload units another worker may have moved
on, run the online detectors and the promoted multivariate models, then send an
AnomalyDetected per opening and record openings and clearings. Events go out before they
are recorded and a batch is acknowledged only after both, so a crash repeats (never loses)
an event, and the repeat carries the same event id. Checkpoints are taken between steps
only (one lock), so a saved state never includes readings whose events were not sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter
from typing import NamedTuple, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool

from devices.records import Reading
from kernel.db import ensure_open
from kernel.events import AnomalyDetected
from predictive.settings import HealthSettings
from predictive.store import ModelStore
from stream.health import repository
from stream.health.detection import DetectorSet
from stream.health.findings import Finding
from stream.health.multivariate import ModelScorer
from stream.health.repository import UnitInfo
from stream.health.units import UnitDirectory
from stream.packed import in_steps, readings_in

log = logging.getLogger(__name__)

SendEvents = Callable[[Sequence[AnomalyDetected]], Awaitable[None]]
T = TypeVar("T")
_METRICS = attrgetter("metrics")
_DEVICE_ID = attrgetter("device_id")
_EQUIPMENT_ID = attrgetter("equipment_id")
RETRY_FIRST_DELAY_S = 0.5
RETRY_MAX_DELAY_S = 15.0
# Readings decoded and scored at a time: a batch of packed values can hold hundreds of
# thousands, and the worker's other agents (and its heartbeats) must get a turn meanwhile.
# Not fewer: the detectors take one vectorised round per reading of a unit, so a step of
# devices sending fifty readings a message holds fifty rounds whatever its size, and a
# larger step puts more units in each round. 50 readings a message, flat out, one worker:
# the stream's CPU per reading 21.5 µs with steps of 5,000, 17.8 to 18.5 with 25,000 (about
# 60 ms of scoring per step), 19.2 with 50,000.
READINGS_PER_STEP = 25_000


@dataclass
class Counters:
    readings: int = 0
    not_equipment: int = 0
    opened: int = 0
    cleared: int = 0
    restored: int = 0


class AnomalyHandler:
    """Detectors, models and the unit directory of one stream worker."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        health: HealthSettings,
        send: SendEvents,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._send = send
        self._clock = clock
        self._detectors = DetectorSet(health.detector())
        self._scorer = ModelScorer(ModelStore(health.models_dir))
        self._units = UnitDirectory(health.anomaly_unit_cache_s)
        # Two checkpoints without a reading: this worker may no longer own the unit.
        self._stale_after_s = 2 * health.anomaly_checkpoint_interval_s
        self._lock = asyncio.Lock()
        self.counters = Counters()

    async def handle(self, values: Sequence[bytes]) -> list[Finding]:
        """Process one batch of Kafka values; the anomalies it opened and cleared.

        Undecodable values are skipped: persistence, reading the same topic, dead-letters them.
        """
        found: list[Finding] = []
        for step in in_steps(values, readings_in, max_records=READINGS_PER_STEP):
            found += await self._handle(_with_metrics(step.records))
            await asyncio.sleep(0)  # let the rest of the worker run between steps
        return found

    async def _handle(self, readings: list[Reading]) -> list[Finding]:
        if not readings:
            return []
        async with self._lock:
            now_s = self._clock()
            step = await self._resolve(readings, now_s)
            found = self._detectors.update(step.unit_ids, step.readings, now_s=now_s)
            found += self._scorer.update(step.units, step.readings)
            if found:
                await self._deliver(found)
        return found

    async def checkpoint(self) -> int:
        """Save the state of every unit updated since the last checkpoint; how many."""
        async with self._lock:
            rows = self._detectors.checkpoints()
            states = self._scorer.checkpoints()
        if rows or states:
            try:
                await self._once(lambda conn: _save(conn, rows, states))
            except Exception:
                self._detectors.forget_dirty(rows)
                self._scorer.forget_dirty(states)
                raise
        c = self.counters
        log.info(
            "anomalies: %d readings, %d not of equipment, %d opened, %d cleared, %d units "
            "(%d restored), %d checkpointed, %d multivariate states saved",
            c.readings,
            c.not_equipment,
            c.opened,
            c.cleared,
            self._detectors.units,
            c.restored,
            len(rows),
            len(states),
        )
        return len(rows)

    async def refresh_models(self) -> None:
        """Load newly promoted multivariate models (no restart needed)."""
        for name in self._scorer.stale_models(self._scorer.known_models()):
            model = await asyncio.to_thread(self._scorer.load, name)
            async with self._lock:
                self._scorer.install(name, model)

    async def _resolve(self, readings: list[Reading], now_s: float) -> OfEquipment:
        device_ids = list(map(_DEVICE_ID, readings))
        missing = self._units.missing(device_ids, now_s=now_s)
        if missing:
            found = await self._until_done(lambda conn: repository.units_of(conn, missing))
            self._units.learn(missing, found, now_s=now_s)
        step = _of_equipment(self._units.units_of(device_ids), readings)
        self.counters.readings += len(readings)
        self.counters.not_equipment += len(readings) - len(step.readings)
        stale = self._detectors.stale(step.unit_ids, now_s=now_s, after_s=self._stale_after_s)
        if stale:
            saved, states = await self._until_done(lambda conn: _load(conn, stale))
            self.counters.restored += self._detectors.restore(list(saved.values()))
            self._scorer.restore(states)
        return step

    async def _deliver(self, found: list[Finding]) -> None:
        opened = [f for f in found if f.opened]
        if opened:
            await self._send([f.event() for f in opened])
        await self._until_done(lambda conn: _record(conn, found))
        self.counters.opened += len(opened)
        self.counters.cleared += len(found) - len(opened)

    async def _once(self, op: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
        await ensure_open(self._pool)
        async with self._pool.connection() as conn:
            return await op(conn)

    async def _until_done(self, op: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
        # Holding the batch while the database is away keeps its offsets uncommitted.
        delay_s = RETRY_FIRST_DELAY_S
        while True:
            try:
                return await self._once(op)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                log.warning("database unavailable (%s); retrying in %.1f s", exc, delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RETRY_MAX_DELAY_S)


class OfEquipment(NamedTuple):
    """The readings of a step that come from equipment, with their units, index for index."""

    units: list[UnitInfo]
    unit_ids: list[str]
    readings: list[Reading]


# The helpers below run per reading of a step (tens of thousands): map, filter and compress
# do the work in C instead of a Python loop or comprehension.


def _with_metrics(readings: list[Reading]) -> list[Reading]:
    """The readings that carry metrics (an empty dict is falsy: nothing to score)."""
    return list(compress(readings, map(_METRICS, readings)))


def _of_equipment(units: list[UnitInfo | None], readings: list[Reading]) -> OfEquipment:
    """The readings whose device reports for a unit (None: it is not equipment)."""
    # A UnitInfo is a non-empty tuple, always truthy: filtering on truth drops just the None.
    known = list(filter(None, units))
    if len(known) < len(units):
        readings = list(compress(readings, units))
    return OfEquipment(known, list(map(_EQUIPMENT_ID, known)), readings)


async def _save(
    conn: psycopg.AsyncConnection,
    rows: Sequence[repository.Checkpoint],
    states: Sequence[repository.MultivariateState],
) -> None:
    # One transaction: a restarted worker never sees one layer's state without the other's.
    async with conn.transaction():
        if rows:
            await repository.save_checkpoints(conn, rows)
        if states:
            await repository.save_multivariate_states(conn, states)


async def _load(
    conn: psycopg.AsyncConnection, unit_ids: list[str]
) -> tuple[dict[str, repository.Checkpoint], list[repository.MultivariateState]]:
    saved = await repository.load_checkpoints(conn, unit_ids)
    return saved, await repository.load_multivariate_states(conn, unit_ids)


async def _record(conn: psycopg.AsyncConnection, found: list[Finding]) -> None:
    async with conn.transaction():
        opened = [f.row() for f in found if f.opened]
        cleared = [f.row() for f in found if not f.opened]
        if opened:
            await repository.record_opened(conn, opened)
        if cleared:
            await repository.record_cleared(conn, cleared)
