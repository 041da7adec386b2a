"""A paho-mqtt QoS 1 publisher that bounds unacknowledged messages and survives reconnects.

paho numbers QoS 1 messages with a 16-bit packet identifier (MQTT 3.1.1 §2.3.1), so more
than 65,535 unacknowledged messages cannot be told apart: past that paho refuses or loses
them. The publisher therefore blocks its caller while `max_outstanding` messages await a
PUBACK. paho keeps unacknowledged messages across a reconnect and re-sends them with DUP set
(§4.4); clean_session=False with a fixed client id keeps the broker's half of the session
too (§3.1.2.4), so nothing queued is lost.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessageInfo
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from kernel.urls import MqttAddress

logger = logging.getLogger(__name__)

DEFAULT_MAX_OUTSTANDING = 10_000
# paho's window of PUBLISHes on the wire before it queues locally (its default: 20). paho
# scans that window on every PUBACK, so a much larger one costs more than it gains.
DEFAULT_MAX_INFLIGHT = 100
KEEPALIVE_S = 30
RECONNECT_MIN_DELAY_S = 1
RECONNECT_MAX_DELAY_S = 30
WAIT_SLICE_S = 0.1
SESSION_DISCARD_TIMEOUT_S = 2.0
QOS_AT_LEAST_ONCE = 1
DEFAULT_LABEL = "message"
_ACCEPTED = (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)


@dataclass(frozen=True, slots=True)
class PublisherStats:
    """Counters of a publisher; `published` counts messages the broker acknowledged."""

    sent: int
    published: int
    failed: int
    outstanding: int
    max_outstanding_seen: int
    connects: int
    published_by_label: dict[str, int]


class Publisher:
    """Publishes at QoS 1 over MQTT 3.1.1, never more than max_outstanding awaiting PUBACK."""

    def __init__(
        self,
        address: MqttAddress,
        *,
        client_id: str | None = None,
        max_outstanding: int = DEFAULT_MAX_OUTSTANDING,
        max_inflight: int = DEFAULT_MAX_INFLIGHT,
    ) -> None:
        if not 0 < max_outstanding < 65_535:
            raise ValueError("max_outstanding must be between 1 and 65,534")
        self._address = address
        self._max_outstanding = max_outstanding
        self._cond = threading.Condition()
        self._answered = threading.Event()
        self._refused: ReasonCode | None = None
        self._sent = self._published = self._failed = self._outstanding = 0
        self._max_seen = self._connects = 0
        self._by_label: dict[str, int] = {}
        self._labels: dict[int, str] = {}
        self._early_acks: set[int] = set()
        self._client_id = client_id or f"toir-sim-{uuid.uuid4().hex[:12]}"
        self._client = self._make_client(self._client_id, clean_session=False)
        self._client.max_inflight_messages_set(min(max_inflight, max_outstanding))

    def connect(self, timeout_s: float = 10.0) -> None:
        """Start the network thread and wait for the broker to accept the connection."""
        self._client.connect_async(self._address.host, self._address.port, KEEPALIVE_S)
        self._client.loop_start()
        accepted = self._answered.wait(timeout_s) and self._refused is None
        if not accepted:
            self.close()
            address = f"{self._address.host}:{self._address.port}"
            why = f"refused: {self._refused}" if self._refused else f"no answer in {timeout_s} s"
            raise ConnectionError(f"MQTT broker at {address}: {why}")

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        label: str = DEFAULT_LABEL,
        stop: threading.Event | None = None,
    ) -> bool:
        """Queue one QoS 1 message, blocking while too many await PUBACK; False if stopped."""
        if not self._reserve(stop):
            return False
        try:
            info = self._client.publish(topic, payload, qos=QOS_AT_LEAST_ONCE)
        except ValueError:
            self._release_failed()
            raise
        if info.rc not in _ACCEPTED:
            logger.warning("publish to %s refused by paho: %s", topic, info.rc)
            self._release_failed()
            return True
        self._register(info, label)
        return True

    def flush(self, timeout_s: float) -> bool:
        """Wait until every sent message is acknowledged; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._outstanding == 0, timeout_s)

    def close(self) -> None:
        """Disconnect, stop the network thread and end the broker session (flush first)."""
        self._client.disconnect()
        self._client.loop_stop()
        if self._connects:
            self._discard_session()

    @property
    def stats(self) -> PublisherStats:
        """A consistent snapshot of the counters."""
        with self._cond:
            return PublisherStats(
                sent=self._sent,
                published=self._published,
                failed=self._failed,
                outstanding=self._outstanding,
                max_outstanding_seen=self._max_seen,
                connects=self._connects,
                published_by_label=dict(self._by_label),
            )

    def _make_client(self, client_id: str, *, clean_session: bool) -> Client:
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=MQTTProtocolVersion.MQTTv311,
        )
        if self._address.username is not None:
            client.username_pw_set(self._address.username, self._address.password)
        if self._address.tls:
            client.tls_set()
        if not clean_session:
            client.reconnect_delay_set(RECONNECT_MIN_DELAY_S, RECONNECT_MAX_DELAY_S)
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
            client.on_publish = self._on_publish
        return client

    def _discard_session(self) -> None:
        # A broker keeps a CleanSession=0 session after its client leaves (MQTT 3.1.1 §3.1.2.4),
        # so one per run would pile up; connecting once with CleanSession=1 discards it.
        cleaner = self._make_client(self._client_id, clean_session=True)
        try:
            cleaner.connect(self._address.host, self._address.port, KEEPALIVE_S)
            cleaner.loop(SESSION_DISCARD_TIMEOUT_S)
            cleaner.disconnect()
        except OSError as exc:
            logger.warning("could not discard MQTT session %s: %s", self._client_id, exc)

    def _reserve(self, stop: threading.Event | None) -> bool:
        with self._cond:
            while self._outstanding >= self._max_outstanding:
                if stop is not None and stop.is_set():
                    return False
                self._cond.wait(WAIT_SLICE_S)
            self._outstanding += 1
            self._max_seen = max(self._max_seen, self._outstanding)
            return True

    def _release_failed(self) -> None:
        with self._cond:
            self._outstanding -= 1
            self._failed += 1
            self._cond.notify_all()

    def _register(self, info: MQTTMessageInfo, label: str) -> None:
        with self._cond:
            self._sent += 1
            # The PUBACK can beat us here: paho runs on_publish on its own thread.
            if info.mid in self._early_acks:
                self._early_acks.discard(info.mid)
                self._count_ack(label)
            else:
                self._labels[info.mid] = label

    def _count_ack(self, label: str) -> None:
        self._published += 1
        self._by_label[label] = self._by_label.get(label, 0) + 1

    # paho callbacks run on the network thread: keep them short and never raise.

    def _on_publish(
        self, _client: Client, _userdata: Any, mid: int, _reason: ReasonCode, _props: Properties
    ) -> None:
        with self._cond:
            label = self._labels.pop(mid, None)
            if label is None:
                self._early_acks.add(mid)
            else:
                self._count_ack(label)
            self._outstanding -= 1
            self._cond.notify_all()

    def _on_connect(
        self,
        _client: Client,
        _userdata: Any,
        flags: ConnectFlags,
        reason: ReasonCode,
        _props: Properties | None,
    ) -> None:
        if reason.is_failure:
            logger.error("MQTT broker refused the connection: %s", reason)
            self._refused = reason
            self._answered.set()
            return
        self._refused = None
        with self._cond:
            self._connects += 1
        logger.info("connected to MQTT broker (session present: %s)", flags.session_present)
        self._answered.set()

    def _on_disconnect(
        self,
        _client: Client,
        _userdata: Any,
        _flags: DisconnectFlags,
        reason: ReasonCode,
        _props: Properties | None,
    ) -> None:
        if reason.is_failure:
            logger.warning("MQTT connection lost (%s); paho reconnects and re-sends", reason)
