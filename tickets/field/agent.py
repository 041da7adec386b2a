"""The tickets side of field control in the stream worker: SiteEntered and SiteLeft events on
toir.events move and annotate tickets. Wired into the faust app by `register`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import faust
import psycopg
from psycopg_pool import AsyncConnectionPool

from kernel import topics
from kernel.clock import now_us
from kernel.db import ensure_open
from kernel.dlq import DeadLetter, RejectReason
from kernel.errors import DomainError
from kernel.events import DomainEvent, EventDecodeError, SiteEntered, SiteLeft, from_json
from kernel.settings import Settings
from tickets.field.arrivals import apply_visit_event

log = logging.getLogger(__name__)

EVENT_BATCH: Final = 100
EVENT_BATCH_WAIT_S: Final = 0.2
RETRY_FIRST_DELAY_S: Final = 0.5
RETRY_MAX_DELAY_S: Final = 15.0
VISIT_EVENTS: Final = (SiteEntered, SiteLeft)

SendDeadLetters = Callable[[Sequence[DeadLetter]], Awaitable[None]]


class VisitEventHandler:
    """Applies each visit event in its own transaction; a bad one is dead-lettered."""

    def __init__(self, pool: AsyncConnectionPool, send_dead_letters: SendDeadLetters) -> None:
        self._pool = pool
        self._send_dead_letters = send_dead_letters
        self.applied = 0
        self.tickets_changed = 0

    async def handle(self, values: Sequence[bytes]) -> None:
        letters = [letter for value in values if (letter := await self._one(value))]
        if letters:
            await self._send_dead_letters(letters)

    async def _one(self, value: bytes) -> DeadLetter | None:
        try:
            event = from_json(value)
        except EventDecodeError:
            return None  # not ours to judge: the tickets agent dead-letters malformed events
        if not isinstance(event, VISIT_EVENTS):
            return None
        try:
            changed = await self._apply_until_done(event)
        except (KeyError, ValueError, DomainError) as exc:
            return _rejected(value, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug must not stop the partition; the event is kept
            log.exception("visit event handling failed")
            return _rejected(value, f"{type(exc).__name__}: {exc}")
        self.applied += 1
        self.tickets_changed += len(changed)
        return None

    async def _apply_until_done(self, event: DomainEvent) -> list[int]:
        delay_s = RETRY_FIRST_DELAY_S
        while True:
            try:
                await ensure_open(self._pool)
                async with self._pool.connection() as conn, conn.transaction():
                    return await apply_visit_event(conn=conn, event=event)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                log.warning("database unavailable (%s); retrying in %.1f s", exc, delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RETRY_MAX_DELAY_S)


def _rejected(value: bytes, detail: str) -> DeadLetter:
    return DeadLetter(value, topics.EVENTS, RejectReason.EVENT_REJECTED, detail, now_us())


def register(
    app: faust.App, settings: Settings, pool: AsyncConnectionPool, send: SendDeadLetters
) -> VisitEventHandler:
    """Add the visits-to-tickets agent on toir.events to the stream app."""
    handler = VisitEventHandler(pool, send)
    events = app.topic(topics.EVENTS, value_type=bytes)

    @app.agent(events, name="tickets_from_visits")
    async def tickets_from_visits(stream: Any) -> None:
        async for values in stream.take(EVENT_BATCH, within=EVENT_BATCH_WAIT_S):
            await handler.handle(values)

    return handler
