"""The chunk-reading paho client against a real broker: every message once, in order, whole,
whatever its size against the read chunk."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.paho_client import RECV_CHUNK_BYTES, BufferedClient
from kernel.urls import MqttAddress, parse_mqtt_url

OnMessage = Callable[[mqtt.Client, object, mqtt.MQTTMessage], None]

TIMEOUT_S = 30.0


def _payloads() -> list[bytes]:
    small = [f"reading {n}".encode() for n in range(2000)]
    large = [bytes([n]) * (RECV_CHUNK_BYTES + 1000 * n) for n in range(1, 4)]
    return small[:700] + large[:1] + small[700:1400] + large[1:] + small[1400:]


def test_every_message_arrives_once_in_order_and_whole(private_mqtt_url: str) -> None:
    address = parse_mqtt_url(private_mqtt_url)
    topic = f"test/{uuid.uuid4().hex[:8]}"
    expected = _payloads()
    got: list[bytes] = []
    subscribed, finished = threading.Event(), threading.Event()

    def on_message(client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        got.append(bytes(message.payload))
        client.ack(message.mid, message.qos)
        if len(got) == len(expected):
            finished.set()

    subscriber = BufferedClient(
        CallbackAPIVersion.VERSION2, client_id=f"sub-{topic}", manual_ack=True
    )
    subscriber.on_message = on_message
    subscriber.on_subscribe = lambda *_: subscribed.set()
    subscriber.on_connect = lambda client, *_: client.subscribe(topic, 1)
    subscriber.connect(address.host, address.port)
    subscriber.loop_start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{topic}")
    try:
        assert subscribed.wait(TIMEOUT_S)
        publisher.connect(address.host, address.port)
        publisher.loop_start()
        for info in [publisher.publish(topic, payload, qos=1) for payload in expected]:
            info.wait_for_publish(TIMEOUT_S)
        assert finished.wait(TIMEOUT_S), f"{len(got)} of {len(expected)} arrived"
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        subscriber.disconnect()
        subscriber.loop_stop()
    assert got == expected


def _persistent_subscriber(
    address: MqttAddress, client_id: str, topic: str, on_message: OnMessage
) -> BufferedClient:
    client = BufferedClient(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, manual_ack=True
    )
    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(topic, 1)
    client.connect(address.host, address.port)
    client.loop_start()
    return client


def _stop(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


@pytest.mark.parametrize("unacked", [0, 7])
def test_bulk_acknowledgements_reach_the_broker(private_mqtt_url: str, unacked: int) -> None:
    # What the broker redelivers to the same persistent session after a reconnect is what
    # it never got a PUBACK for: nothing when all were acknowledged in bulk, else the rest.
    address = parse_mqtt_url(private_mqtt_url)
    topic, client_id = f"test/{uuid.uuid4().hex[:8]}", f"sub-{uuid.uuid4().hex[:8]}"
    total = 200
    first: list[mqtt.MQTTMessage] = []
    all_in = threading.Event()

    def collect(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        first.append(message)
        if len(first) == total:
            all_in.set()

    subscriber = _persistent_subscriber(address, client_id, topic, collect)
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
            subscriber.ack_qos1([m.mid for m in first[acked:upto]])
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
        address, client_id, topic, lambda _c, _u, m: again.append(bytes(m.payload))
    )
    time.sleep(1.5)
    _stop(resumed)
    assert again == [f"m{n}".encode() for n in range(total - unacked, total)]
