import orjson
import pytest

from devices.records import (
    Position,
    Reading,
    RecordError,
    decode_position,
    decode_reading,
    decode_readings,
    encode,
)

TS_US = 1_764_000_000_000_000


def test_a_reading_survives_the_kafka_round_trip() -> None:
    reading = Reading("eq-1", TS_US, 12.5, True, {"temperature_c": 61.5})
    assert decode_reading(encode(reading)) == reading


def test_a_position_survives_the_kafka_round_trip() -> None:
    position = Position("veh-1", TS_US, 55.7, 37.6, speed_kmh=42.0, ignition=True)
    assert decode_position(encode(position)) == position


@pytest.mark.parametrize(
    "fields",
    [
        {"device_id": 7, "ts_us": TS_US},
        {"device_id": "eq-1", "ts_us": "yesterday"},
        {"device_id": "eq-1", "ts_us": True},
        {"device_id": "eq-1", "ts_us": -1},
        {"device_id": "eq-1", "ts_us": 10**18},
        {"device_id": "eq-1", "ts_us": TS_US, "metrics": {"t": "hot"}},
        {"device_id": "eq-1", "ts_us": TS_US, "running": "yes"},
        {"device_id": "eq-1", "ts_us": TS_US, "hours_run": [1]},
    ],
)
def test_a_malformed_reading_value_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(RecordError):
        decode_reading(orjson.dumps(fields))


def test_unknown_fields_and_non_objects_are_refused() -> None:
    with pytest.raises(RecordError, match="unknown field `colour`"):
        decode_reading(orjson.dumps({"device_id": "eq-1", "ts_us": TS_US, "colour": "red"}))
    with pytest.raises(RecordError):
        decode_position(b"[1, 2]")


def test_a_position_needs_numeric_coordinates() -> None:
    with pytest.raises(RecordError):
        decode_position(orjson.dumps({"device_id": "v", "ts_us": TS_US, "lat": "55", "lon": 37}))


def test_a_refusal_names_the_field_and_the_member() -> None:
    value = orjson.dumps([{"device_id": "eq", "ts_us": TS_US}, {"device_id": "eq", "ts_us": True}])
    with pytest.raises(RecordError, match=r"Expected `int`, got `bool` - at `\$\[1\]\.ts_us`"):
        decode_readings(value)
