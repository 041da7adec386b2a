"""The MQTT → Kafka bridge against real brokers: a batch of messages from many devices goes to
Kafka as a few packed messages, each device on its own partition, and every bad message is
dead-lettered alone with its original bytes; messages are acknowledged once Kafka has them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import orjson
import paho.mqtt.client as mqtt
import psycopg
from aiokafka import ConsumerRecord
from aiokafka.partitioner import DefaultPartitioner
from paho.mqtt.enums import CallbackAPIVersion

from devices.registry import DeviceIn, upsert_devices
from ingest.bridge import Bridge
from ingest.decode import DecodeLimits
from ingest.device_cache import DeviceCache
from ingest.kafka_sink import KafkaSink
from ingest.mqtt_source import MqttSource
from kernel import topics
from kernel.clock import now_us
from kernel.db import create_pool
from kernel.dlq import reason_of
from kernel.kafka import ensure_topics
from kernel.urls import parse_mqtt_url
from stream.packed import readings_in
from tests.integration.platform.kafka_factories import read_topic

PARTITIONS = 4
Record: TypeAlias = ConsumerRecord[bytes, bytes]
DEVICES = [f"pump-{n}" for n in range(20)]
PER_DEVICE = 10
TIMEOUT_S = 30.0
TS_MS = now_us() // 1000 - 60_000


def _reading(n: int) -> bytes:
    return orjson.dumps({"ts": TS_MS + n, "hours_run": 10.0 + n, "metrics": {"temp_c": 50.0}})


def _messages() -> list[tuple[str, bytes]]:
    return [
        (f"toir/v1/devices/{device}/telemetry", _reading(n))
        for n in range(PER_DEVICE)
        for device in DEVICES
    ]


BAD = ("toir/v1/devices/pump-3/telemetry", b'{"ts": 1, "metrics": ')
# Three readings from an unregistered device: one dead letter, as the message came.
STRANGER = ("toir/v1/devices/ghost-1/telemetry", b"[" + b",".join(map(_reading, range(3))) + b"]")


def _publish(mqtt_url: str, messages: list[tuple[str, bytes]]) -> None:
    address = parse_mqtt_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{time.time_ns()}")
    client.connect(address.host, address.port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(TIMEOUT_S)
    finally:
        client.disconnect()
        client.loop_stop()


@asynccontextmanager
async def running_bridge(
    database_url: str, mqtt_url: str, kafka_url: str, client_id: str = "ingest-test"
) -> AsyncIterator[Bridge]:
    with psycopg.connect(database_url) as conn:
        upsert_devices(conn, devices=[DeviceIn(d, "controller") for d in DEVICES])
    await ensure_topics(kafka_url, partitions=PARTITIONS)
    pool = create_pool(database_url, max_size=1, name="test")
    sink = KafkaSink(kafka_url)
    source = MqttSource(parse_mqtt_url(mqtt_url), client_id=client_id)
    await pool.open()
    await sink.start()
    devices = DeviceCache(pool)
    bridge = Bridge(
        source=source,
        sink=sink,
        devices=devices,
        limits=DecodeLimits(max_payload_bytes=4096),
        batch_size=1000,
        batch_wait_s=0.3,
    )
    source.start()
    task = asyncio.create_task(bridge.run())
    try:
        await asyncio.wait_for(source.connected.wait(), TIMEOUT_S)
        yield bridge
    finally:
        task.cancel()
        source.stop()
        await devices.close()
        await sink.stop()
        await pool.close()


async def _until_handled(bridge: Bridge, messages: int) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while bridge.counters.messages < messages:
        assert time.monotonic() < deadline, f"{bridge.counters.messages} of {messages} handled"
        await asyncio.sleep(0.05)


def _default_partition(device_id: str) -> int:
    """Where Kafka's default partitioner puts a record keyed by the device alone."""
    partitions = list(range(PARTITIONS))
    return int(DefaultPartitioner()(device_id.encode(), partitions, partitions))


def test_a_batch_travels_packed_per_partition_and_bad_messages_alone(
    database_url: str, private_mqtt_url: str, kafka_url: str
) -> None:
    published = _messages()

    async def scenario() -> tuple[list[Record], list[Record]]:
        async with running_bridge(database_url, private_mqtt_url, kafka_url) as bridge:
            await asyncio.to_thread(_publish, private_mqtt_url, [*published, BAD, STRANGER])
            await _until_handled(bridge, len(published) + 2)
        return await read_topic(kafka_url, topics.READINGS), await read_topic(kafka_url, topics.DLQ)

    records, letters = asyncio.run(scenario())

    readings = [r for record in records for r in readings_in([record.value or b""]).records]
    assert sorted((r.device_id, r.ts_us) for r in readings) == sorted(
        (device, (TS_MS + n) * 1000) for n in range(PER_DEVICE) for device in DEVICES
    )
    assert len(records) < len(published) / 10  # packed: a few values for 200 messages
    partitioner, partitions = DefaultPartitioner(), list(range(PARTITIONS))
    for record in records:
        for reading in readings_in([record.value or b""]).records:
            assert record.partition == partitioner(
                reading.device_id.encode(), partitions, partitions
            )
    by_reason = sorted((reason_of(letter.headers), letter.value) for letter in letters)
    assert by_reason == [("invalid_json", BAD[1]), ("unknown_device", STRANGER[1])]


def test_what_kafka_had_is_acknowledged_and_never_delivered_again(
    database_url: str, private_mqtt_url: str, kafka_url: str
) -> None:
    first, later = _messages()[:50], _messages()[50:60]

    async def scenario() -> tuple[int, int]:
        async with running_bridge(database_url, private_mqtt_url, kafka_url) as bridge:
            await asyncio.to_thread(_publish, private_mqtt_url, first)
            await _until_handled(bridge, len(first))
        # The persistent session keeps what arrives meanwhile; acknowledged messages are gone.
        await asyncio.to_thread(_publish, private_mqtt_url, later)
        async with running_bridge(database_url, private_mqtt_url, kafka_url) as again:
            await _until_handled(again, len(later))
            await asyncio.sleep(1.0)  # time for anything unacknowledged to be redelivered
            redelivered = again.counters.messages
        stored = await read_topic(kafka_url, topics.READINGS)
        return redelivered, sum(len(readings_in([r.value or b""]).records) for r in stored)

    redelivered, on_kafka = asyncio.run(scenario())
    assert redelivered == len(later)
    assert on_kafka == len(first) + len(later)
