"""Helpers for the dev-stack tests: clients that use each service for real, and process checks."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import psutil
import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from paho.mqtt.enums import CallbackAPIVersion

from kernel.urls import kafka_bootstrap, parse_mqtt_url
from toir.devstack.ports import accepts_connections

GONE_TIMEOUT_S = 5.0
ROUNDTRIP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.05


def eventually(predicate: Callable[[], bool], timeout_s: float = GONE_TIMEOUT_S) -> bool:
    """True as soon as `predicate` holds, False if it still does not after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_INTERVAL_S)
    return True


def process_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def port_closed(url: str) -> bool:
    return not accepts_connections(port_of(url))


def write_and_read_rows(database_url: str, values: list[str]) -> list[str]:
    """Insert `values` into a `notes` table (made if missing) and return every note, in order."""
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text NOT NULL)")
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO notes (body) VALUES (%s)", [(v,) for v in values])
        rows = conn.execute("SELECT body FROM notes ORDER BY id").fetchall()
    return [str(row[0]) for row in rows]


def mqtt_roundtrip(url: str, topic: str, payload: bytes) -> bytes:
    """Publish `payload` at QoS 1 and return what a QoS 1 subscriber received."""
    received: queue.Queue[bytes] = queue.Queue()
    subscriber = _mqtt_client(url, f"{topic}-sub")
    subscriber.on_message = lambda _client, _userdata, message: received.put(bytes(message.payload))
    subscribed = threading.Event()
    subscriber.on_subscribe = lambda *_args: subscribed.set()
    publisher = _mqtt_client(url, f"{topic}-pub")
    try:
        subscriber.subscribe(topic, qos=1)
        assert subscribed.wait(ROUNDTRIP_TIMEOUT_S), "no SUBACK"
        publisher.publish(topic, payload, qos=1).wait_for_publish(ROUNDTRIP_TIMEOUT_S)
        return received.get(timeout=ROUNDTRIP_TIMEOUT_S)
    finally:
        for client in (subscriber, publisher):
            client.disconnect()
            client.loop_stop()


def _mqtt_client(url: str, client_id: str) -> mqtt.Client:
    address = parse_mqtt_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.connect(address.host, address.port)
    client.loop_start()
    return client


def kafka_roundtrip(url: str, topic: str, payload: bytes) -> bytes:
    """Produce `payload` to `topic` and return the first message a consumer reads from it."""
    return asyncio.run(_kafka_roundtrip(kafka_bootstrap(url), topic, payload))


async def _kafka_roundtrip(bootstrap: str, topic: str, payload: bytes) -> bytes:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, payload)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), ROUNDTRIP_TIMEOUT_S)
    finally:
        await consumer.stop()
    value: bytes = message.value
    return value
