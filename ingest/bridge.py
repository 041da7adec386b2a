"""The ingest loop: MQTT batch in, decode, check the sender, produce, then acknowledge."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from devices.records import Record
from ingest.decode import Decoded, DecodeLimits, decode_mqtt
from ingest.device_cache import DeviceCache, Refused, check_senders
from ingest.kafka_sink import KafkaSink
from ingest.mqtt_source import Inbound, MqttSource
from kernel.dlq import DeadLetter

log = logging.getLogger(__name__)

RETRY_FIRST_DELAY_S = 0.5
RETRY_MAX_DELAY_S = 10.0


@dataclass
class IngestCounters:
    messages: int = 0
    records: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


@dataclass
class Routed:
    """A batch's accepted records, in order (the sink packs them), and its dead letters."""

    records: list[Record] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)


class Bridge:
    """Moves MQTT messages to Kafka, acknowledging each only once Kafka has it."""

    def __init__(
        self,
        *,
        source: MqttSource,
        sink: KafkaSink,
        devices: DeviceCache,
        limits: DecodeLimits,
        batch_size: int,
        batch_wait_s: float,
    ) -> None:
        self._source = source
        self._sink = sink
        self._devices = devices
        self._limits = limits
        self._batch_size = batch_size
        self._batch_wait_s = batch_wait_s
        self.counters = IngestCounters()

    async def run(self) -> None:
        while True:
            batch = await self._source.queue.take(
                max_size=self._batch_size, wait_s=self._batch_wait_s
            )
            await self._process_until_done(batch)

    async def _process_until_done(self, batch: Sequence[Inbound]) -> None:
        """Retry a batch that failed (e.g. the registry's database is down): its messages
        stay unacknowledged meanwhile, so nothing is lost and nothing is skipped."""
        delay_s = RETRY_FIRST_DELAY_S
        while True:
            try:
                return await self.process(batch)
            except Exception as exc:
                log.warning("ingest batch failed (%s); retrying in %.1f s", exc, delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RETRY_MAX_DELAY_S)

    async def process(self, batch: Sequence[Inbound]) -> None:
        routed = Routed()
        for message in batch:
            await self._route(message, routed)
        await self._deliver(routed)
        self._source.ack(batch)
        self._count(len(batch), routed)

    async def _route(self, message: Inbound, routed: Routed) -> None:
        decoded = decode_mqtt(
            message.topic, message.payload, received_us=message.received_us, limits=self._limits
        )
        routed.letters.extend(_letters_for(message, decoded))
        accepted, refused = await check_senders(self._devices, decoded.records, message.topic)
        routed.records += accepted
        # One letter a refused sender, not a record: each letter carries the whole payload.
        routed.letters += [_refused_sender(message, sender) for sender in refused]

    async def _deliver(self, routed: Routed) -> None:
        delay_s = RETRY_FIRST_DELAY_S
        while True:
            try:
                futures = await self._sink.send_batch(routed.records)
                futures += await self._sink.send_dead_letters(routed.letters)
                await asyncio.gather(*futures)
                return
            except Exception as exc:  # any Kafka failure: keep the batch, unacked, and retry
                log.warning("Kafka send failed (%s); retrying in %.1f s", exc, delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RETRY_MAX_DELAY_S)

    def _count(self, messages: int, routed: Routed) -> None:
        self.counters.messages += messages
        self.counters.records += len(routed.records)
        self.counters.rejected.update(letter.reason.value for letter in routed.letters)


def _letters_for(message: Inbound, decoded: Decoded) -> list[DeadLetter]:
    return [
        DeadLetter(
            payload=message.payload,
            source_topic=message.topic,
            reason=rejection.reason,
            detail=rejection.detail,
            received_us=message.received_us,
            item_index=rejection.item_index,
        )
        for rejection in decoded.rejections
    ]


def _refused_sender(message: Inbound, sender: Refused) -> DeadLetter:
    return DeadLetter(
        payload=message.payload,
        source_topic=message.topic,
        reason=sender.reason,
        detail=sender.detail,
        received_us=message.received_us,
    )
