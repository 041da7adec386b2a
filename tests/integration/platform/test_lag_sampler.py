"""Consumer lag sampled from a real Kafka-compatible broker into PostgreSQL and the gauge."""

import asyncio
from datetime import timedelta

import psycopg
from aiokafka import TopicPartition

from kernel import metrics
from kernel.clock import utcnow
from kernel.db import create_pool
from stream.platform.lag import GroupTopics, LagSample
from stream.platform.sampler import sample_consumer_lag
from tests.integration.platform.kafka_factories import commit, create_topic, produce_in_batches

TOPIC = "platform.lag"
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
KEEP = timedelta(days=14)


async def _sample(database_url: str, kafka_url: str, groups: list[GroupTopics]) -> list[LagSample]:
    pool = create_pool(database_url, max_size=1, name="test")
    try:
        return await sample_consumer_lag(
            pool=pool, kafka_url=kafka_url, groups=groups, now=utcnow(), keep=KEEP
        )
    finally:
        await pool.close()


def _stored(database_url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT group_id, topic, partition, lag FROM telemetry.consumer_lag ORDER BY 1, 3"
        ).fetchall()


def test_a_groups_backlog_is_stored_and_exposed_as_lag_per_partition(
    database_url: str, kafka_url: str
) -> None:
    async def run() -> list[LagSample]:
        await create_topic(kafka_url, TOPIC, 2)
        # Batches of records: the case where Tansu's ListOffsets understates the end.
        await produce_in_batches(kafka_url, TOPIC, 0, batches=4, size=25)
        await produce_in_batches(kafka_url, TOPIC, 1, batches=2, size=10)
        await commit(kafka_url, "busy", {P0: 60, P1: 20})
        await commit(kafka_url, "idle", {P0: 3})
        groups = [GroupTopics("busy", (TOPIC,)), GroupTopics("idle", (TOPIC,))]
        return await _sample(database_url, kafka_url, groups)

    samples = asyncio.run(run())

    expected = [("busy", TOPIC, 0, 40), ("busy", TOPIC, 1, 0), ("idle", TOPIC, 0, 97)]
    # "idle" never committed partition 1: all of it (20 records) is its lag.
    expected.append(("idle", TOPIC, 1, 20))
    assert sorted((s.group_id, s.topic, s.partition, s.lag) for s in samples) == expected
    assert _stored(database_url) == expected
    labels = {"group": "busy", "topic": TOPIC, "partition": "0"}
    assert metrics.sample("toir_consumer_group_lag", labels) == 40


def test_samples_older_than_the_retention_are_deleted_and_newer_ones_kept(
    database_url: str, kafka_url: str
) -> None:
    with psycopg.connect(database_url) as conn:
        for age in (timedelta(days=15), timedelta(days=13)):
            conn.execute(
                "INSERT INTO telemetry.consumer_lag VALUES (now() - %s, 'old', %s, 0, 5)",
                (age, TOPIC),
            )

    async def run() -> list[LagSample]:
        await create_topic(kafka_url, TOPIC, 1)
        await produce_in_batches(kafka_url, TOPIC, 0, batches=1, size=5)
        await commit(kafka_url, "g", {P0: 5})
        return await _sample(database_url, kafka_url, [GroupTopics("g", (TOPIC,))])

    assert [s.lag for s in asyncio.run(run())] == [0]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT group_id, round(extract(epoch FROM now() - observed_at) / 86400) "
            "FROM telemetry.consumer_lag ORDER BY 2 DESC"
        ).fetchall()
    assert rows == [("old", 13), ("g", 0)]
