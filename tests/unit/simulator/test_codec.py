from __future__ import annotations

from datetime import UTC, datetime

import orjson

from devices.records import Position, Reading
from devices.simulator.codec import encode_position, encode_reading, encode_sample, wire_ts
from kernel.clock import to_epoch_us
from tests.unit.simulator.factories import T0_US

TS_US = T0_US + 123_456_789


def _reading() -> Reading:
    metrics = {"temperature_c": 41.5, "vibration_mm_s": 2.1, "pressure_bar": 6.0, "current_a": 38.2}
    return Reading("eq-0001", TS_US, hours_run=1234.5, running=True, metrics=metrics)


def _position() -> Position:
    return Position(
        "veh-001",
        TS_US,
        lat=55.75,
        lon=37.62,
        speed_kmh=42.0,
        heading=90.5,
        ignition=True,
        odometer_km=15000.123,
        accuracy_m=5.5,
    )


def test_a_reading_is_encoded_in_the_native_telemetry_format() -> None:
    payload = orjson.loads(encode_reading(_reading()))

    assert payload == {
        "ts": "2024-06-03T00:02:03.456789+00:00",
        "hours_run": 1234.5,
        "running": True,
        "metrics": _reading().metrics,
    }


def test_a_position_is_encoded_in_the_native_position_format() -> None:
    payload = orjson.loads(encode_position(_position()))

    assert payload == {
        "ts": "2024-06-03T00:02:03.456789+00:00",
        "lat": 55.75,
        "lon": 37.62,
        "speed_kmh": 42.0,
        "heading": 90.5,
        "ignition": True,
        "odometer_km": 15000.123,
        "accuracy_m": 5.5,
    }


def test_absent_optional_fields_are_left_out() -> None:
    payload = orjson.loads(encode_position(Position("veh-001", TS_US, lat=1.0, lon=2.0)))

    assert set(payload) == {"ts", "lat", "lon"}


def test_the_iso_timestamp_round_trips_to_the_microsecond() -> None:
    for ts_us in (T0_US, T0_US + 1, T0_US + 999_999, 1_700_000_000_123_457):
        text = orjson.loads(orjson.dumps(wire_ts(ts_us)))
        parsed = datetime.fromisoformat(text)
        assert text.endswith("+00:00")
        assert parsed.tzinfo is not None and parsed.utcoffset() == UTC.utcoffset(None)
        assert to_epoch_us(parsed) == ts_us


def test_epoch_milliseconds_can_be_chosen_instead() -> None:
    payload = orjson.loads(encode_reading(_reading(), ts_format="epoch_ms"))

    assert payload["ts"] == TS_US // 1000


def test_samples_go_to_their_device_topics() -> None:
    assert encode_sample(_reading())[0] == "toir/v1/devices/eq-0001/telemetry"
    assert encode_sample(_position())[0] == "toir/v1/devices/veh-001/position"
