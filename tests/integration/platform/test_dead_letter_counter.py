"""Dead letters counted from a real Kafka-compatible broker into PostgreSQL, each once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from kernel import topics
from kernel.db import create_pool, ensure_open
from kernel.dlq import RejectReason
from kernel.group_consumer import GroupSettings
from stream.platform.counter import DeadLetterCounter
from stream.platform.dead_letters import Letter
from tests.integration.platform.kafka_factories import (
    Produced,
    create_topic,
    dead_letter,
    produce_dead_letters,
)
from toir.devstack import start_kafka

T0_MS = 1_764_000_000_000  # 2025-11-24 16:00:00 UTC
MINUTE_0 = datetime(2025, 11, 24, 16, 0, tzinfo=UTC)
MINUTE_1 = datetime(2025, 11, 24, 16, 1, tzinfo=UTC)
GROUP = "toir-stream-dead-letters"
TELEMETRY = "toir/v1/devices/+/telemetry"
WAIT_S = 60.0

Row = tuple[datetime, str, str, int]


def settings(kafka_url: str, group_id: str = GROUP) -> GroupSettings:
    return GroupSettings(
        kafka_url=kafka_url,
        group_id=group_id,
        batch_size=100,
        batch_wait_s=0.2,
        session_timeout_s=6.0,
        rebalance_timeout_s=3.0,
    )


def rows(database_url: str) -> list[Row]:
    with psycopg.connect(database_url) as conn:
        found = conn.execute(
            "SELECT bucket, source_topic, reason, messages FROM telemetry.dead_letter_counts "
            "ORDER BY 1, 2, 3"
        ).fetchall()
    return [(b, s, r, int(m)) for b, s, r, m in found]


def total(database_url: str) -> int:
    return sum(m for *_, m in rows(database_url))


async def count_until(
    database_url: str, kafka_url: str, expected: int, *, group_id: str = GROUP
) -> DeadLetterCounter:
    """Run a counter until the database holds `expected` dead letters in all, then stop it."""
    pool = create_pool(database_url, max_size=2, name="test")
    counter = DeadLetterCounter(pool, settings(kafka_url, group_id), topic=topics.DLQ)
    task = asyncio.create_task(counter.run())
    try:
        deadline = time.monotonic() + WAIT_S
        while (found := await asyncio.to_thread(total, database_url)) < expected:
            assert not task.done(), "the counter stopped"
            assert time.monotonic() < deadline, f"{found} of {expected} counted"
            await asyncio.sleep(0.1)
        return counter
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pool.close()


def produced(
    source: str, reason: RejectReason, *, partition: int = 0, at_ms: int = T0_MS, times: int = 1
) -> list[Produced]:
    return [Produced(dead_letter(source, reason), partition, at_ms + i) for i in range(times)]


def test_dead_letters_are_counted_per_minute_source_and_reason(
    database_url: str, kafka_url: str
) -> None:
    letters = [
        *produced("toir/v1/devices/a/telemetry", RejectReason.INVALID_JSON, times=3),
        *produced("toir/v1/devices/b/telemetry", RejectReason.INVALID_JSON, partition=1),
        *produced("toir/v1/devices/b/telemetry", RejectReason.NOT_FINITE, partition=1, times=2),
        *produced("http:osmand", RejectReason.OUT_OF_RANGE, at_ms=T0_MS + 60_000),
        *produced(topics.READINGS, RejectReason.DB_REJECTED, partition=1, at_ms=T0_MS + 61_000),
    ]

    async def run() -> DeadLetterCounter:
        await create_topic(kafka_url, topics.DLQ, 2)
        await produce_dead_letters(kafka_url, topics.DLQ, letters)
        return await count_until(database_url, kafka_url, len(letters))

    counter = asyncio.run(run())

    assert rows(database_url) == [
        (MINUTE_0, TELEMETRY, "invalid_json", 4),
        (MINUTE_0, TELEMETRY, "not_finite", 2),
        (MINUTE_1, "http:osmand", "out_of_range", 1),
        (MINUTE_1, topics.READINGS, "db_rejected", 1),
    ]
    assert counter.counted == 8


def test_dead_letters_read_again_after_a_restart_are_not_counted_twice(
    database_url: str, kafka_url: str
) -> None:
    first = produced("toir/v1/devices/a/telemetry", RejectReason.INVALID_JSON, times=5)
    later = produced("toir/v1/devices/a/telemetry", RejectReason.INVALID_JSON, partition=1)

    async def run() -> DeadLetterCounter:
        await create_topic(kafka_url, topics.DLQ, 2)
        await produce_dead_letters(kafka_url, topics.DLQ, first)
        await count_until(database_url, kafka_url, 5)
        # A group with no offsets in Kafka, as if the worker had died before committing
        # any: it reads everything again.
        await produce_dead_letters(kafka_url, topics.DLQ, later)
        return await count_until(database_url, kafka_url, 6, group_id=f"{GROUP}-again")

    counter = asyncio.run(run())

    assert rows(database_url) == [(MINUTE_0, TELEMETRY, "invalid_json", 6)]
    assert counter.counted == 1


def test_two_owners_counting_the_same_letters_at_once_count_them_once(
    database_url: str,
) -> None:
    letters = [
        Letter(0, offset, T0_MS, tuple(p.letter.headers()))
        for offset, p in enumerate(produced("http:osmand", RejectReason.TS_TOO_OLD, times=50))
    ]

    async def run() -> None:
        pool = create_pool(database_url, max_size=2, name="test")
        await ensure_open(pool)
        try:
            # The old owner of a partition still finishing a batch the new one reads too.
            old = DeadLetterCounter(pool, settings("kafka://127.0.0.1:9"), topic=topics.DLQ)
            new = DeadLetterCounter(pool, settings("kafka://127.0.0.1:9"), topic=topics.DLQ)
            await asyncio.gather(old.count(letters), new.count(letters[10:]))
            await new.count(letters[40:])
        finally:
            await pool.close()

    asyncio.run(run())

    assert rows(database_url) == [(MINUTE_0, "http:osmand", "ts_too_old", 50)]


@pytest.mark.parametrize("new_letters", [3, 8], ids=["shorter", "longer"])
def test_a_topic_made_anew_is_counted_from_its_start(
    database_url: str, kafka_url: str, tmp_path: Path, new_letters: int
) -> None:
    """The dev broker keeps topics in memory: after its restart the counts go on."""
    before = produced("toir/v1/devices/a/telemetry", RejectReason.INVALID_JSON, times=5)
    after = produced(
        "toir/v1/devices/a/telemetry",
        RejectReason.NOT_FINITE,
        at_ms=T0_MS + 3_600_000,
        times=new_letters,
    )
    asyncio.run(_count_on(database_url, kafka_url, before, 5))
    restarted = start_kafka(tmp_path / "kafka-restarted")
    try:
        counter = asyncio.run(_count_on(database_url, restarted.url, after, 5 + new_letters))
    finally:
        restarted.stop()

    assert [(r, m) for _, _, r, m in rows(database_url)] == [
        ("invalid_json", 5),
        ("not_finite", new_letters),
    ]
    assert (counter.counted, counter.restarted_partitions) == (new_letters, 1)


async def _count_on(
    database_url: str, kafka_url: str, letters: Sequence[Produced], expected: int
) -> DeadLetterCounter:
    await create_topic(kafka_url, topics.DLQ, 1)
    await produce_dead_letters(kafka_url, topics.DLQ, letters)
    return await count_until(database_url, kafka_url, expected)
