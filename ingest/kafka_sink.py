"""The Kafka side of ingest: produces normalised records and dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from devices.records import Position, Record, encode
from kernel import topics
from kernel.dlq import DeadLetter

LINGER_MS = 5
MAX_BATCH_BYTES = 512 * 1024
REQUEST_TIMEOUT_MS = 15_000


class KafkaSink:
    """Sends records keyed by device id; each send returns a future to await before acking."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            linger_ms=LINGER_MS,
            max_batch_size=MAX_BATCH_BYTES,
            request_timeout_ms=REQUEST_TIMEOUT_MS,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send_records(self, records: Sequence[Record]) -> list[asyncio.Future[object]]:
        return [await self._send_record(record) for record in records]

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
        topic = topics.POSITIONS if isinstance(record, Position) else topics.READINGS
        future: asyncio.Future[object] = await self._producer.send(
            topic, value=encode(record), key=record.device_id.encode()
        )
        return future
