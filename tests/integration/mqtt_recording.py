"""A QoS 1 subscriber that records every message it receives, for tests that publish."""

from __future__ import annotations

import threading
import time
import uuid

from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from kernel.urls import MqttAddress

SUBACK_TIMEOUT_S = 10.0
# After the expected count arrives, wait this long to catch any surplus.
SETTLE_S = 0.5

Message = tuple[str, bytes]


class RecordingSubscriber:
    """Subscribes to `topic` at QoS 1 and keeps (topic, payload) of each message in order."""

    def __init__(self, address: MqttAddress, topic: str, *, timeout_s: float = 20.0) -> None:
        self._messages: list[Message] = []
        self._lock = threading.Lock()
        self._timeout_s = timeout_s
        subscribed = threading.Event()
        self._client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"toir-test-sub-{uuid.uuid4().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv311,
        )
        if address.username is not None:
            self._client.username_pw_set(address.username, address.password)
        self._client.on_connect = lambda client, *_: client.subscribe(topic, 1)
        self._client.on_subscribe = lambda *_: subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect(address.host, address.port)
        self._client.loop_start()
        assert subscribed.wait(SUBACK_TIMEOUT_S), "no SUBACK from the broker"

    @property
    def messages(self) -> list[Message]:
        with self._lock:
            return list(self._messages)

    def count(self, match: set[Message] | None = None) -> int:
        """Messages received so far (only those in `match`, when given)."""
        with self._lock:
            if match is None:
                return len(self._messages)
            return sum(1 for message in self._messages if message in match)

    def wait_for(self, count: int, match: set[Message] | None = None) -> int:
        """Wait for `count` (matching) messages, then a little longer; how many arrived."""
        deadline = time.monotonic() + self._timeout_s
        while self.count(match) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(SETTLE_S)
        return self.count(match)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_message(self, _client: Client, _userdata: object, message: MQTTMessage) -> None:
        with self._lock:
            self._messages.append((message.topic, bytes(message.payload)))
