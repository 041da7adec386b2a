"""Delivery channels: MQTT to engineers' phones, signed HTTP POSTs to webhooks."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import threading
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kernel.urls import MqttAddress

PUBLISH_TIMEOUT_S = 5.0
WEBHOOK_TIMEOUT_S = 5.0
SIGNATURE_HEADER = "X-Toir-Signature"


class DeliveryError(Exception):
    """A delivery failed and should be retried later."""


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>` HMAC of the exact body bytes, as receivers verify it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class MqttChannel:
    """A persistent paho connection used to publish QoS 1 notifications."""

    def __init__(self, address: MqttAddress, *, client_id: str) -> None:
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if address.username:
            self._client.username_pw_set(address.username, address.password)
        if address.tls:
            self._client.tls_set()
        self._address = address
        self._lock = threading.Lock()
        self._started = False

    def publish(self, topic: str, body: bytes) -> None:
        """Publish and wait for the broker's PUBACK; DeliveryError if it does not come."""
        with self._lock:
            self._ensure_started()
            if not self._client.is_connected():
                raise DeliveryError("MQTT broker not connected")
            info = self._client.publish(topic, body, qos=1)
            info.wait_for_publish(PUBLISH_TIMEOUT_S)
            if not info.is_published():
                raise DeliveryError(f"no PUBACK within {PUBLISH_TIMEOUT_S} s")

    def close(self) -> None:
        if self._started:
            self._client.disconnect()
            self._client.loop_stop()

    def _ensure_started(self) -> None:
        if self._started:
            return
        self._client.connect_async(self._address.host, self._address.port)
        self._client.loop_start()
        self._started = True
        for _ in range(20):  # give the first connection up to 2 s
            if self._client.is_connected():
                return
            threading.Event().wait(0.1)


def post_webhook(url: str, body: bytes, *, secret: str, event: str, delivery_id: int) -> None:
    """POST a signed JSON body; DeliveryError unless the receiver answers 2xx."""
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.netloc, timeout=WEBHOOK_TIMEOUT_S)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, body),
        "X-Toir-Event": event,
        "X-Toir-Delivery": str(delivery_id),
    }
    try:
        connection.request(
            "POST",
            parts.path or "/" + ("?" + parts.query if parts.query else ""),
            body=body,
            headers=headers,
        )
        status = connection.getresponse().status
    except OSError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise DeliveryError(f"the receiver answered {status}")
