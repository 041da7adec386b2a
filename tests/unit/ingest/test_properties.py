"""Property tests: no input makes a decoder raise, and every input is accounted for."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.records import Position, Reading
from ingest.decode import Decoded, decode_mqtt, decode_osmand_query, decode_traccar_json
from kernel.dlq import RejectReason
from tests.unit.ingest.factories import (
    GATEWAY_TOPIC,
    OWNTRACKS_TOPIC,
    POSITION_TOPIC,
    RECEIVED_US,
    TELEMETRY_TOPIC,
    TS_MS,
    mqtt,
    only_position,
    only_reading,
    osmand_params,
    position,
    telemetry,
)

TOPICS = [TELEMETRY_TOPIC, POSITION_TOPIC, GATEWAY_TOPIC, OWNTRACKS_TOPIC, "elsewhere/x"]
KNOWN_KEYS = [
    "ts", "metrics", "values", "hours_run", "running", "lat", "lon", "speed_kmh", "heading",
    "ignition", "odometer_km", "accuracy_m", "altitude_m", "battery_pct", "_type", "tst",
    "vel", "cog", "acc", "alt", "batt", "hmc", "odometer", "ign", "device_id", "location",
    "timestamp", "coords", "latitude", "longitude", "speed", "accuracy", "altitude",
    "battery", "level", "pump-1",
]  # fmt: skip
QUERY_KEYS = [
    "id", "deviceid", "lat", "lon", "location", "timestamp", "speed", "bearing", "heading",
    "altitude", "accuracy", "batt", "ignition", "odometer", "hours",
]  # fmt: skip
POSITION_KEYS = ["ts", "lat", "lon", "speed_kmh", "heading", "ignition", "odometer_km"]
POSITION_KEYS += ["accuracy_m", "altitude_m", "battery_pct", "hours_run"]
OWNTRACKS_KEYS = ["_type", "tst", "lat", "lon", "vel", "cog", "acc", "alt", "batt", "hmc"]
OWNTRACKS_KEYS += ["odometer", "ign"]
TRACCAR_KEYS = ["timestamp", "coords", "battery", "odometer", "latitude", "longitude", "speed"]
TRACCAR_KEYS += ["heading", "accuracy", "altitude"]
OWNTRACKS_READ_TYPES = ("location", "encrypted")

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["location", "2023-11-14T22:12:20Z", "2023-11-14T22:12:20", "transition"])
    | st.integers(min_value=946_684_800, max_value=1_700_000_000)
    | st.integers(min_value=946_684_800_000, max_value=1_700_000_000_000)
    | st.floats(min_value=-200, max_value=400)
)
keys = st.sampled_from(KNOWN_KEYS) | st.text(max_size=10)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=6),
    max_leaves=30,
)
query_values = st.text(max_size=20) | st.sampled_from(
    ["0", "1", "-1", "55.5", "true", "nan", "1e999"]
)


def parsed(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        return None


def is_ignored_owntracks(topic: str, data: object) -> bool:
    """The one allowed empty outcome: an OwnTracks message of a type other than location."""
    if topic != OWNTRACKS_TOPIC or not isinstance(data, dict):
        return False
    kind = data.get("_type")
    return isinstance(kind, str) and kind not in OWNTRACKS_READ_TYPES


def assert_accounted_for(decoded: Decoded, data: object, *, may_be_empty: bool = False) -> None:
    outcomes = len(decoded.records) + len(decoded.rejections)
    assert outcomes >= 1 or may_be_empty
    for rejection in decoded.rejections:
        assert isinstance(rejection.reason, RejectReason)
        assert rejection.detail.encode("utf-8")
    whole = [r for r in decoded.rejections if r.item_index is None]
    if whole:
        assert decoded.records == []
        assert len(decoded.rejections) == 1
    elif isinstance(data, list):
        indexes = sorted(r.item_index for r in decoded.rejections if r.item_index is not None)
        assert len(decoded.records) + len(indexes) == len(data)
        assert indexes == sorted(set(indexes))
        assert all(0 <= index < len(data) for index in indexes)
    for record in decoded.records:
        assert_in_contract(record)


def assert_in_contract(record: Reading | Position) -> None:
    assert 946_684_800_000_000 <= record.ts_us <= RECEIVED_US + 86_400_000_000
    if isinstance(record, Reading):
        assert all(math.isfinite(value) for value in record.metrics.values())
        assert len(record.metrics) <= 256
        return
    assert -90 <= record.lat <= 90
    assert -180 <= record.lon <= 180
    assert record.heading is None or 0 <= record.heading <= 360
    assert record.speed_kmh is None or record.speed_kmh >= 0
    assert record.battery_pct is None or 0 <= record.battery_pct <= 100


def check_mqtt(topic: str, payload: bytes) -> None:
    decoded = decode_mqtt(topic, payload, received_us=RECEIVED_US)
    data = parsed(payload) if topic != GATEWAY_TOPIC else None
    assert_accounted_for(decoded, data, may_be_empty=is_ignored_owntracks(topic, data))


@given(topic=st.sampled_from(TOPICS), payload=st.binary(max_size=300))
def test_arbitrary_bytes_on_any_topic_never_raise_and_are_accounted_for(
    topic: str, payload: bytes
) -> None:
    check_mqtt(topic, payload)


@settings(max_examples=400)
@given(topic=st.sampled_from(TOPICS), data=json_values)
def test_arbitrary_json_on_any_topic_never_raises_and_is_accounted_for(
    topic: str, data: object
) -> None:
    check_mqtt(topic, json.dumps(data).encode())


@settings(max_examples=300)
@given(
    topic=st.sampled_from(TOPICS[:2]),
    items=st.lists(st.dictionaries(keys, scalars | st.dictionaries(keys, scalars), max_size=6)),
)
def test_arrays_of_objects_give_one_outcome_per_element(topic: str, items: list[object]) -> None:
    check_mqtt(topic, json.dumps(items).encode())


@given(topic=st.text(max_size=60), payload=st.sampled_from([b"{}", b"[]", b'{"ts": 1}']))
def test_arbitrary_topics_never_raise(topic: str, payload: bytes) -> None:
    decoded = decode_mqtt(topic, payload, received_us=RECEIVED_US)
    data = json.loads(payload) if topic != GATEWAY_TOPIC else None
    ignorable = topic.startswith("owntracks/") and topic.count("/") == 2
    assert_accounted_for(
        decoded, data, may_be_empty=ignorable and is_ignored_owntracks(OWNTRACKS_TOPIC, data)
    )


@settings(max_examples=300)
@given(params=st.dictionaries(st.sampled_from(QUERY_KEYS) | st.text(max_size=8), query_values))
def test_arbitrary_query_parameters_never_raise_and_give_one_outcome(
    params: dict[str, str],
) -> None:
    decoded = decode_osmand_query(params, received_us=RECEIVED_US)
    assert len(decoded.records) + len(decoded.rejections) == 1
    assert_accounted_for(decoded, None)


@settings(max_examples=300)
@given(data=json_values | st.dictionaries(keys, json_values))
def test_arbitrary_traccar_json_never_raises_and_is_accounted_for(data: object) -> None:
    decoded = decode_traccar_json(json.dumps(data).encode(), received_us=RECEIVED_US)
    assert_accounted_for(decoded, data)


@given(body=st.binary(max_size=300))
def test_arbitrary_traccar_bytes_never_raise(body: bytes) -> None:
    decoded = decode_traccar_json(body, received_us=RECEIVED_US)
    assert_accounted_for(decoded, parsed(body))


def finite(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False)


in_window_s = st.integers(min_value=946_684_800, max_value=RECEIVED_US // 1_000_000 + 86_400)
names = st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True)
positions = st.fixed_dictionaries(
    {"ts": in_window_s, "lat": finite(-90, 90), "lon": finite(-180, 180)},
    optional={
        "speed_kmh": finite(0, 1000),
        "heading": finite(0, 360),
        "ignition": st.booleans(),
        "odometer_km": finite(0, 1e7),
        "accuracy_m": finite(0, 1e4),
        "altitude_m": finite(-500, 9000),
        "battery_pct": finite(0, 100),
        "hours_run": finite(0, 1e6),
    },
)
readings = st.fixed_dictionaries(
    {"ts": in_window_s},
    optional={
        "hours_run": finite(0, 1e6),
        "running": st.booleans(),
        "metrics": st.dictionaries(names, finite(-1e12, 1e12), max_size=10),
    },
)
owntracks_locations = st.fixed_dictionaries(
    {"_type": st.just("location"), "tst": in_window_s, "lat": finite(-90, 90)},
    optional={"lon": finite(-180, 180), "vel": finite(0, 300), "acc": finite(0, 1e4)},
)
traccar_coords = st.fixed_dictionaries(
    {"latitude": finite(-90, 90), "longitude": finite(-180, 180)},
    optional={"speed": finite(-1, 100), "heading": finite(-1, 360), "accuracy": finite(0, 1e3)},
)


@given(positions)
def test_any_in_contract_native_position_is_accepted_unchanged(data: dict[str, Any]) -> None:
    fix = only_position(position(data))
    assert fix.ts_us == data["ts"] * 1_000_000
    assert {key: getattr(fix, key) for key in data if key != "ts"} == {
        key: value for key, value in data.items() if key != "ts"
    }


@given(readings)
def test_any_in_contract_native_reading_is_accepted_unchanged(data: dict[str, Any]) -> None:
    reading = only_reading(telemetry(data))
    assert reading.ts_us == data["ts"] * 1_000_000
    assert reading.metrics == data.get("metrics", {})
    assert (reading.hours_run, reading.running) == (data.get("hours_run"), data.get("running"))


@settings(max_examples=300)
@given(data=positions, key=st.sampled_from(POSITION_KEYS), value=json_values)
def test_native_position_with_any_value_in_any_field_gives_one_outcome(
    data: dict[str, Any], key: str, value: object
) -> None:
    decoded = position({**data, key: value})
    assert len(decoded.records) + len(decoded.rejections) == 1
    assert_accounted_for(decoded, None)


@settings(max_examples=300)
@given(
    data=readings, key=st.sampled_from(["ts", "hours_run", "running", "metrics"]), value=json_values
)
def test_native_reading_with_any_value_in_any_field_gives_one_outcome(
    data: dict[str, Any], key: str, value: object
) -> None:
    decoded = telemetry({**data, key: value})
    assert len(decoded.records) + len(decoded.rejections) == 1
    assert_accounted_for(decoded, None)


@settings(max_examples=300)
@given(data=owntracks_locations, key=st.sampled_from(OWNTRACKS_KEYS), value=json_values)
def test_owntracks_location_with_any_value_in_any_field_is_accounted_for(
    data: dict[str, Any], key: str, value: object
) -> None:
    message = {**data, key: value}
    decoded = mqtt(OWNTRACKS_TOPIC, message)
    assert_accounted_for(decoded, None, may_be_empty=is_ignored_owntracks(OWNTRACKS_TOPIC, message))


@settings(max_examples=300)
@given(coords=traccar_coords, key=st.sampled_from(TRACCAR_KEYS), value=json_values)
def test_traccar_location_with_any_value_in_any_field_gives_one_outcome(
    coords: dict[str, Any], key: str, value: object
) -> None:
    location = {"timestamp": TS_MS, "coords": coords}
    if key in location or key in ("battery", "odometer"):
        location = {**location, key: value}
    else:
        location = {**location, "coords": {**coords, key: value}}
    body = {"device_id": "d1", "location": location}
    decoded = decode_traccar_json(json.dumps(body).encode(), received_us=RECEIVED_US)
    assert len(decoded.records) + len(decoded.rejections) == 1
    assert_accounted_for(decoded, None)


@given(coords=traccar_coords)
def test_any_in_contract_traccar_location_is_accepted(coords: dict[str, Any]) -> None:
    body = {"device_id": "d1", "location": {"timestamp": TS_MS, "coords": coords}}
    fix = only_position(decode_traccar_json(json.dumps(body).encode(), received_us=RECEIVED_US))
    assert (fix.lat, fix.lon) == (coords["latitude"], coords["longitude"])


@settings(max_examples=300)
@given(key=st.sampled_from(QUERY_KEYS), value=query_values)
def test_osmand_query_with_any_value_in_any_parameter_gives_one_outcome(
    key: str, value: str
) -> None:
    decoded = decode_osmand_query(osmand_params(**{key: value}), received_us=RECEIVED_US)
    assert len(decoded.records) + len(decoded.rejections) == 1
    assert_accounted_for(decoded, None)
