"""The platform facts in the stream worker: the dead-letter counter (a consumer group of its
own, see stream.platform.counter) and the consumer-lag sampler. Wired by `register`."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

import faust
from psycopg_pool import AsyncConnectionPool

from kernel import topics
from kernel.clock import utcnow
from kernel.group_consumer import GroupSettings
from kernel.settings import Settings
from predictive.settings import load_health_settings
from stream.health.agent import GROUP_SUFFIX as ANOMALIES_GROUP_SUFFIX
from stream.platform.counter import DeadLetterCounter
from stream.platform.lag import GroupTopics
from stream.platform.sampler import expose, sample_consumer_lag
from stream.platform.settings import PlatformSettings, load_platform_settings
from stream.timers import every
from tickets.consumer import GROUP_SUFFIX as TICKETS_GROUP_SUFFIX

log = logging.getLogger(__name__)

# The dead-letter counter's consumer group: the stream's group id with this suffix.
DEAD_LETTERS_GROUP_SUFFIX: Final = "-dead-letters"


def register(app: faust.App, settings: Settings, pool: AsyncConnectionPool) -> DeadLetterCounter:
    """Add the dead-letter counter and the lag sampler to the stream app."""
    platform = load_platform_settings()
    counter = DeadLetterCounter(pool, _counter_settings(settings, platform), topic=topics.DLQ)
    app.task(counter.run)
    _register_lag_sampler(app, settings, platform, pool)
    return counter


def _counter_settings(settings: Settings, platform: PlatformSettings) -> GroupSettings:
    assert settings.kafka_url
    return GroupSettings(
        kafka_url=settings.kafka_url,
        group_id=f"{settings.stream_group_id}{DEAD_LETTERS_GROUP_SUFFIX}",
        batch_size=platform.dead_letter_batch_size,
        batch_wait_s=platform.dead_letter_batch_wait_s,
        session_timeout_s=settings.kafka_session_timeout_s,
        rebalance_timeout_s=settings.kafka_rebalance_timeout_s,
    )


def _register_lag_sampler(
    app: faust.App, settings: Settings, platform: PlatformSettings, pool: AsyncConnectionPool
) -> None:
    assert settings.kafka_url
    kafka_url = settings.kafka_url
    keep = timedelta(days=platform.consumer_lag_retention_days)

    async def sample_lag() -> None:
        # Only the leader samples, however many workers run; the others clear the gauge,
        # which they may have filled while they led.
        if not app.is_leader():
            expose([])
            return
        groups = consumer_groups(app, settings)
        await sample_consumer_lag(
            pool=pool, kafka_url=kafka_url, groups=groups, now=utcnow(), keep=keep
        )

    every(app, platform.consumer_lag_interval_s, sample_lag)


def consumer_groups(app: faust.App, settings: Settings) -> list[GroupTopics]:
    """The consumer groups the stream worker runs, with the topics each reads."""
    group = settings.stream_group_id
    # The faust agents share the app's group; their topics as they were declared.
    channels = [agent.channel for agent in app.agents.values()]
    agent_topics = sorted({t for channel in channels for t in getattr(channel, "topics", ())})
    groups = [
        GroupTopics(group, tuple(agent_topics)),
        GroupTopics(f"{group}{DEAD_LETTERS_GROUP_SUFFIX}", (topics.DLQ,)),
        GroupTopics(f"{group}{TICKETS_GROUP_SUFFIX}", (topics.EVENTS,)),
    ]
    if load_health_settings().stream_anomaly_detection:
        groups.append(GroupTopics(f"{group}{ANOMALIES_GROUP_SUFFIX}", (topics.READINGS,)))
    return groups
