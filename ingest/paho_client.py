"""paho's MQTT client, reading its socket in large chunks.

paho reads every packet with several recv() calls (the command byte, each byte of the
remaining length, then the rest) and returns to select() after each packet: four or five
system calls per message, the largest cost left in ingest. Here recv() takes whatever the
kernel holds (up to RECV_CHUNK_BYTES), paho's own parser is served from that buffer, and
`loop_read` parses every packet received before returning.

An incoming QoS 0 or 1 PUBLISH goes straight to `on_publish_received` when one is set:
paho would build an `MQTTMessage` (with a lock and a condition variable for its delivery
info) and match its topic against every callback filter, a third of ingest's CPU per
message; here it is one `struct` call and a slice. QoS 2, MQTT 5 and anything malformed
take paho's own path (and its errors).

Acknowledgements go the other way in bulk: `ack_qos1` queues the PUBACKs of a whole batch
as one write, where paho's `ack()` queues a packet and wakes its network thread (a write to
a socket pair) for every message.

This overrides three private methods of paho-mqtt 2.x (`_sock_recv`, used only by
`_packet_read`, `loop_read` and `_handle_publish`) and uses paho's `_packet_queue` (as its
own `ack()` does) and `_in_packet`; tests/integration/ingest drives it through a real
broker, with and without TLS.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

RECV_CHUNK_BYTES = 256 * 1024
# PUBACK: type 4, remaining length 2, the packet id (MQTT 3.1.1 §3.4).
PUBACK = 0x40
_PUBACK_PACKET = struct.Struct("!BBH")
_LENGTH = struct.Struct("!H")

# topic (raw bytes: MQTT says UTF-8, a broker may let worse through), payload, packet id, QoS
PublishReceived = Callable[[bytes, bytes, int, int], None]


class BufferedClient(mqtt.Client):
    """An `mqtt.Client` that reads in chunks; use it as the client itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._chunk = b""
        self._chunk_at = 0
        self._chunk_sock: object = None
        self.on_publish_received: PublishReceived | None = None

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._sock is not self._chunk_sock:
            # A new connection: what was buffered belonged to the old one.
            self._chunk, self._chunk_at, self._chunk_sock = b"", 0, self._sock
        if self._chunk_at >= len(self._chunk):
            # Raises BlockingIOError when nothing is waiting; b"" is the end of the stream.
            self._chunk, self._chunk_at = super()._sock_recv(RECV_CHUNK_BYTES), 0
        start = self._chunk_at
        self._chunk_at = min(start + bufsize, len(self._chunk))
        return self._chunk[start : self._chunk_at]

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        # Every packet received so far, not one per select(): the buffer must be empty when
        # this returns, since select() cannot see it. The broker's in-flight window (QoS 1
        # messages not yet acknowledged) bounds how long this runs.
        while True:
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                return MQTTErrorCode.MQTT_ERR_SUCCESS
            if rc > 0:
                return self._loop_rc_handle(rc)

    def _handle_publish(self) -> MQTTErrorCode:
        received = self.on_publish_received
        header = self._in_packet["command"]
        qos = (header & 0x06) >> 1
        if received is None or qos > 1 or self._protocol != mqtt.MQTTv311:
            return super()._handle_publish()
        packet = self._in_packet["packet"]
        topic_end = 2 + _LENGTH.unpack_from(packet)[0] if len(packet) >= 2 else 0
        mid_end = topic_end + 2 * qos
        if topic_end <= 2 or mid_end > len(packet):  # no topic, or cut short: paho says why
            return super()._handle_publish()
        mid = _LENGTH.unpack_from(packet, topic_end)[0] if qos else 0
        # Manual acknowledgement: a QoS 1 message is acknowledged by ack_qos1, later.
        received(bytes(packet[2:topic_end]), bytes(packet[mid_end:]), mid, qos)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_qos1(self, mids: Sequence[int]) -> None:
        """Acknowledge these QoS 1 messages (manual acknowledgement) with one queued write."""
        if mids:
            packets = b"".join([_PUBACK_PACKET.pack(PUBACK, 2, mid) for mid in mids])
            self._packet_queue(PUBACK, packets, 0, 1)
