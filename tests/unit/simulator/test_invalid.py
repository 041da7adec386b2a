from __future__ import annotations

import json
import math
from typing import Any

import pytest

from devices.simulator.invalid import GHOST_DEVICE_ID, BadMessage, bad_messages
from kernel.dlq import RejectReason
from tests.unit.simulator.factories import T0_US

REQUIRED_REASONS = {
    "invalid_json",
    "not_finite",
    "out_of_range",
    "missing_field",
    "unknown_device",
    "wrong_type",
}


def _messages() -> dict[str, BadMessage]:
    messages = bad_messages(equipment_id="eq-0001", vehicle_id="veh-001", ts_us=T0_US)
    return {message.expected_reason: message for message in messages}


def _json(message: BadMessage) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(message.payload)
    return parsed


def test_the_bad_messages_cover_every_required_reason_once() -> None:
    messages = bad_messages(equipment_id="eq-0001", vehicle_id="veh-001", ts_us=T0_US)
    reasons = [message.expected_reason for message in messages]

    assert set(reasons) >= REQUIRED_REASONS
    assert len(reasons) == len(set(reasons))
    assert set(reasons) <= {reason.value for reason in RejectReason}


def test_the_bad_messages_are_deterministic() -> None:
    first = bad_messages(equipment_id="eq-0001", vehicle_id="veh-001", ts_us=T0_US)
    second = bad_messages(equipment_id="eq-0001", vehicle_id="veh-001", ts_us=T0_US)

    assert first == second


def test_every_bad_message_goes_to_a_device_topic() -> None:
    for message in _messages().values():
        assert message.topic.startswith("toir/v1/devices/")
        assert message.topic.endswith(("/telemetry", "/position"))


def test_invalid_json_does_not_parse() -> None:
    with pytest.raises(json.JSONDecodeError):
        _json(_messages()["invalid_json"])


def test_not_finite_carries_a_nan_metric() -> None:
    metrics = _json(_messages()["not_finite"])["metrics"]

    assert any(math.isnan(value) for value in metrics.values())


def test_out_of_range_has_a_latitude_beyond_the_pole() -> None:
    message = _messages()["out_of_range"]

    assert message.topic.endswith("/position")
    assert abs(_json(message)["lat"]) > 90.0


def test_missing_field_lacks_only_the_timestamp() -> None:
    payload = _json(_messages()["missing_field"])

    assert "ts" not in payload
    assert {"lat", "lon"} <= payload.keys()


def test_unknown_device_is_an_otherwise_valid_reading_from_a_ghost() -> None:
    message = _messages()["unknown_device"]
    payload = _json(message)

    assert message.topic == f"toir/v1/devices/{GHOST_DEVICE_ID}/telemetry"
    assert payload["ts"] == "2024-06-03T00:00:00+00:00"
    assert all(isinstance(value, float) for value in payload["metrics"].values())


def test_wrong_type_has_a_string_where_a_number_belongs() -> None:
    payload = _json(_messages()["wrong_type"])

    assert isinstance(payload["speed_kmh"], str)


def test_not_utf8_cannot_be_decoded() -> None:
    with pytest.raises(UnicodeDecodeError):
        _messages()["not_utf8"].payload.decode()


def test_invalid_device_id_is_outside_the_device_id_alphabet() -> None:
    device_id = _messages()["invalid_device_id"].topic.split("/")[3]

    assert not all(c.isalnum() or c in "_.-" for c in device_id)
