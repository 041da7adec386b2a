"""Field control of each batch of positions, free of faust so tests drive it directly.

Per batch, in one transaction: read the checkpoints of devices new to this worker, feed the
fixes to their trackers, end what event time says is over, and write checkpoints, visits,
trips, engineers' positions and the resulting events (into the outbox). After the commit the
events go to toir.events and leave the outbox. A checkpoint written meanwhile by another
worker (a rebalance) refuses ours: the batch is rolled back and run again from the rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool

from devices.records import Position, encode
from kernel import topics
from kernel.clock import now_us
from kernel.db import ensure_open
from kernel.dlq import DeadLetter, RejectReason
from stream.field import outbox, storage
from stream.field.events import FieldEvent, SiteEntered, SiteLeft, TripCompleted, to_domain_event
from stream.field.registry import DeviceLink, FieldRegistry
from stream.field.settings import FieldSettings
from stream.field.trackers import US_PER_S, FieldTrackers
from stream.packed import in_steps, positions_in

log = logging.getLogger(__name__)

RETRY_FIRST_DELAY_S = 0.5
RETRY_MAX_DELAY_S = 15.0
MAX_STALE_ATTEMPTS = 5
OUTBOX_SWEEP_LIMIT = 1000
# Positions handled in one transaction: a batch of packed values can hold very many.
POSITIONS_PER_STEP = 5_000

Publish = Callable[[Sequence[tuple[str, bytes]]], Awaitable[None]]  # (key, value) pairs
SendDeadLetters = Callable[[Sequence[DeadLetter]], Awaitable[None]]
Tracked = list[tuple[Position, DeviceLink]]
Linked = list[tuple[FieldEvent, DeviceLink]]
EventT = TypeVar("EventT", SiteEntered, SiteLeft, TripCompleted)


class StaleState(Exception):
    """Another worker wrote these devices' checkpoints since this one read them."""


@dataclass
class FieldCounters:
    consumed: int = 0
    tracked: int = 0
    stale_retries: int = 0
    failed_batches: int = 0
    events: Counter[str] = field(default_factory=Counter)


