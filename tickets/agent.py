"""The tickets side of the stream worker: events become tickets (a consumer group of its own,
see tickets.consumer), the outbox relay delivers notifications, and the SLA watch reacts to
deadlines; all on a thread and event loop of their own (tickets.worker_thread), away from
the telemetry agents. Wired into the faust app by `register`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool

from kernel import topics
from kernel.clock import now_us, utcnow
from kernel.db import create_pool
from kernel.dlq import DeadLetter, RejectReason
from kernel.errors import DomainError
from kernel.group_consumer import GroupSettings
from kernel.settings import Settings
from kernel.urls import parse_mqtt_url
from stream.timers import every
from tickets.assign import assign_ticket
from tickets.consumer import GROUP_SUFFIX, consume_events
from tickets.escalation import SlaEvent, watch
from tickets.from_events import open_from_event
from tickets.notify.channels import MqttChannel
from tickets.notify.relay import Relay
from tickets.worker_thread import WorkerThread

log = logging.getLogger(__name__)

EVENT_BATCH = 100
EVENT_BATCH_WAIT_S = 0.2
# Events, the relay and the SLA watch: one connection each at most.
POOL_SIZE = 3
RELAY_INTERVAL_S = 0.5
RETRY_FIRST_DELAY_S = 0.5
RETRY_MAX_DELAY_S = 15.0

SendDeadLetters = Callable[[Sequence[DeadLetter]], Awaitable[None]]


class EventHandler:
    """Applies each event in its own transaction; a bad one is dead-lettered, never fatal."""

    def __init__(
        self, pool: AsyncConnectionPool, send_dead_letters: SendDeadLetters, relay: Relay
    ) -> None:
        self._pool = pool
        self._send_dead_letters = send_dead_letters
        self._relay = relay
        self.opened = 0
        self.assigned = 0

    async def handle(self, values: Sequence[bytes]) -> None:
        letters = [letter for value in values if (letter := await self._one(value))]
        if letters:
            await self._send_dead_letters(letters)

    async def _one(self, value: bytes) -> DeadLetter | None:
        try:
            event = orjson.loads(value)
            if not isinstance(event, dict):
                raise ValueError("an event is a JSON object")
            await self._apply_until_done(event)
            return None
        except (ValueError, DomainError) as exc:
            return _rejected(value, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug must not stop the partition; the event is kept
            log.exception("event handling failed")
            return _rejected(value, f"{type(exc).__name__}: {exc}")

    async def _apply_until_done(self, event: dict[str, Any]) -> None:
        delay_s = RETRY_FIRST_DELAY_S
        while True:
            try:
                return await self._apply(event)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                log.warning("database unavailable (%s); retrying in %.1f s", exc, delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RETRY_MAX_DELAY_S)

    async def _apply(self, event: dict[str, Any]) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            outcome = await open_from_event(conn=conn, event=event)
            if not outcome.opened or outcome.ticket is None:
                return
            # Opened in this very transaction: the ticket in hand is the one stored.
            ticket = await assign_ticket(conn=conn, ticket=outcome.ticket, now=utcnow())
        # Committed: the relay delivers while the next event is applied.
        self._relay.wake()
        self.opened += 1
        self.assigned += ticket.assignee_id is not None


def _rejected(value: bytes, detail: str) -> DeadLetter:
    return DeadLetter(value, topics.EVENTS, RejectReason.EVENT_REJECTED, detail, now_us())


class TicketsWorker:
    """The tickets side of the stream worker on a thread and loop of its own (see
    tickets.worker_thread): the events consumer, the outbox relay, and the SLA watch runs.

    Its pool is its own too: telemetry batches holding every connection of the worker's
    pool must not keep a ticket from being opened or a notification from going out.
    """

    def __init__(self, settings: Settings, send_dead_letters: SendDeadLetters) -> None:
        assert settings.database_url
        self._settings = settings
        self._send_dead_letters = send_dead_letters  # faust's producer: the worker's loop
        self._consumer = _consumer_settings(settings)
        self._mqtt = _mqtt_channel(settings)
        self._pool: AsyncConnectionPool | None = None
        self.thread = WorkerThread("toir-tickets", self._run)

    async def _run(self) -> None:
        assert self._settings.database_url
        pool = create_pool(self._settings.database_url, max_size=POOL_SIZE, name="stream-tickets")
        await pool.open()  # connections come in the background; each use waits for one
        relay = Relay(pool, self._mqtt)
        handler = EventHandler(pool, self._dead_letters, relay)
        self._pool = pool
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(consume_events(self._consumer, handler.handle))
                group.create_task(relay.run_every(RELAY_INTERVAL_S))
        finally:
            self._pool = None
            await pool.close()

    async def _dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        async def send() -> None:
            await self._send_dead_letters(letters)

        await self.thread.call_owner(send())

    async def watch_slas(self) -> list[SlaEvent]:
        """One SLA watch run (on the thread); the events it emitted, to announce."""
        if self._pool is None:
            return []  # not started yet: the next run comes soon enough
        async with self._pool.connection() as conn:
            return await watch(conn=conn, now=utcnow(), risk_share=self._settings.sla_risk_share)


def register(app: faust.App, settings: Settings, send: SendDeadLetters) -> TicketsWorker:
    """Start the tickets side with the worker, and run the SLA watch on the leader."""
    worker = TicketsWorker(settings, send)
    app.task(worker.thread.serve)
    events = app.topic(topics.EVENTS, value_type=bytes)

    async def watch_slas() -> None:
        emitted = await worker.thread.call(worker.watch_slas())
        for event in emitted:  # after commit: the reaction is stored before it is announced
            body = event.to_json()
            await events.send(key=body["subject"]["id"].encode(), value=orjson.dumps(body))

    # Leader only: one worker watches, however many run.
    every(app, settings.sla_watch_interval_s, watch_slas, on_leader=True)
    return worker


def _mqtt_channel(settings: Settings) -> MqttChannel | None:
    if not settings.mqtt_url:
        return None
    return MqttChannel(parse_mqtt_url(settings.mqtt_url), client_id=settings.notify_client_id)


def _consumer_settings(settings: Settings) -> GroupSettings:
    assert settings.kafka_url
    return GroupSettings(
        kafka_url=settings.kafka_url,
        group_id=f"{settings.stream_group_id}{GROUP_SUFFIX}",
        batch_size=EVENT_BATCH,
        batch_wait_s=EVENT_BATCH_WAIT_S,
        session_timeout_s=settings.kafka_session_timeout_s,
        rebalance_timeout_s=settings.kafka_rebalance_timeout_s,
    )
