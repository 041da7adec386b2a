"""Equipment health in the stream worker: anomaly detection on readings (a consumer group of
its own, see stream.health.consumer), its checkpoint and model-refresh timers, and the
leader-only maintenance plans check. Wired by `register`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

import faust
from psycopg_pool import AsyncConnectionPool

from kernel import topics
from kernel.clock import utcnow
from kernel.db import ensure_open
from kernel.dlq import DeadLetter
from kernel.events import DomainEvent
from kernel.group_consumer import GroupSettings
from kernel.settings import Settings
from predictive.plans.due import check_due
from predictive.settings import HealthSettings, load_health_settings
from stream.health.anomalies import AnomalyHandler
from stream.health.consumer import consume_readings
from stream.timers import every

log = logging.getLogger(__name__)

# The detectors' consumer group: the stream's group id with this suffix.
GROUP_SUFFIX = "-anomalies"
SendDeadLetters = Callable[[Sequence[DeadLetter]], Awaitable[None]]


def register(
    app: faust.App,
    settings: Settings,
    pool: AsyncConnectionPool,
    send_dead_letters: SendDeadLetters,
) -> AnomalyHandler | None:
    """Add the plans check and (unless switched off) anomaly detection to the stream app.

    Bad readings need no dead letter here: the persistence agent reading the same topic
    already sends each one there with its reason.
    """
    health = load_health_settings()
    send = _event_sender(app)
    _register_plans_check(app, health, pool, send)
    if not health.stream_anomaly_detection:
        log.info("anomaly detection is off (TOIR_STREAM_ANOMALY_DETECTION=false)")
        return None
    handler = AnomalyHandler(pool, health, send)
    consumer = _consumer_settings(settings, health)

    async def detect_anomalies() -> None:
        await consume_readings(consumer, handler.handle)

    app.task(detect_anomalies)
    every(app, health.anomaly_checkpoint_interval_s, handler.checkpoint)
    every(app, health.model_refresh_interval_s, handler.refresh_models)
    return handler


def _consumer_settings(settings: Settings, health: HealthSettings) -> GroupSettings:
    assert settings.kafka_url
    return GroupSettings(
        kafka_url=settings.kafka_url,
        group_id=f"{settings.stream_group_id}{GROUP_SUFFIX}",
        batch_size=health.anomaly_batch_size,
        batch_wait_s=health.anomaly_batch_wait_s,
        session_timeout_s=settings.kafka_session_timeout_s,
        rebalance_timeout_s=settings.kafka_rebalance_timeout_s,
    )


def _register_plans_check(
    app: faust.App,
    health: HealthSettings,
    pool: AsyncConnectionPool,
    send: Callable[[Sequence[DomainEvent]], Awaitable[None]],
) -> None:
    async def check_plans() -> None:
        await ensure_open(pool)
        async with pool.connection() as conn:
            sent = await check_due(
                conn=conn, now=utcnow(), send=send, usage_days=health.plans_usage_days
            )
        if sent:
            log.info("plans check: %d maintenance occurrence(s) fell due", len(sent))

    # Leader only: one worker checks, however many run.
    every(app, health.plans_check_interval_s, check_plans, on_leader=True)


def _event_sender(app: faust.App) -> Callable[[Sequence[DomainEvent]], Awaitable[None]]:
    events_topic = app.topic(topics.EVENTS, value_type=bytes)

    async def send(events: Sequence[DomainEvent]) -> None:
        futures = [
            await events_topic.send(key=e.subject.id.encode(), value=e.to_json()) for e in events
        ]
        for future in futures:
            await future  # delivered: the caller may now record them as sent

    return send
