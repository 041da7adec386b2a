"""Small helpers to put records and commits on a test's own Kafka-compatible broker, and to
read back what a topic holds."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from kernel.dlq import DeadLetter, RejectReason
from kernel.urls import kafka_bootstrap


@dataclass(frozen=True)
class Produced:
    """A dead letter to produce, where and when."""

    letter: DeadLetter
    partition: int
    timestamp_ms: int


def dead_letter(source: str, reason: RejectReason) -> DeadLetter:
    return DeadLetter(b"{not json", source, reason, "test", 1_764_000_000_000_000)


async def create_topic(kafka_url: str, topic: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap(kafka_url))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, replication_factor=1)])
    finally:
        await admin.close()


async def produce_dead_letters(kafka_url: str, topic: str, letters: Sequence[Produced]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(kafka_url), linger_ms=20)
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                p.letter.payload,
                partition=p.partition,
                timestamp_ms=p.timestamp_ms,
                headers=p.letter.headers(),
            )
            for p in letters
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def produce_values(
    kafka_url: str, topic: str, values: Sequence[bytes], *, partition: int = 0
) -> None:
    """The values, one record each, in order, on one partition."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(kafka_url))
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, partition=partition)
    finally:
        await producer.stop()


async def produce_in_batches(
    kafka_url: str, topic: str, partition: int, *, batches: int, size: int
) -> None:
    """`batches` record batches of `size` records each (the case Tansu's ListOffsets miscounts)."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(kafka_url), linger_ms=50)
    await producer.start()
    try:
        for _ in range(batches):
            futures = [await producer.send(topic, b"r", partition=partition) for _ in range(size)]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def commit(kafka_url: str, group_id: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit offsets for a group, as a consumer of it that processed up to there would."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap(kafka_url), group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def list_offsets_end(
    kafka_url: str, parts: Sequence[TopicPartition]
) -> dict[TopicPartition, int]:
    """What the broker answers to ListOffsets (latest)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(kafka_url))
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(list(parts))
        return ends
    finally:
        await consumer.stop()


async def read_topic(kafka_url: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record the topic holds, from the start, until a second passes with none new."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap(kafka_url),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        found: list[ConsumerRecord[bytes, bytes]] = []
        while batches := await consumer.getmany(timeout_ms=1000):
            found += [record for records in batches.values() for record in records]
        return found
    finally:
        await consumer.stop()
