"""The MQTT 3.1.1 packets a QoS 1 publisher needs, encoded and decoded by hand (OASIS
MQTT 3.1.1, chapters 2 and 3): CONNECT, CONNACK, PUBLISH, PUBACK, PINGREQ, PINGRESP and
DISCONNECT. Nothing here does I/O.
"""

from __future__ import annotations

import struct

PROTOCOL_NAME = b"\x00\x04MQTT"  # §3.1.2.1
PROTOCOL_LEVEL = 4  # 3.1.1, §3.1.2.2
MAX_REMAINING_LENGTH = 268_435_455  # §2.2.3: four bytes of seven bits each
MAX_PACKET_ID = 65_535  # §2.3.1: ids are 1..65535, 0 is not allowed

CONNACK = 0x20
CONNACK_LENGTH = 4
PUBLISH_QOS_1 = 0x32  # §3.3.1: type 3, DUP 0, QoS 1, RETAIN 0
PUBACK = 0x40
PUBACK_LENGTH = 4
PINGRESP = 0xD0
PINGREQ_PACKET = b"\xc0\x00"  # §3.12
DISCONNECT_PACKET = b"\xe0\x00"  # §3.14

CLEAN_SESSION_FLAG = 0x02  # §3.1.2.4
PASSWORD_FLAG = 0x40  # §3.1.2.9
USERNAME_FLAG = 0x80  # §3.1.2.8

# §3.2.2.3, table 3.1.
CONNACK_REFUSALS = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}


class ProtocolError(Exception):
    """The broker sent something a QoS 1 publisher does not expect."""


def remaining_length(length: int) -> bytes:
    """The variable-length encoding of a packet's remaining length (§2.2.3)."""
    if length < 0x80:
        if length < 0:
            raise ValueError(f"negative remaining length {length}")
        return bytes((length,))
    if length < 0x4000:  # the common case here: one reading is a few hundred bytes
        return bytes((length & 0x7F | 0x80, length >> 7))
    if length > MAX_REMAINING_LENGTH:
        raise ValueError(f"{length} bytes is more than an MQTT packet can hold")
    encoded = bytearray()
    while length >= 0x80:
        encoded.append(length & 0x7F | 0x80)
        length >>= 7
    encoded.append(length)
    return bytes(encoded)


def utf8_field(text: str) -> bytes:
    """A length-prefixed UTF-8 string (§1.5.3)."""
    return binary_field(text.encode())


def binary_field(data: bytes) -> bytes:
    """Length-prefixed binary data (§3.1.3.5, the password)."""
    if len(data) > 0xFFFF:
        raise ValueError(f"a field of {len(data)} bytes is longer than MQTT allows")
    return len(data).to_bytes(2, "big") + data


def connect_packet(
    client_id: str,
    *,
    clean_session: bool,
    keepalive_s: int,
    username: str | None = None,
    password: str | None = None,
) -> bytes:
    """CONNECT (§3.1). A password goes only with a user name: 3.1.1 forbids one alone."""
    flags = CLEAN_SESSION_FLAG if clean_session else 0
    payload = utf8_field(client_id)
    if username is not None:
        flags |= USERNAME_FLAG
        payload += utf8_field(username)
        if password is not None:
            flags |= PASSWORD_FLAG
            payload += binary_field(password.encode())
    header = PROTOCOL_NAME + bytes((PROTOCOL_LEVEL, flags)) + keepalive_s.to_bytes(2, "big")
    body = header + payload
    return bytes((0x10,)) + remaining_length(len(body)) + body


def connack_return_code(packet: bytes) -> int:
    """The return code of a CONNACK (§3.2): 0 accepted, else a refusal."""
    if len(packet) != CONNACK_LENGTH or packet[0] != CONNACK or packet[1] != 2:
        raise ProtocolError(f"expected CONNACK, got {packet[:8].hex(' ')}")
    return packet[3]


def connack_refusal(code: int) -> str:
    return CONNACK_REFUSALS.get(code, f"return code {code}")


def append_publish(burst: bytearray, topic: bytes, packet_id: int, payload: bytes) -> None:
    """PUBLISH at QoS 1 (§3.3) onto `burst`; `topic` is already a `utf8_field`."""
    burst.append(PUBLISH_QOS_1)
    burst += remaining_length(len(topic) + 2 + len(payload))
    burst += topic
    burst += packet_id.to_bytes(2, "big")
    burst += payload


def parse_acks(data: bytes | bytearray) -> tuple[list[int], int]:
    """The packet ids of the PUBACKs at the start of `data`, and how many bytes were used:
    a packet cut by the end of a read is left for the next. PINGRESP is skipped; any other
    packet is a ProtocolError (a publisher subscribes to nothing)."""
    count = len(data) // PUBACK_LENGTH
    whole = count * PUBACK_LENGTH
    # Usually every packet is a PUBACK: check the grid of headers in C, unpack in C.
    if _all_pubacks(data, whole, count):
        return [word & 0xFFFF for word in struct.unpack_from(f">{count}I", data)], whole
    return _parse_one_by_one(data)


def _all_pubacks(data: bytes | bytearray, whole: int, count: int) -> bool:
    return data[0:whole:4].count(PUBACK) == count and data[1:whole:4].count(2) == count


def _parse_one_by_one(data: bytes | bytearray) -> tuple[list[int], int]:
    ids: list[int] = []
    at = 0
    while at + 2 <= len(data):
        kind, length = data[at], data[at + 1]
        if kind == PUBACK and length == 2:
            if at + PUBACK_LENGTH > len(data):
                break
            ids.append(data[at + 2] << 8 | data[at + 3])
            at += PUBACK_LENGTH
        elif kind == PINGRESP and length == 0:
            at += 2
        else:
            raise ProtocolError(f"unexpected packet from the broker: {data[at : at + 8].hex(' ')}")
    return ids, at
