"""The tickets consumer group on toir.events, run in the stream worker on the tickets thread.

Why not a faust agent (as it first was): faust reads every topic of the worker through one
consumer and hands each fetched message to its agents' buffers in turn. Under a telemetry
backlog the readings buffers are full, that hand-over waits for them, and a ticket event
fetched behind readings waits too. Measured with `toir bench loop` (docs/benchmarks.md):
events took 0.5 to 0.7 s to reach the tickets code with no load at all, and under ingest
load most were not notified within 30 s. A group of its own (`<stream group>-tickets`)
fetches toir.events alone, so a telemetry backlog never stands between an event and its
ticket (and tickets.worker_thread keeps the telemetry event loop out of the way too).

Exactly-once effect, as before: each event is applied in a transaction of its own that first
claims its event_id (a redelivered event changes nothing), and a batch's offsets are
committed only after every event in it is applied or dead-lettered. A new group (the first
start after an upgrade) reads what toir.events still holds; events already applied are
recognised by their event_id and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError, IllegalStateError

from kernel import topics
from kernel.urls import kafka_client_options

log = logging.getLogger(__name__)

GROUP_SUFFIX = "-tickets"
RESTART_DELAY_S = 5.0
# The broker answers a fetch as soon as an event arrives; this only bounds an idle poll.
FETCH_MAX_WAIT_MS = 100

Handle = Callable[[Sequence[bytes]], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class EventsConsumerSettings:
    """Where to read and how to batch; timeouts as the faust app's own (Tansu needs short)."""

    kafka_url: str  # kafka:// or kafkas://
    group_id: str
    batch_size: int
    batch_wait_s: float
    session_timeout_s: float
    rebalance_timeout_s: float


async def consume_events(settings: EventsConsumerSettings, handle: Handle) -> None:
    """Hand batches of events to `handle`, committing after each; until cancelled."""
    while True:
        consumer = _consumer(settings)
        try:
            await consumer.start()
            await _loop(consumer, settings, handle)
        except asyncio.CancelledError:
            raise
        except Exception:  # the broker went away: start over rather than stop ticketing
            log.exception("tickets consumer failed; restarting in %.0f s", RESTART_DELAY_S)
            await asyncio.sleep(RESTART_DELAY_S)
        finally:
            await consumer.stop()


async def _loop(
    consumer: AIOKafkaConsumer, settings: EventsConsumerSettings, handle: Handle
) -> None:
    timeout_ms = int(settings.batch_wait_s * 1000)
    while True:
        batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=settings.batch_size)
        values = [r.value for records in batches.values() for r in records if r.value is not None]
        if values:
            # The handler applies or dead-letters every event and returns; it raises only
            # when cancelled, and then nothing is committed.
            await handle(values)
        if batches:
            await _commit(consumer)


async def _commit(consumer: AIOKafkaConsumer) -> None:
    try:
        await consumer.commit()
    except (CommitFailedError, IllegalStateError) as exc:
        # A rebalance took the partitions away meanwhile: their new owner reads the batch
        # again, and the event_ids already claimed make that a no-op.
        log.warning("tickets consumer could not commit (%s); the batch will be redelivered", exc)


def _consumer(settings: EventsConsumerSettings) -> AIOKafkaConsumer:
    session_ms = int(settings.session_timeout_s * 1000)
    return AIOKafkaConsumer(
        topics.EVENTS,
        **kafka_client_options(settings.kafka_url),
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=max(100, session_ms // 6),
        rebalance_timeout_ms=int(settings.rebalance_timeout_s * 1000),
    )
