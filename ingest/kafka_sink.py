"""The Kafka side of ingest: produces normalised records and dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from devices.records import Record, encode
from ingest.packing import PartitionMap, pack_records, topic_of
from kernel import topics
from kernel.dlq import DeadLetter
from kernel.urls import kafka_client_options

LINGER_MS = 5
MAX_BATCH_BYTES = 512 * 1024
REQUEST_TIMEOUT_MS = 15_000


class KafkaSink:
    """Sends records (packed per partition, or one by one, each keyed by its device) and dead
    letters; each send returns a future to await before acknowledging what it carried."""

    def __init__(
        self, kafka_url: str, *, pack_batches: bool = True, compression: str | None = None
    ) -> None:
        # Packing off sends every record as a Kafka message of its own (as before packing).
        self._pack_batches = pack_batches
        self._partitions = PartitionMap()
        self._producer = AIOKafkaProducer(
            **kafka_client_options(kafka_url),
            acks="all",
            linger_ms=LINGER_MS,
            max_batch_size=MAX_BATCH_BYTES,
            request_timeout_ms=REQUEST_TIMEOUT_MS,
            compression_type=compression,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send_records(self, records: Sequence[Record]) -> list[asyncio.Future[object]]:
        """One Kafka message per record."""
        return [await self._send_record(record) for record in records]

    async def send_batch(self, records: Sequence[Record]) -> list[asyncio.Future[object]]:
        """A batch's records, packed: one Kafka message per partition (see ingest.packing)."""
        if not self._pack_batches:
            return await self.send_records(records)
        for topic in {topic_of(record) for record in records}:
            self._partitions.update(topic, await self._producer.partitions_for(topic))
        return [
            await self._producer.send(
                pack.topic, value=pack.value(), key=pack.key(), partition=pack.partition
            )
            for pack in pack_records(records, self._partitions.partition)
        ]

    async def send_dead_letters(
        self, letters: Sequence[DeadLetter]
    ) -> list[asyncio.Future[object]]:
        return [
            await self._producer.send(
                topics.DLQ, value=letter.payload, key=None, headers=letter.headers()
            )
            for letter in letters
        ]

    async def _send_record(self, record: Record) -> asyncio.Future[object]:
        future: asyncio.Future[object] = await self._producer.send(
            topic_of(record), value=encode(record), key=record.device_id.encode()
        )
        return future
