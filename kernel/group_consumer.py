"""A consumer group of its own on one topic, run as a task of a worker: each fetched batch is
handed to a handler and its offsets are committed once the handler returns (at least once);
a failure of the broker or the handler starts the consumer again, from the last commit.

For work that must not queue behind the worker's faust agents (stream.health.consumer,
tickets.consumer explain why each does not run as one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError, IllegalStateError

from kernel.urls import kafka_client_options

log = logging.getLogger(__name__)

RESTART_DELAY_S = 5.0

Handle = Callable[[Sequence[bytes]], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """Where to read and how to batch; timeouts as the faust app's own (Tansu needs short)."""

    kafka_url: str  # kafka:// or kafkas://
    group_id: str
    batch_size: int
    batch_wait_s: float
    session_timeout_s: float
    rebalance_timeout_s: float


async def consume_batches(
    topic: str, settings: GroupSettings, handle: Handle, *, name: str, **options: Any
) -> None:
    """Hand batches of the topic's values to `handle` until cancelled; never gives up.

    `options` go to AIOKafkaConsumer as they are (fetch sizes and waits).
    """
    while True:
        consumer = new_consumer(settings, topic, **options)
        try:
            await consumer.start()
            await _loop(consumer, settings, handle, name)
        except asyncio.CancelledError:
            raise
        except Exception:  # the broker went away, or the handler failed: start over
            log.exception("%s consumer failed; restarting in %.0f s", name, RESTART_DELAY_S)
            await asyncio.sleep(RESTART_DELAY_S)
        finally:
            await consumer.stop()


async def _loop(
    consumer: AIOKafkaConsumer, settings: GroupSettings, handle: Handle, name: str
) -> None:
    timeout_ms = int(settings.batch_wait_s * 1000)
    while True:
        batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=settings.batch_size)
        values = [r.value for records in batches.values() for r in records if r.value is not None]
        if values:
            await handle(values)
        if batches:
            await _commit(consumer, name)


async def _commit(consumer: AIOKafkaConsumer, name: str) -> None:
    try:
        await consumer.commit()
    except (CommitFailedError, IllegalStateError) as exc:
        # A rebalance took the partitions away meanwhile: their new owner reads the batch
        # again, and every handler here is idempotent to a redelivered batch.
        log.warning("%s consumer could not commit (%s); the batch will be redelivered", name, exc)


def new_consumer(settings: GroupSettings, *topics: str, **options: Any) -> AIOKafkaConsumer:
    """A consumer of the group, committing by hand, on these topics (or none yet: the caller
    subscribes with a rebalance listener of its own)."""
    session_ms = int(settings.session_timeout_s * 1000)
    return AIOKafkaConsumer(
        *topics,
        **kafka_client_options(settings.kafka_url),
        group_id=settings.group_id,
        enable_auto_commit=False,
        # As the stream app: a new group (or a partition never committed) starts from what
        # the topic still holds.
        auto_offset_reset="earliest",
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=max(100, session_ms // 6),
        rebalance_timeout_ms=int(settings.rebalance_timeout_s * 1000),
        **options,
    )
