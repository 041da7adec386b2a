"""One MQTT 3.1.1 connection that publishes at QoS 1 and does nothing else: the benchmarks'
load publisher runs on the machine it loads, so its CPU is taken from the pipeline it measures.

paho cost ~110 µs of CPU per message here: a callback, locks and a scan of its in-flight
window per PUBACK, and a few system calls per packet. This link encodes a burst of PUBLISH
packets into one buffer and writes it with one send, then reads PUBACKs in large chunks,
only when it needs room in its window, and counts them in bulk.

One thread, a non-blocking socket and select(): a reader thread would take the GIL and a
lock for every read, and the sender only needs acknowledgements when its window is full.
One thread cannot deadlock reading and writing: the broker owes at most `window` PUBACKs of
4 bytes, far less than a socket's receive buffer, so it never blocks writing them to us
while we block writing to it.

No reconnection and no retransmission: a lost connection is a ConnectionError, so a
benchmark fails instead of reporting a run with a hole in it.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import time
import uuid
from collections.abc import Iterable

from kernel.urls import parse_mqtt_url
from toir.bench.mqtt_wire import (
    DISCONNECT_PACKET,
    MAX_PACKET_ID,
    PINGREQ_PACKET,
    append_publish,
    connack_refusal,
    connack_return_code,
    connect_packet,
    parse_acks,
    utf8_field,
)

# Messages sent and not yet acknowledged. Enough that a flat-out sender refills it in large
# bursts rather than waiting on every round trip (1,000 one-reading messages are ~200 KB,
# which the socket buffers hold), and far fewer than the 65,535 packet ids, so a free id is
# always at hand.
WINDOW = 1000
KEEPALIVE_S = 60
# The broker drops a client silent for 1.5 keepalives (MQTT 3.1.1 §3.1.2.10): ping when
# nothing has been sent for half of one, e.g. while waiting a long time for PUBACKs.
PING_AFTER_S = KEEPALIVE_S / 2
CONNECT_TIMEOUT_S = 10.0
# A broker that takes no bytes at all for this long is gone.
SEND_TIMEOUT_S = 60.0
RECV_CHUNK_BYTES = 64 * 1024  # 16,384 PUBACKs


class LeanPublisher:
    """A QoS 1 publisher with a persistent session (clean session 0, as devices connect),
    a unique client id and a bounded window of messages in flight."""

    def __init__(self, mqtt_url: str, *, window: int = WINDOW) -> None:
        self._address = parse_mqtt_url(mqtt_url)
        self.client_id = f"toir-bench-pub-{uuid.uuid4().hex[:12]}"
        self._window = window
        self._sock: socket.socket | None = None
        self._in_flight = bytearray(MAX_PACKET_ID + 1)  # 1 at each id awaiting its PUBACK
        self._next_id = 1
        self._unparsed = b""  # the start of a PUBACK cut by the end of a read
        self._topics: dict[str, bytes] = {}
        self._last_send_at = 0.0
        self.sent = self.acked = 0

    @property
    def room(self) -> int:
        """How many more messages the window takes now."""
        return self._window - (self.sent - self.acked)

    def connect(self) -> None:
        sock = self._open_session(clean_session=False)
        sock.setblocking(False)
        self._sock = sock
        self._last_send_at = time.monotonic()

    def publish_burst(self, messages: Iterable[tuple[str, bytes]]) -> None:
        """Send these (topic, payload) messages with one write; `room` bounds how many."""
        burst = bytearray()
        count = 0
        for topic, payload in messages:
            append_publish(burst, self._topic_field(topic), self._take_packet_id(), payload)
            count += 1
        self._send(burst)
        self.sent += count

    def poll_acks(self) -> None:
        """Count the PUBACKs that have arrived, without waiting."""
        self._read_acks()

    def wait_for_acks(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for PUBACKs, then count what arrived."""
        readable, _, _ = select.select([self._connected()], [], [], timeout_s)
        if readable:
            self._read_acks()

    def keep_alive(self, now: float) -> None:
        if now - self._last_send_at >= PING_AFTER_S:
            self._send(PINGREQ_PACKET)

    def flush(self, timeout_s: float) -> None:
        """Wait until every message sent is acknowledged, or the time is up."""
        deadline = time.monotonic() + timeout_s
        self.poll_acks()
        while self.acked < self.sent and (now := time.monotonic()) < deadline:
            self.keep_alive(now)
            self.wait_for_acks(min(deadline - now, PING_AFTER_S))

    def close(self) -> None:
        """DISCONNECT, then end the persistent session (§3.1.2.4: connecting with clean
        session 1 discards it) so that runs do not pile sessions up in the broker."""
        if self._sock is not None:
            with contextlib.suppress(ConnectionError):  # lost: the run failed, and says why
                self._send(DISCONNECT_PACKET)
            self._sock.close()
            self._sock = None
        cleaner = self._open_session(clean_session=True)
        cleaner.sendall(DISCONNECT_PACKET)
        cleaner.close()

    def _open_session(self, *, clean_session: bool) -> socket.socket:
        """A blocking socket on which CONNECT was accepted."""
        address = self._address
        sock = socket.create_connection((address.host, address.port), CONNECT_TIMEOUT_S)
        try:
            # Bursts are whole already: Nagle's delay would only hold back the publish times.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if address.tls:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=address.host)
            sock.sendall(self._connect_packet(clean_session))
            self._expect_accepted(sock)
        except BaseException:
            sock.close()
            raise
        return sock

    def _connect_packet(self, clean_session: bool) -> bytes:
        return connect_packet(
            self.client_id,
            clean_session=clean_session,
            keepalive_s=KEEPALIVE_S,
            username=self._address.username,
            password=self._address.password,
        )

    def _expect_accepted(self, sock: socket.socket) -> None:
        connack = b""
        while len(connack) < 4:
            received = sock.recv(4 - len(connack))
            if not received:
                raise ConnectionError(f"{self._broker()} closed the connection before CONNACK")
            connack += received
        code = connack_return_code(connack)
        if code != 0:
            refusal = connack_refusal(code)
            raise ConnectionRefusedError(f"{self._broker()} refused the connection: {refusal}")

    def _topic_field(self, topic: str) -> bytes:
        field = self._topics.get(topic)
        if field is None:
            field = self._topics[topic] = utf8_field(topic)
        return field

    def _take_packet_id(self) -> int:
        # Ids go 1..65535 and wrap; one still awaiting its PUBACK is skipped, never reused
        # (§2.3.1). The window keeps most ids free.
        packet_id = self._next_id
        while self._in_flight[packet_id]:
            packet_id = packet_id % MAX_PACKET_ID + 1
        self._in_flight[packet_id] = 1
        self._next_id = packet_id % MAX_PACKET_ID + 1
        return packet_id

    def _send(self, data: bytes | bytearray) -> None:
        sock = self._connected()
        view = memoryview(data)
        try:
            while view:
                sent = _send_some(sock, view)
                view = view[sent:]
                if not sent and not _writable_within(sock, SEND_TIMEOUT_S):
                    break
        except OSError as exc:
            raise self._lost(str(exc)) from exc
        if view:
            raise self._lost(f"the broker took nothing for {SEND_TIMEOUT_S:.0f} s")
        self._last_send_at = time.monotonic()

    def _read_acks(self) -> None:
        sock = self._connected()
        while True:
            try:
                received = sock.recv(RECV_CHUNK_BYTES)
            except (BlockingIOError, ssl.SSLWantReadError):
                return
            except OSError as exc:
                raise self._lost(str(exc)) from exc
            if not received:
                raise self._lost("the broker closed the connection")
            self._count_acks(received)
            # A short read emptied the kernel's buffer; TLS may still hold decrypted bytes,
            # which select() cannot see.
            if len(received) < RECV_CHUNK_BYTES and not _tls_pending(sock):
                return

    def _count_acks(self, received: bytes) -> None:
        data = self._unparsed + received if self._unparsed else received
        packet_ids, used = parse_acks(data)
        self._unparsed = data[used:]
        in_flight = self._in_flight
        acked = 0
        for packet_id in packet_ids:
            # Only ids in flight count: a stray or repeated PUBACK acknowledges nothing.
            if in_flight[packet_id]:
                in_flight[packet_id] = 0
                acked += 1
        self.acked += acked

    def _connected(self) -> socket.socket:
        if self._sock is None:
            raise ConnectionError("not connected")
        return self._sock

    def _lost(self, reason: str) -> ConnectionError:
        return ConnectionError(
            f"lost the MQTT connection to {self._broker()} after {self.sent} messages sent, "
            f"{self.acked} acknowledged: {reason}"
        )

    def _broker(self) -> str:
        return f"MQTT broker {self._address.host}:{self._address.port}"


def _tls_pending(sock: socket.socket) -> bool:
    return isinstance(sock, ssl.SSLSocket) and sock.pending() > 0


def _send_some(sock: socket.socket, view: memoryview) -> int:
    """How many bytes the socket took (0 when its buffer is full). TLS may want to read a
    record first (rare); the retry after select() lets it."""
    try:
        return sock.send(view)
    except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
        return 0


def _writable_within(sock: socket.socket, timeout_s: float) -> bool:
    _, writable, _ = select.select([], [sock], [], timeout_s)
    return bool(writable)
