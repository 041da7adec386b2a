"""Sampling consumer lag into telemetry.consumer_lag and the Prometheus gauge, and dropping
samples past their retention."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from prometheus_client import Gauge
from psycopg_pool import AsyncConnectionPool

from kernel import metrics
from kernel.db import ensure_open
from stream.platform import repository
from stream.platform.lag import GroupTopics, LagSample, lag_samples
from stream.platform.offsets import committed_offsets, partition_bounds

CONSUMER_GROUP_LAG = Gauge(
    "toir_consumer_group_lag",
    "Records not yet committed, per consumer group and partition, as last sampled "
    "(only the worker that samples, the group's leader, reports it).",
    ["group", "topic", "partition"],
    registry=metrics.REGISTRY,
)


async def measure_lag(kafka_url: str, groups: Sequence[GroupTopics]) -> list[LagSample]:
    """Every group's lag on every partition of the topics it reads.

    Partition ends are read first, then each group's commits: a group that commits in
    between shows a few records less lag (never below zero) than it had at the end.
    """
    starts, ends = await partition_bounds(kafka_url, {t for g in groups for t in g.topics})
    samples: list[LagSample] = []
    for group in groups:
        parts = [tp for tp in ends if tp.topic in group.topics]
        committed = await committed_offsets(kafka_url, group.group_id, parts)
        samples += lag_samples(group.group_id, ends, starts, committed)
    return samples


async def sample_consumer_lag(
    *,
    pool: AsyncConnectionPool,
    kafka_url: str,
    groups: Sequence[GroupTopics],
    now: datetime,
    keep: timedelta,
) -> list[LagSample]:
    """Measure, store and expose the lag; drop stored samples older than `keep`."""
    samples = await measure_lag(kafka_url, groups)
    await ensure_open(pool)
    async with pool.connection() as conn, conn.transaction():
        if samples:
            await repository.record_lag(conn, observed_at=now, samples=samples)
        await repository.delete_old_lag(conn, now=now, keep=keep)
    expose(samples)
    return samples


def expose(samples: Sequence[LagSample]) -> None:
    """Replace the gauge's samples (a partition no longer read disappears)."""
    CONSUMER_GROUP_LAG.clear()
    for s in samples:
        CONSUMER_GROUP_LAG.labels(s.group_id, s.topic, str(s.partition)).set(s.lag)
