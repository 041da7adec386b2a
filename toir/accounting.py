"""Where every message went: stored rows, records on Kafka topics, dead letters by
reason, consumer lag.

Topics are counted by reading them, not from partition end offsets: Tansu's high
watermarks lag behind what it actually serves when producers send batches, so the
offsets of the records themselves are the only trustworthy end.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import orjson
import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition

from kernel import topics
from kernel.dlq import reason_of
from kernel.urls import kafka_client_options

POLL_MS = 500
IDLE_POLLS = 2


def stored_rows(database_url: str, *, since: datetime) -> int:
    """Readings plus positions with a device timestamp at or after `since`."""
    sql = """
        SELECT (SELECT count(*) FROM telemetry.readings WHERE ts >= %(since)s)
             + (SELECT count(*) FROM telemetry.positions WHERE ts >= %(since)s)
    """
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql, {"since": since}).fetchone()
    return int(row[0]) if row else 0


@dataclass
class TopicScan:
    """What one read of a topic found."""

    since: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)
    ends: dict[TopicPartition, int] = field(default_factory=dict)


async def scan(kafka_url: str, topic: str, *, since_ms: int = 0, packed: bool = False) -> TopicScan:
    """Read a whole topic; count records produced at or after `since_ms` (and by DLQ reason).

    `packed`: a telemetry topic, whose Kafka messages may each hold many records (a pack).
    """
    consumer = AIOKafkaConsumer(**kafka_client_options(kafka_url), enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in await _partitions(consumer, topic)]
        result = TopicScan(ends=dict.fromkeys(parts, 0))
        if parts:
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            await _read_until_idle(consumer, result, since_ms, packed)
        return result
    finally:
        await consumer.stop()


async def _read_until_idle(
    consumer: AIOKafkaConsumer, result: TopicScan, since_ms: int, packed: bool
) -> None:
    idle = 0
    while idle < IDLE_POLLS:
        batches = await consumer.getmany(timeout_ms=POLL_MS, max_records=10_000)
        idle = 0 if batches else idle + 1
        for part, records in batches.items():
            result.ends[part] = records[-1].offset + 1
            for record in records:
                if record.timestamp >= since_ms:
                    result.since += _records_in(record.value) if packed else 1
                    result.by_reason[reason_of(record.headers)] += 1


def _records_in(value: bytes | None) -> int:
    """A telemetry value holds one record, or a JSON array of them."""
    if value is None or not value.startswith(b"["):
        return 1
    members = orjson.loads(value)
    return len(members) if isinstance(members, list) else 1


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    parts: set[int] = consumer.partitions_for_topic(topic) or set()
    if not parts:
        await consumer._client.force_metadata_update()
        parts = consumer.partitions_for_topic(topic) or set()
    return parts


async def dead_letters(kafka_url: str, *, since_ms: int = 0) -> Counter[str]:
    """Dead letters produced at or after `since_ms`, counted by reason."""
    return (await scan(kafka_url, topics.DLQ, since_ms=since_ms)).by_reason


async def ingested(kafka_url: str, *, since_ms: int = 0) -> tuple[int, dict[TopicPartition, int]]:
    """Records on the telemetry topics since `since_ms`, and each partition's true end."""
    total, ends = 0, {}
    for topic in (topics.READINGS, topics.POSITIONS):
        found = await scan(kafka_url, topic, since_ms=since_ms, packed=True)
        total += found.since
        ends.update(found.ends)
    return total, ends


async def consumer_lag(kafka_url: str, group_id: str, ends: dict[TopicPartition, int]) -> int:
    """Records up to `ends` not yet committed by the group."""
    # A consumer in the group that never subscribes only reads the committed offsets
    # (OffsetFetch); it never joins, so it does not disturb the running workers.
    consumer = AIOKafkaConsumer(
        **kafka_client_options(kafka_url), group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return sum([end - (await consumer.committed(part) or 0) for part, end in ends.items()])
    finally:
        await consumer.stop()