class FieldHandler:
    """Turns batches of positions into stored visits and trips and published events."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        settings: FieldSettings,
        publish: Publish,
        send_dead_letters: SendDeadLetters,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._publish = publish
        self._send_dead_letters = send_dead_letters
        self.registry = FieldRegistry()
        self.trackers = FieldTrackers(settings.visit_config(), settings.trip_config())
        self.counters = FieldCounters()
        self._started = False
        self._event_now_us: int | None = None  # event time: the newest fix seen, capped
        self._expired_at_us: int | None = None

    async def handle(self, values: Sequence[bytes]) -> None:
        """Process one batch; never raises (a failed step is dead-lettered and counted)."""
        for step in in_steps(values, positions_in, max_records=POSITIONS_PER_STEP):
            # What cannot be decoded the persist agent dead-letters.
            self.counters.consumed += len(step.records) + len(step.bad)
            if step.records:
                await self._handle_step(step.records)

    async def _handle_step(self, positions: list[Position]) -> None:
        try:
            await self._until_database_answers(positions)
        except Exception as exc:  # a bug or a refused row must not stop the partition
            log.exception("field: a batch of %d positions failed", len(positions))
            self.counters.failed_batches += 1
            detail = f"field control: {type(exc).__name__}: {exc}"
            await self._send_dead_letters([_dead_letter(p, detail) for p in positions])

    async def refresh_registry(self) -> None:
        """Re-read sites and device links (the periodic job)."""
        await ensure_open(self._pool)
        async with self._pool.connection() as conn:
            await self.registry.refresh(conn)

    async def sweep_outbox(self) -> int:
        """Publish events a stopped worker left in the outbox; how many (the periodic job)."""
        await ensure_open(self._pool)
        async with self._pool.connection() as conn:
            messages = await outbox.older_than(
                conn, self._settings.outbox_sweep_s, limit=OUTBOX_SWEEP_LIMIT
            )
        await self._send(messages)
        return len(messages)

    async def _until_database_answers(self, positions: list[Position]) -> None:
        # An outage delays field control; it must not skip fixes (the trackers need them all).
        delay_s = RETRY_FIRST_DELAY_S
        while True:
            try:
                return await self._handle(positions)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                log.warning("field: database unavailable (%s); retrying in %.1f s", exc, delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RETRY_MAX_DELAY_S)

    async def _handle(self, positions: list[Position]) -> None:
        await ensure_open(self._pool)
        await self._start_once()
        if self.registry.links_stale_for(p.device_id for p in positions):
            async with self._pool.connection() as conn:
                await self.registry.read_links(conn)
        links = self.registry.links
        positions.sort(key=lambda p: p.ts_us)  # the trackers drop a fix older than the last
        tracked = [(p, link) for p in positions if (link := links.get(p.device_id))]
        self._advance_event_time(positions)
        if tracked or self._expiry_due():
            self.counters.tracked += len(tracked)
            await self._send(await self._apply_until_done(tracked))

    async def _start_once(self) -> None:
        # Devices with a visit or trip open are read at once, so expiry can end them even if
        # they never report again; the others are read when they do.
        if self._started:
            return
        async with self._pool.connection() as conn:
            await self.registry.refresh(conn)
            self.trackers.restore(await storage.load_states(conn))
        self._started = True
        log.info("field: %d device(s) with a visit or trip open restored", len(self.trackers))

    def _advance_event_time(self, positions: list[Position]) -> None:
        # Capped by the wall clock: one device with its clock a day ahead must not end every
        # other device's visit.
        newest = min(positions[-1].ts_us, now_us())
        self._event_now_us = max(self._event_now_us or newest, newest)

    async def _apply_until_done(self, tracked: Tracked) -> list[outbox.Message]:
        attempts = 1
        while True:
            try:
                return await self._apply(tracked)
            except StaleState as exc:
                self.counters.stale_retries += 1
                log.info("field: devices %s moved to this worker; re-reading them", exc)
                if attempts == MAX_STALE_ATTEMPTS:
                    raise
                attempts += 1

    async def _apply(self, tracked: Tracked) -> list[outbox.Message]:
        expiring = self._expiry_due()
        async with self._pool.connection() as conn:
            try:
                async with conn.transaction():
                    missing = self.trackers.missing(p.device_id for p, _ in tracked)
                    if missing:
                        self.trackers.restore(await storage.load_states(conn, missing))
                    events = self._track(tracked, expiring)
                    messages = await self._write(conn, tracked, events)
            except BaseException:
                self.trackers.rolled_back()
                raise
        self.trackers.committed()
        if expiring:
            self._expired_at_us = self._event_now_us
        self.counters.events.update(type(event).__name__ for event, _ in events)
        return messages

    def _expiry_due(self) -> bool:
        if self._event_now_us is None:
            return False
        step_us = self._settings.expire_step_s * US_PER_S
        return self._expired_at_us is None or self._event_now_us - self._expired_at_us >= step_us

    def _track(self, tracked: Tracked, expiring: bool) -> Linked:
        index = self.registry.index
        events: Linked = []
        for position, link in tracked:
            events += [(e, link) for e in self.trackers.observe(position, link, index)]
        if expiring:
            assert self._event_now_us is not None
            expired = self.trackers.expire(self._event_now_us, index)
            events += [(e, self._link(e.device_id)) for e in expired]
        return events

    def _link(self, device_id: str) -> DeviceLink:
        # A device unregistered since its visit began still has its visit ended and stored.
        found = self.registry.links.get(device_id)
        return found or DeviceLink(device_id, None, None, (), trips=False)

    async def _write(
        self, conn: psycopg.AsyncConnection, tracked: Tracked, events: Linked
    ) -> list[outbox.Message]:
        states = self.trackers.dirty_states()
        refused = {s.device_id for s in states} - await storage.save_states(conn, states)
        if refused:
            raise StaleState(", ".join(sorted(refused)))
        await storage.insert_entered(conn, _of_type(events, SiteEntered))
        await storage.record_left(conn, _of_type(events, SiteLeft))
        await storage.insert_trips(conn, _of_type(events, TripCompleted))
        await storage.move_engineers(conn, self._engineer_fixes(tracked))
        messages = [_message(event, link) for event, link in events]
        await outbox.add(conn, messages)
        return messages

    def _engineer_fixes(self, tracked: Tracked) -> list[tuple[str, float, float, int]]:
        """The newest usable fix of each engineer in the batch (tracked is in time order)."""
        max_accuracy_m = self._settings.max_accuracy_m
        newest: dict[str, tuple[str, float, float, int]] = {}
        for p, link in tracked:
            if p.accuracy_m is None or p.accuracy_m <= max_accuracy_m:
                for engineer_id in link.engineer_ids:
                    newest[engineer_id] = (engineer_id, p.lat, p.lon, p.ts_us)
        return list(newest.values())

    async def _send(self, messages: Sequence[outbox.Message]) -> None:
        if not messages:
            return
        try:
            await self._publish([(key, value) for _, key, value in messages])
            async with self._pool.connection() as conn:
                await outbox.remove(conn, [event_id for event_id, _, _ in messages])
        except Exception:  # stored in the outbox: the sweep publishes them later
            log.exception("field: %d event(s) left in the outbox", len(messages))


def _message(event: FieldEvent, link: DeviceLink) -> outbox.Message:
    domain_event = to_domain_event(event, link.subject())
    return (event.event_id, domain_event.subject.id, domain_event.to_json())


def _of_type(events: Linked, kind: type[EventT]) -> list[tuple[EventT, DeviceLink]]:
    return [(event, link) for event, link in events if isinstance(event, kind)]


def _dead_letter(position: Position, detail: str) -> DeadLetter:
    reason = RejectReason.DB_REJECTED
    return DeadLetter(encode(position), topics.POSITIONS, reason, detail, now_us())
