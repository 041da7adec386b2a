"""The OsmAnd / Traccar Client receiver over real HTTP, into a real Kafka-compatible broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition

from devices.records import decode_position
from devices.registry import DeviceIn, upsert_devices
from ingest.decode import DecodeLimits
from ingest.device_cache import DeviceCache
from ingest.http_receiver import RunningReceiver, start_http_receiver
from ingest.http_settings import HttpReceiverSettings
from ingest.kafka_sink import KafkaSink
from kernel import topics
from kernel.clock import now_us
from kernel.db import create_pool
from kernel.dlq import reason_of
from kernel.kafka import ensure_topics
from kernel.urls import kafka_bootstrap
from toir.devstack.ports import free_port

TS_S = now_us() // 1_000_000 - 60
Answer = tuple[int, str]


@asynccontextmanager
async def receiver(database_url: str, kafka_url: str) -> AsyncIterator[RunningReceiver]:
    with psycopg.connect(database_url) as conn:
        upsert_devices(
            conn, devices=[DeviceIn("phone-1", "phone"), DeviceIn("off-1", "phone", enabled=False)]
        )
    await ensure_topics(kafka_url, partitions=1)
    pool = create_pool(database_url, max_size=1, name="test")
    sink = KafkaSink(kafka_url)
    await pool.open()
    await sink.start()
    settings = HttpReceiverSettings(ingest_http_host="127.0.0.1", ingest_http_port=free_port())
    devices = DeviceCache(pool)
    running = await start_http_receiver(
        settings, sink=sink, devices=devices, limits=DecodeLimits(max_payload_bytes=4096)
    )
    assert running is not None
    try:
        yield running
    finally:
        await running.stop()
        await devices.close()
        await sink.stop()
        await pool.close()


async def exchange(port: int, raw: bytes) -> list[Answer]:
    """Send raw bytes on one connection; the status and body of every answer until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    answers = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        length = int(
            next(v for k, _, v in (h.partition(": ") for h in lines[1:]) if k == "Content-Length")
        )
        answers.append((int(lines[0].split()[1]), rest[:length].decode()))
        data = rest[length:]
    return answers


def get(query: str, *, close: bool = True) -> bytes:
    connection = "Connection: close\r\n" if close else ""
    return f"GET /?{query} HTTP/1.1\r\nHost: x\r\n{connection}\r\n".encode()


def post(body: bytes, content_type: str = "application/json") -> bytes:
    head = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
    return (
        head.encode() + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
    )


async def read_topic(kafka_url: str, topic: str) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap(kafka_url), enable_auto_commit=False
    )
    await consumer.start()
    try:
        part = TopicPartition(topic, 0)
        consumer.assign([part])
        await consumer.seek_to_beginning(part)
        found = []
        while batches := await consumer.getmany(timeout_ms=500):
            found += [(r.value, list(r.headers)) for rs in batches.values() for r in rs]
        return found
    finally:
        await consumer.stop()


def traccar_json(device: str, lat: float = 55.75) -> bytes:
    location = {
        "timestamp": TS_S * 1000,
        "coords": {"latitude": lat, "longitude": 37.62, "speed": 5.0, "accuracy": 8},
        "battery": {"level": 0.8},
    }
    return orjson.dumps({"device_id": device, "location": location})


def test_accepted_requests_reach_kafka_and_refused_ones_the_dlq_with_the_reason(
    database_url: str, kafka_url: str
) -> None:
    async def scenario() -> tuple[list[list[Answer]], list[bytes], list[tuple[bytes, str]]]:
        async with receiver(database_url, kafka_url) as running:
            port = running.port
            answers = [
                await exchange(
                    port, get(f"id=phone-1&lat=55.75&lon=37.62&timestamp={TS_S}&speed=10")
                ),
                await exchange(port, post(traccar_json("phone-1"))),
                await exchange(port, get(f"id=phone-1&lat=95&lon=37.62&timestamp={TS_S}")),
                await exchange(port, post(traccar_json("ghost-1"))),
                await exchange(port, get(f"id=off-1&lat=1&lon=2&timestamp={TS_S}")),
                await exchange(port, post(b"{not json")),
            ]
        positions = [value for value, _ in await read_topic(kafka_url, topics.POSITIONS)]
        letters = [(value, reason_of(h)) for value, h in await read_topic(kafka_url, topics.DLQ)]
        return answers, positions, letters

    answers, positions, letters = asyncio.run(scenario())
    assert [a[0][0] for a in answers] == [200, 200, 400, 400, 400, 400]
    assert answers[2][0][1].startswith("out_of_range: lat")
    assert answers[3][0][1] == "unknown_device: device 'ghost-1' is unknown"
    assert answers[4][0][1] == "disabled_device: device 'off-1' is disabled"
    assert answers[5][0][1].startswith("invalid_json")
    fixes = [decode_position(value) for value in positions]
    assert [(f.device_id, round(f.speed_kmh or 0, 2)) for f in fixes] == [
        ("phone-1", 18.52),
        ("phone-1", 18.0),
    ]
    assert [reason for _, reason in letters] == [
        "out_of_range",
        "unknown_device",
        "disabled_device",
        "invalid_json",
    ]
    assert letters[0][0].startswith(b"GET /?id=phone-1&lat=95")  # the raw request, replayable
    assert letters[3][0].endswith(b"\r\n\r\n{not json")


def test_the_http_protocol_is_handled_robustly(database_url: str, kafka_url: str) -> None:
    query = f"id=phone-1&lat=55.75&lon=37.62&timestamp={TS_S}"
    chunked = (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + b"5\r\n" + query.encode()[:5] + b"\r\n"
        + f"{len(query) - 5:x}\r\n".encode() + query.encode()[5:] + b"\r\n0\r\n\r\n"
    )  # fmt: skip
    form = post(query.encode(), "application/x-www-form-urlencoded")

    async def scenario() -> list[list[Answer]]:
        async with receiver(database_url, kafka_url) as running:
            port = running.port
            return [
                await exchange(port, get(query, close=False) + get(query)),  # keep-alive
                await exchange(port, chunked),
                await exchange(port, form),
                await exchange(port, post(b"x" * 5000)),
                await exchange(port, b"PUT / HTTP/1.1\r\nConnection: close\r\n\r\n"),
                await exchange(port, b"nonsense\r\n\r\n"),
                await exchange(port, b"GET / HTTP/2.0\r\n\r\n"),
                await exchange(port, b"GET /?" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n"),
            ]

    answers = asyncio.run(scenario())
    assert [[status for status, _ in a] for a in answers] == [
        [200, 200], [200], [200], [413], [405], [400], [505], [431],
    ]  # fmt: skip


def test_a_request_kafka_does_not_take_is_answered_503(database_url: str, kafka_url: str) -> None:
    async def scenario() -> list[Answer]:
        async with receiver(database_url, kafka_url) as running:
            await running.receiver._sink.stop()  # Kafka gone: nothing can be acknowledged
            return await exchange(running.port, post(traccar_json("phone-1")))

    assert asyncio.run(scenario()) == [(503, "try again later")]
