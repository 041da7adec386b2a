"""Traccar Client 9+ JSON bodies (`decode_traccar_json`)."""

from __future__ import annotations

import pytest

from devices.records import Position
from ingest.decode import Decoded, DecodeLimits, decode_traccar_json
from kernel.dlq import RejectReason
from tests.unit.ingest.factories import (
    OMIT,
    RECEIVED_US,
    TS_MS,
    TS_US,
    dumps,
    merged,
    only_position,
    only_rejection,
    traccar_body,
    traccar_location,
)


def decode(body: object) -> Decoded:
    return decode_traccar_json(dumps(body), received_us=RECEIVED_US)


def fix_of(coords: dict[str, object] | None = None, **changes: object) -> Position:
    location = traccar_location(**changes)
    location["coords"] = merged(location["coords"], coords or {})
    return only_position(decode(traccar_body(location)))


def rejection_of(body: object) -> tuple[RejectReason, str]:
    rejection = only_rejection(decode(body))
    return rejection.reason, rejection.detail


def test_body_is_decoded_with_every_field_in_contract_units() -> None:
    fix = fix_of(
        {"heading": 180.0, "altitude": 150.5},
        battery={"level": 0.5, "is_charging": False},
        odometer=2500,
        is_moving=True,
    )
    assert fix == Position(
        "48241179", TS_US, 55.75, 37.62, 36.0, 180.0, None, 2.5, 5.0, 150.5, 50.0, None
    )


def test_speed_in_metres_per_second_becomes_kmh() -> None:
    assert fix_of({"speed": 2.5}).speed_kmh == 9.0


@pytest.mark.parametrize("field", ["speed", "heading"])
def test_negative_speed_or_heading_means_unknown(field: str) -> None:
    fix = fix_of({field: -1})
    assert (fix.speed_kmh if field == "speed" else fix.heading) is None


def test_heading_above_360_is_out_of_range() -> None:
    location = traccar_location(coords={"latitude": 1, "longitude": 2, "heading": 361})
    assert rejection_of(traccar_body(location))[0] is RejectReason.OUT_OF_RANGE


def test_battery_level_fraction_becomes_percent() -> None:
    assert fix_of(battery={"level": 0.37}).battery_pct == 37.0


def test_battery_level_above_one_is_out_of_range() -> None:
    body = traccar_body(traccar_location(battery={"level": 1.5}))
    assert rejection_of(body)[0] is RejectReason.OUT_OF_RANGE


def test_unknown_battery_level_is_none() -> None:
    assert fix_of(battery={"level": -1}).battery_pct is None


def test_odometer_in_metres_becomes_km() -> None:
    assert fix_of(odometer=1234).odometer_km == 1.234


def test_timestamp_in_epoch_milliseconds_is_accepted() -> None:
    assert fix_of(timestamp=TS_MS).ts_us == TS_US


def test_missing_timestamp_is_missing_field() -> None:
    body = traccar_body(traccar_location(timestamp=OMIT))
    assert rejection_of(body) == (RejectReason.MISSING_FIELD, "location.timestamp: missing")


def test_missing_coords_is_missing_field() -> None:
    body = traccar_body(traccar_location(coords=OMIT))
    assert rejection_of(body) == (RejectReason.MISSING_FIELD, "location.coords: missing")


def test_missing_latitude_is_missing_field() -> None:
    body = traccar_body(traccar_location(coords={"longitude": 1.0}))
    assert rejection_of(body) == (
        RejectReason.MISSING_FIELD,
        "location.coords.latitude: missing",
    )


def test_lat_and_lon_both_zero_is_a_valid_fix() -> None:
    fix = fix_of({"latitude": 0.0, "longitude": 0.0})
    assert (fix.lat, fix.lon) == (0.0, 0.0)


def test_missing_device_id_is_missing_field() -> None:
    assert rejection_of(traccar_body(device_id=OMIT)) == (
        RejectReason.MISSING_FIELD,
        "device_id: missing",
    )


def test_invalid_device_id_is_invalid_device_id() -> None:
    assert rejection_of(traccar_body(device_id="a/b"))[0] is RejectReason.INVALID_DEVICE_ID


def test_numeric_device_id_is_wrong_type() -> None:
    assert rejection_of(traccar_body(device_id=48241179))[0] is RejectReason.WRONG_TYPE


def test_location_array_gives_one_outcome_per_element() -> None:
    locations = [traccar_location(), traccar_location(coords={"latitude": 1}), traccar_location()]
    decoded = decode(traccar_body(locations))
    assert len(decoded.records) == 2
    assert [(r.reason, r.item_index) for r in decoded.rejections] == [
        (RejectReason.MISSING_FIELD, 1)
    ]


def test_invalid_device_id_with_a_location_array_is_one_whole_message_rejection() -> None:
    decoded = decode(traccar_body([traccar_location()] * 3, device_id="a b"))
    assert only_rejection(decoded).item_index is None


def test_empty_location_array_is_one_whole_message_rejection() -> None:
    rejection = only_rejection(decode(traccar_body([])))
    assert (rejection.reason, rejection.item_index) == (RejectReason.MISSING_FIELD, None)


def test_top_level_array_gives_one_outcome_per_body() -> None:
    decoded = decode([traccar_body(), traccar_body(device_id="x y"), traccar_body(device_id="b")])
    assert [r.device_id for r in decoded.records if isinstance(r, Position)] == ["48241179", "b"]
    assert [(r.reason, r.item_index) for r in decoded.rejections] == [
        (RejectReason.INVALID_DEVICE_ID, 1)
    ]


def test_body_over_the_limit_is_payload_too_large() -> None:
    body = dumps(traccar_body())
    limits = DecodeLimits(max_payload_bytes=len(body) - 1)
    decoded = decode_traccar_json(body, received_us=RECEIVED_US, limits=limits)
    assert only_rejection(decoded).reason is RejectReason.PAYLOAD_TOO_LARGE


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", RejectReason.NOT_UTF8),
        (b"{", RejectReason.INVALID_JSON),
        (b"7", RejectReason.WRONG_TYPE),
    ],
)
def test_undecodable_body_is_one_whole_message_rejection(body: bytes, reason: RejectReason) -> None:
    rejection = only_rejection(decode_traccar_json(body, received_us=RECEIVED_US))
    assert (rejection.reason, rejection.item_index) == (reason, None)
