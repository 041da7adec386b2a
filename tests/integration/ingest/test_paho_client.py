"""The chunk-reading paho client against a real broker: every message once, in order, whole,
whatever its size against the read chunk."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.paho_client import RECV_CHUNK_BYTES, BufferedClient
from kernel.urls import MqttAddress, parse_mqtt_url

TIMEOUT_S = 30.0


def _payloads() -> list[bytes]:
    small = [f"reading {n}".encode() for n in range(2000)]
    large = [bytes([n]) * (RECV_CHUNK_BYTES + 1000 * n) for n in range(1, 4)]
    return small[:700] + large[:1] + small[700:1400] + large[1:] + small[1400:]


# Delivered by paho (on_message) or straight from the packet (on_publish_received).
DELIVERY = pytest.mark.parametrize("direct", [False, True], ids=["on_message", "direct"])


def _deliver(client: BufferedClient, direct: bool, handle: Callable[[bytes, int], None]) -> None:
    """Call handle(payload, mid) for every message, by the path the test is about."""
    if direct:
        client.on_publish_received = lambda _topic, payload, mid, _qos: handle(payload, mid)
    else:
        client.on_message = lambda _c, _u, message: handle(bytes(message.payload), message.mid)


@DELIVERY
def test_every_message_arrives_once_in_order_and_whole(private_mqtt_url: str, direct: bool) -> None:
    address = parse_mqtt_url(private_mqtt_url)
    topic = f"test/{uuid.uuid4().hex[:8]}"
    expected = [b"", *_payloads()]
    got: list[bytes] = []
    finished = threading.Event()
    subscriber = BufferedClient(
        CallbackAPIVersion.VERSION2, client_id=f"sub-{topic}", manual_ack=True
    )

    def on_message(payload: bytes, mid: int) -> None:
        got.append(payload)
        subscriber.ack_qos1([mid])
        if len(got) == len(expected):
            finished.set()

    _deliver(subscriber, direct, on_message)
    with _subscribed(address, topic, subscriber) as publisher:
        for info in [publisher.publish(topic, payload, qos=1) for payload in expected]:
            info.wait_for_publish(TIMEOUT_S)
        assert finished.wait(TIMEOUT_S), f"{len(got)} of {len(expected)} arrived"
    assert got == expected


@contextmanager
def _subscribed(
    address: MqttAddress, topic: str, subscriber: BufferedClient
) -> Iterator[mqtt.Client]:
    """The subscriber subscribed to `topic` and a publisher connected; both stopped after."""
    subscribed = threading.Event()
    subscriber.on_subscribe = lambda *_: subscribed.set()
    subscriber.on_connect = lambda client, *_: client.subscribe(topic, 1)
    subscriber.connect(address.host, address.port)
    subscriber.loop_start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    try:
        assert subscribed.wait(TIMEOUT_S)
        publisher.connect(address.host, address.port)
        publisher.loop_start()
        yield publisher
    finally:
        _stop(publisher)
        _stop(subscriber)


def _persistent_subscriber(
    address: MqttAddress,
    client_id: str,
    topic: str,
    on_message: Callable[[bytes, int], None],
    direct: bool,
) -> BufferedClient:
    client = BufferedClient(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, manual_ack=True
    )
    _deliver(client, direct, on_message)
    client.on_connect = lambda c, *_: c.subscribe(topic, 1)
    client.connect(address.host, address.port)
    client.loop_start()
    return client


def _stop(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


@DELIVERY
@pytest.mark.parametrize("unacked", [0, 7])
def test_bulk_acknowledgements_reach_the_broker(
    private_mqtt_url: str, unacked: int, direct: bool
) -> None:
    # What the broker redelivers to the same persistent session after a reconnect is what
    # it never got a PUBACK for: nothing when all were acknowledged in bulk, else the rest.
    address = parse_mqtt_url(private_mqtt_url)
    topic, client_id = f"test/{uuid.uuid4().hex[:8]}", f"sub-{uuid.uuid4().hex[:8]}"
    total = 200
    first: list[int] = []

    def collect(_payload: bytes, mid: int) -> None:
        first.append(mid)

    subscriber = _persistent_subscriber(address, client_id, topic, collect, direct)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{topic}")
    try:
        time.sleep(0.5)  # subscribed
        publisher.connect(address.host, address.port)
        publisher.loop_start()
        acked = 0
        for info in [publisher.publish(topic, f"m{n}".encode(), qos=1) for n in range(total)]:
            info.wait_for_publish(TIMEOUT_S)
        # The broker sends a window of unacknowledged messages at a time: ack in bulk as
        # they come, the way ingest acks a batch, keeping the last `unacked` back.
        deadline = time.monotonic() + TIMEOUT_S
        while acked < total - unacked and time.monotonic() < deadline:
            upto = min(len(first), total - unacked)
            subscriber.ack_qos1(first[acked:upto])
            acked = upto
            time.sleep(0.05)
        assert acked == total - unacked
        time.sleep(0.5)  # the PUBACKs are written
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        _stop(subscriber)
    again: list[bytes] = []
    resumed = _persistent_subscriber(
        address, client_id, topic, lambda payload, _mid: again.append(payload), direct
    )
    time.sleep(1.5)
    _stop(resumed)
    assert again == [f"m{n}".encode() for n in range(total - unacked, total)]


def test_direct_delivery_gives_topic_qos_and_packet_id_as_sent(private_mqtt_url: str) -> None:
    address = parse_mqtt_url(private_mqtt_url)
    topic = f"тест/{uuid.uuid4().hex[:8]}/телеметрия"
    got: list[tuple[bytes, bytes, int, int]] = []
    finished = threading.Event()
    subscriber = BufferedClient(
        CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:8]}", manual_ack=True
    )

    def received(raw_topic: bytes, payload: bytes, mid: int, qos: int) -> None:
        got.append((raw_topic, payload, mid, qos))
        subscriber.ack_qos1([mid] if qos == 1 else [])
        if len(got) == 3:
            finished.set()

    subscriber.on_publish_received = received
    with _subscribed(address, topic, subscriber) as publisher:
        for payload, qos in [(b"zero", 0), (b"one", 1), (b"", 1)]:
            publisher.publish(topic, payload, qos=qos).wait_for_publish(TIMEOUT_S)
        assert finished.wait(TIMEOUT_S), got
    raw = topic.encode()
    assert [(t, p, q) for t, p, _, q in got] == [(raw, b"zero", 0), (raw, b"one", 1), (raw, b"", 1)]
    assert got[0][2] == 0
    assert got[1][2] != got[2][2] and 0 not in (got[1][2], got[2][2])
