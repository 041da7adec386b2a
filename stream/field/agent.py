"""Field control in the stream worker: the positions agent and its periodic jobs.

Wired into the faust app by `register`, called from `stream.app.create_app`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import faust
from psycopg_pool import AsyncConnectionPool

from kernel import topics
from kernel.settings import Settings
from stream.field.handler import FieldHandler, SendDeadLetters
from stream.field.settings import load_field_settings
from stream.timers import every

log = logging.getLogger(__name__)

STATS_INTERVAL_S = 60.0


def register(
    app: faust.App, settings: Settings, pool: AsyncConnectionPool, send: SendDeadLetters
) -> FieldHandler:
    """Add the field-control agent on the positions topic, and its timers, to the stream app."""
    field_settings = load_field_settings()
    events = app.topic(topics.EVENTS, value_type=bytes)

    async def publish(messages: Sequence[tuple[str, bytes]]) -> None:
        futures = [await events.send(key=key.encode(), value=value) for key, value in messages]
        for future in futures:
            await future

    handler = FieldHandler(pool, field_settings, publish, send)
    positions = app.topic(topics.POSITIONS, value_type=bytes)
    size, within = settings.stream_batch_size, settings.stream_batch_wait_s

    # A second agent on the positions topic: it sees every position the persist agent does,
    # and a batch counts as processed only once both have handled it.
    @app.agent(positions, name="field_positions")
    async def field_positions(stream: Any) -> None:
        async for values in stream.take(size, within=within):
            await handler.handle(values)

    every(app, field_settings.registry_refresh_s, handler.refresh_registry)
    # Leader only: one sweeper is enough, and fewer duplicates reach the consumers.
    every(app, field_settings.outbox_sweep_s, handler.sweep_outbox, on_leader=True)

    async def log_field_stats() -> None:
        _log_stats(handler)

    every(app, STATS_INTERVAL_S, log_field_stats)
    return handler


def _log_stats(handler: FieldHandler) -> None:
    c = handler.counters
    log.info(
        "field: %d consumed, %d tracked, %d devices, events %s, %d stale retries, %d failed",
        c.consumed,
        c.tracked,
        len(handler.trackers),
        dict(c.events),
        c.stale_retries,
        c.failed_batches,
    )
