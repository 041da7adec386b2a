"""The MQTT side of ingest: a paho subscriber that hands messages to asyncio in batches.

QoS 1 messages are acknowledged manually, only after what they carried is safely
in Kafka, with a persistent session: a crash between receipt and PUBACK makes the
broker redeliver (MQTT 3.1.1 §4.3.2), so nothing is lost, and the database's
natural keys absorb the duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ingest.handoff import Handoff
from ingest.paho_client import BufferedClient
from kernel.clock import now_us
from kernel.urls import MqttAddress

log = logging.getLogger(__name__)

SUBSCRIPTIONS = (
    "toir/v1/devices/+/telemetry",
    "toir/v1/devices/+/position",
    "v1/gateway/telemetry",
    "owntracks/+/+",
)
KEEPALIVE_S = 30
RECONNECT_MIN_DELAY_S = 1
RECONNECT_MAX_DELAY_S = 30
STOP_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Inbound:
    topic: str
    payload: bytes
    mid: int
    qos: int
    received_us: int


class MqttSource:
    """Subscribes, and puts every message in `queue` (taken in batches by the event loop);
    paho's thread never blocks."""

    def __init__(self, address: MqttAddress, *, client_id: str, share_group: str = "") -> None:
        self._address = address
        self._share_group = share_group
        self.queue: Handoff[Inbound] = Handoff()
        self.connected = asyncio.Event()
        self._disconnected = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = BufferedClient(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        self._configure()

    def _configure(self) -> None:
        client = self._client
        if self._address.username:
            client.username_pw_set(self._address.username, self._address.password)
        if self._address.tls:
            client.tls_set()
        client.reconnect_delay_set(RECONNECT_MIN_DELAY_S, RECONNECT_MAX_DELAY_S)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish_received = self._on_publish_received

    def start(self) -> None:
        """Connect (retrying in the background) and start paho's network thread."""
        self._loop = asyncio.get_running_loop()
        self.queue.bind(self._loop)
        self._client.connect_async(self._address.host, self._address.port, KEEPALIVE_S)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect cleanly, then stop paho's thread. DISCONNECT goes out after every
        PUBACK queued before it, so what was acknowledged is not redelivered."""
        self._disconnected.clear()
        if self._client.disconnect() == mqtt.MQTT_ERR_SUCCESS:
            self._disconnected.wait(STOP_TIMEOUT_S)
        self._client.loop_stop()

    def ack(self, messages: Sequence[Inbound]) -> None:
        """Acknowledge messages whose content is safely stored: QoS 1 ones in one write."""
        self._client.ack_qos1([m.mid for m in messages if m.qos == 1])
        for message in messages:
            if message.qos > 1:  # only if a broker grants more than the QoS 1 asked
                self._client.ack(message.mid, message.qos)

    def topic_filters(self) -> list[str]:
        if not self._share_group:
            return list(SUBSCRIPTIONS)
        return [f"$share/{self._share_group}/{topic}" for topic in SUBSCRIPTIONS]

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.error("MQTT connection refused: %s", reason)
            return
        client.subscribe([(topic, 1) for topic in self.topic_filters()])
        log.info("MQTT connected to %s:%s", self._address.host, self._address.port)
        self._call_in_loop(self.connected.set)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        log.warning("MQTT disconnected (%s); paho reconnects with back-off", reason)
        self._disconnected.set()
        self._call_in_loop(self.connected.clear)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        # Only what paho still delivers itself: a QoS 2 message, if a broker grants QoS 2.
        self._on_publish_received(msg._topic, bytes(msg.payload), msg.mid, msg.qos)

    def _on_publish_received(self, topic: bytes, payload: bytes, mid: int, qos: int) -> None:
        # Runs on paho's thread: only hand the message over; never raise here.
        try:
            # MQTT topics are UTF-8 (§1.5.3); a broker that let a bad one through still
            # gets it accounted for downstream rather than lost here.
            inbound = Inbound(topic.decode("utf-8", "replace"), payload, mid, qos, now_us())
            self.queue.put(inbound)
        except Exception:
            log.exception("could not hand over an MQTT message on %.200r", topic)

    def _call_in_loop(self, callback: object, *args: object) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(callback, *args)  # type: ignore[arg-type]
