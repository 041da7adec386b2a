"""The Kafka side of ingest: produces normalised records and dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from devices.records import Position, Record, encode, encode_many
from kernel import topics
from kernel.dlq import DeadLetter

LINGER_MS = 5
MAX_BATCH_BYTES = 512 * 1024
REQUEST_TIMEOUT_MS = 15_000


class KafkaSink:
    """Sends records keyed by device id; each send returns a future to await before acking."""

    def __init__(self, bootstrap: str, *, pack_batches: bool = False) -> None:
        # Off until every consumer of the telemetry topics decodes arrays
        # (devices.records.decode_readings / decode_positions): see docs/benchmarks.md.
        self._pack_batches = pack_batches
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

    async def send_packs(self, packs: Sequence[Sequence[Record]]) -> list[asyncio.Future[object]]:
        """Send each pack (records of one device and kind) as one Kafka message."""
        if not self._pack_batches:
            return [await self._send_record(record) for pack in packs for record in pack]
        return [await self._send_pack(pack) for pack in packs]

    async def send_dead_letters(
        self, letters: Sequence[DeadLetter]
    ) -> list[asyncio.Future[object]]:
        return [
            await self._producer.send(
                topics.DLQ, value=letter.payload, key=None, headers=letter.headers()
            )
            for letter in letters
        ]

    async def _send_pack(self, pack: Sequence[Record]) -> asyncio.Future[object]:
        if len(pack) == 1:
            return await self._send_record(pack[0])
        first = pack[0]
        topic = topics.POSITIONS if isinstance(first, Position) else topics.READINGS
        future: asyncio.Future[object] = await self._producer.send(
            topic, value=encode_many(pack), key=first.device_id.encode()
        )
        return future

    async def _send_record(self, record: Record) -> asyncio.Future[object]:
        topic = topics.POSITIONS if isinstance(record, Position) else topics.READINGS
        future: asyncio.Future[object] = await self._producer.send(
            topic, value=encode(record), key=record.device_id.encode()
        )
        return future
