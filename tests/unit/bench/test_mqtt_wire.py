"""The benchmark publisher's MQTT 3.1.1 packets, byte for byte against the specification."""

from __future__ import annotations

import pytest

from toir.bench.mqtt_wire import (
    MAX_REMAINING_LENGTH,
    ProtocolError,
    append_publish,
    connack_refusal,
    connack_return_code,
    connect_packet,
    parse_acks,
    remaining_length,
    utf8_field,
)


def _puback(packet_id: int) -> bytes:
    return bytes((0x40, 0x02)) + packet_id.to_bytes(2, "big")


def _decode_remaining_length(encoded: bytes) -> int:
    # The decoding algorithm of MQTT 3.1.1 §2.2.3, as the broker runs it.
    value, multiplier = 0, 1
    for byte in encoded:
        value += (byte & 0x7F) * multiplier
        multiplier *= 128
    return value


# The boundaries of one to four bytes, from the table in §2.2.3.
@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16_383, b"\xff\x7f"),
        (16_384, b"\x80\x80\x01"),
        (2_097_151, b"\xff\xff\x7f"),
        (2_097_152, b"\x80\x80\x80\x01"),
        (268_435_455, b"\xff\xff\xff\x7f"),
    ],
)
def test_remaining_length_matches_the_specification_table(length: int, encoded: bytes) -> None:
    assert remaining_length(length) == encoded


@pytest.mark.parametrize("length", [1, 200, 321, 16_385, 65_536, 1_000_000, 99_999_999])
def test_remaining_length_decodes_back(length: int) -> None:
    encoded = remaining_length(length)
    assert all(byte & 0x80 for byte in encoded[:-1]) and not encoded[-1] & 0x80
    assert _decode_remaining_length(encoded) == length


@pytest.mark.parametrize("length", [-1, MAX_REMAINING_LENGTH + 1])
def test_remaining_length_refuses_what_mqtt_cannot_carry(length: int) -> None:
    with pytest.raises(ValueError):
        remaining_length(length)


def test_connect_with_a_persistent_session_and_credentials() -> None:
    packet = connect_packet(
        "pub-1", clean_session=False, keepalive_s=60, username="dev", password="pw"
    )
    body = b"\x00\x04MQTT\x04\xc0\x00\x3c" + b"\x00\x05pub-1" + b"\x00\x03dev" + b"\x00\x02pw"
    assert packet == b"\x10" + bytes((len(body),)) + body


def test_connect_with_a_clean_session_and_no_credentials() -> None:
    packet = connect_packet("pub-1", clean_session=True, keepalive_s=60)
    assert packet == b"\x10\x11\x00\x04MQTT\x04\x02\x00\x3c\x00\x05pub-1"


def test_connack_gives_its_return_code_and_names_refusals() -> None:
    assert connack_return_code(b"\x20\x02\x00\x00") == 0
    assert connack_return_code(b"\x20\x02\x01\x05") == 5
    assert connack_refusal(4) == "bad user name or password"
    with pytest.raises(ProtocolError):
        connack_return_code(b"\x40\x02\x00\x01")


def test_publish_at_qos_1_with_a_payload_past_one_length_byte() -> None:
    burst = bytearray()
    payload = b"x" * 300
    append_publish(burst, utf8_field("a/b"), 0x1234, payload)
    append_publish(burst, utf8_field("c"), 7, b"{}")
    first = b"\x32" + remaining_length(5 + 2 + 300) + b"\x00\x03a/b\x12\x34" + payload
    assert bytes(burst) == first + b"\x32\x07\x00\x01c\x00\x07{}"


def test_acks_are_read_in_bulk() -> None:
    data = b"".join(_puback(n) for n in (1, 2, 0x4002, 65_535))
    assert parse_acks(data) == ([1, 2, 0x4002, 65_535], 16)


@pytest.mark.parametrize("cut", range(1, 12))
def test_an_ack_cut_by_a_read_is_kept_for_the_next(cut: int) -> None:
    stream = b"".join(_puback(n) for n in (10, 0x4040, 12))
    first, used = parse_acks(stream[:cut])
    assert used == len(first) * 4 <= cut
    rest, used_rest = parse_acks(stream[used:cut] + stream[cut:])
    assert first + rest == [10, 0x4040, 12]
    assert used + used_rest == len(stream)


def test_pingresp_between_acks_is_skipped() -> None:
    data = _puback(1) + b"\xd0\x00" + _puback(2) + b"\xd0\x00" + _puback(3)[:3]
    assert parse_acks(data) == ([1, 2], 12)


@pytest.mark.parametrize(
    "data",
    [
        b"\x30\x05\x00\x01a\x00\x01",  # a PUBLISH to a client that subscribes to nothing
        b"\x40\x03\x00\x01\x00",  # a PUBACK of the wrong length
        b"\xe0\x00\x00\x00",  # DISCONNECT is not sent by a 3.1.1 server
    ],
)
def test_any_other_packet_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_acks(_puback(1) + data)
