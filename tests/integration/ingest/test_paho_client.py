"""The chunk-reading paho client against a real broker: every message once, in order, whole,
whatever its size against the read chunk."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.paho_client import RECV_CHUNK_BYTES, BufferedClient
from kernel.urls import parse_mqtt_url

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
