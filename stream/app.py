"""The faust application factory: the stream process's composition root."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import faust

from kernel import topics
from kernel.db import create_pool
from kernel.dlq import DeadLetter
from kernel.observability import observe_stream
from kernel.settings import Settings
from kernel.urls import kafka_bootstrap, kafka_tls_context, kafka_uses_tls
from stream.field import agent as field_agent
from stream.handlers import PersistHandler
from stream.health import agent as health_agent
from stream.persist import BatchExtension, TelemetryWriter
from stream.platform import agent as platform_agent
from stream.repository import prepare_connection
from stream.rollups.extension import RollupExtension
from stream.rollups.timers import register_storage_maintenance
from stream.state.extension import state_extension
from stream.state.timers import register_silence_check
from stream.timers import every
from tickets import agent as tickets_agent
from tickets.field import agent as tickets_field_agent

log = logging.getLogger(__name__)

COMMIT_INTERVAL_S = 1.0
STATS_INTERVAL_S = 10.0


def create_app(settings: Settings) -> faust.App:
    """Build the faust app with every agent wired to its dependencies."""
    assert settings.kafka_url and settings.database_url
    app = faust.App(
        settings.stream_group_id,
        broker=f"kafka://{kafka_bootstrap(settings.kafka_url)}",
        broker_credentials=_broker_credentials(settings.kafka_url),
        value_serializer="raw",
        key_serializer="raw",
        web_enabled=False,
        autodiscover=False,
        datadir=str(settings.data_dir / "faust"),
        store="memory://",
        topic_partitions=settings.kafka_partitions,
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=COMMIT_INTERVAL_S,
        stream_buffer_maxsize=settings.stream_buffer_size,
        consumer_max_fetch_size=settings.stream_partition_fetch_bytes,
        # Tansu (and small dev clusters) otherwise hold the first group join ~30 s.
        broker_rebalance_timeout=settings.kafka_rebalance_timeout_s,
        broker_session_timeout=settings.kafka_session_timeout_s,
        broker_heartbeat_interval=settings.kafka_session_timeout_s / 6,
    )
    # Each persist agent (readings, positions) may hold a connection per lane at once.
    pool = create_pool(
        settings.database_url,
        max_size=2 + 2 * settings.stream_write_lanes,
        name="stream",
        configure=prepare_connection,
    )
    writer = TelemetryWriter(pool, batch_extensions(settings), lanes=settings.stream_write_lanes)
    send_dead_letters = _dead_letter_sender(app)
    handler = PersistHandler(writer, send_dead_letters)
    observe_stream(app, handler, pool)
    _register_persist_agents(app, settings, handler)
    register_storage_maintenance(app, pool, settings)
    tickets_agent.register(app, settings, send_dead_letters)
    field_agent.register(app, settings, pool, send_dead_letters)
    tickets_field_agent.register(app, settings, pool, send_dead_letters)
    health_agent.register(app, settings, pool, send_dead_letters)
    register_silence_check(app, settings)
    platform_agent.register(app, settings, pool)

    _register_stats(app, handler)
    return app


def _broker_credentials(kafka_url: str) -> faust.SSLCredentials | None:
    return faust.SSLCredentials(kafka_tls_context()) if kafka_uses_tls(kafka_url) else None


def batch_extensions(settings: Settings) -> list[BatchExtension]:
    """What runs inside every telemetry batch's transaction, in order."""
    return [RollupExtension(), state_extension(settings)]


def _register_persist_agents(app: faust.App, settings: Settings, handler: PersistHandler) -> None:
    readings = app.topic(topics.READINGS, value_type=bytes)
    positions = app.topic(topics.POSITIONS, value_type=bytes)
    size, within = settings.stream_batch_size, settings.stream_batch_wait_s

    # Each batch is acknowledged (so its offsets become committable) only when the
    # handler returns, and the handler returns only once the batch is in the database.
    @app.agent(readings, name="persist_readings")
    async def persist_readings(stream: Any) -> None:
        async for values in stream.take(size, within=within):
            await handler.handle_readings(values)

    @app.agent(positions, name="persist_positions")
    async def persist_positions(stream: Any) -> None:
        async for values in stream.take(size, within=within):
            await handler.handle_positions(values)


def _register_stats(app: faust.App, handler: PersistHandler) -> None:
    async def log_stats() -> None:
        c = handler.counters
        log.info(
            "stream: %d consumed, %d stored, %d duplicates, rejected %s",
            c.consumed,
            c.stored,
            c.duplicates,
            dict(c.rejected),
        )

    every(app, STATS_INTERVAL_S, log_stats)


def _dead_letter_sender(app: faust.App) -> Any:
    dlq = app.topic(topics.DLQ, value_type=bytes)

    async def send(letters: Sequence[DeadLetter]) -> None:
        futures = [
            await dlq.send(value=letter.payload, headers=letter.headers()) for letter in letters
        ]
        for future in futures:
            await future

    return send
