"""Ingest's Kafka producer compresses what it sends with the configured codec; the broker
(Tansu here) stores the compressed batches and a consumer gets the records back intact."""

from __future__ import annotations

import asyncio
from operator import attrgetter

import pytest

from devices.records import Reading
from ingest.kafka_sink import KafkaSink
from kernel import topics
from kernel.kafka import ensure_topics
from kernel.settings import KafkaCompression
from stream.packed import readings_in
from tests.integration.platform.kafka_factories import read_topic

TS_US = 1_764_000_000_000_000
BY_KEY = attrgetter("device_id", "ts_us")


def _readings() -> list[Reading]:
    return [
        Reading(f"pump-{d}", TS_US + n, 10.0 + n, True, {"temp_c": 50.0 + n, "current_a": 3.5})
        for n in range(50)
        for d in range(20)
    ]


async def _send_and_read(kafka_url: str, compression: KafkaCompression) -> list[Reading]:
    await ensure_topics(kafka_url, partitions=4)
    sink = KafkaSink(kafka_url, compression=compression.codec())
    await sink.start()
    try:
        await asyncio.gather(*await sink.send_batch(_readings()))
    finally:
        await sink.stop()
    return readings_in(
        [record.value or b"" for record in await read_topic(kafka_url, topics.READINGS)]
    ).records


@pytest.mark.parametrize("compression", list(KafkaCompression))
def test_every_codec_carries_the_records_through_the_broker_intact(
    kafka_url: str, compression: KafkaCompression
) -> None:
    received = asyncio.run(_send_and_read(kafka_url, compression))
    assert sorted(received, key=BY_KEY) == sorted(_readings(), key=BY_KEY)
