"""Topic rules: which topics are known, and the device id each one names."""

from __future__ import annotations

import pytest

from devices.records import Position, Reading
from ingest.decode import decode_mqtt
from kernel.dlq import RejectReason
from tests.unit.ingest.factories import (
    RECEIVED_US,
    dumps,
    mqtt,
    only_position,
    only_reading,
    only_rejection,
    owntracks_payload,
    position_payload,
    reading_payload,
)


@pytest.mark.parametrize(
    "topic",
    [
        "",
        "toir/v1/devices/pump-1/status",
        "toir/v2/devices/pump-1/telemetry",
        "toir/v1/devices/pump-1/telemetry/extra",
        "v1/gateway/attributes",
        "v1/devices/me/telemetry",
        "owntracks/jane/phone/event",
        "owntracks/jane",
    ],
)
def test_unknown_topic_is_unknown_topic(topic: str) -> None:
    rejection = only_rejection(mqtt(topic, reading_payload()))
    assert rejection.reason is RejectReason.UNKNOWN_TOPIC
    assert rejection.item_index is None


def test_unknown_topic_is_reported_before_the_payload_is_parsed() -> None:
    decoded = decode_mqtt("elsewhere", b"not json", received_us=RECEIVED_US)
    assert only_rejection(decoded).reason is RejectReason.UNKNOWN_TOPIC


def test_telemetry_topic_gives_a_reading_for_the_topic_device() -> None:
    reading = only_reading(mqtt("toir/v1/devices/pump-1/telemetry", reading_payload()))
    assert isinstance(reading, Reading)
    assert reading.device_id == "pump-1"


def test_position_topic_gives_a_position_for_the_topic_device() -> None:
    fix = only_position(mqtt("toir/v1/devices/truck-7/position", position_payload()))
    assert isinstance(fix, Position)
    assert fix.device_id == "truck-7"


@pytest.mark.parametrize("device", ["A", "a.b_c-9", "x" * 64])
def test_device_ids_of_the_contract_alphabet_are_accepted(device: str) -> None:
    reading = only_reading(mqtt(f"toir/v1/devices/{device}/telemetry", reading_payload()))
    assert reading.device_id == device


@pytest.mark.parametrize("device", ["", "x" * 65, "pump 1", "pümp", "a#b", "a+b"])
def test_device_id_outside_the_alphabet_is_invalid_device_id(device: str) -> None:
    rejection = only_rejection(mqtt(f"toir/v1/devices/{device}/position", position_payload()))
    assert rejection.reason is RejectReason.INVALID_DEVICE_ID
    assert rejection.item_index is None


def test_bad_topic_device_id_is_reported_before_the_payload_is_parsed() -> None:
    decoded = decode_mqtt("toir/v1/devices/a b/telemetry", b"{", received_us=RECEIVED_US)
    assert only_rejection(decoded).reason is RejectReason.INVALID_DEVICE_ID


def test_owntracks_device_id_joins_user_and_device_with_a_dot() -> None:
    fix = only_position(mqtt("owntracks/jane/phone", owntracks_payload()))
    assert fix.device_id == "jane.phone"


@pytest.mark.parametrize(
    "topic",
    ["owntracks//phone", "owntracks/jane/", "owntracks/ja ne/phone", "owntracks/a/" + "b" * 63],
)
def test_owntracks_topic_without_a_valid_device_id_is_invalid_device_id(topic: str) -> None:
    rejection = only_rejection(mqtt(topic, owntracks_payload()))
    assert rejection.reason is RejectReason.INVALID_DEVICE_ID


def test_valid_json_on_an_invalid_device_topic_has_one_rejection_even_for_arrays() -> None:
    decoded = decode_mqtt(
        "toir/v1/devices/bad id/telemetry", dumps([reading_payload()] * 3), received_us=RECEIVED_US
    )
    assert only_rejection(decoded).item_index is None
