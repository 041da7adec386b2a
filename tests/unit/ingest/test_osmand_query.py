"""OsmAnd / Traccar Client query parameters (`decode_osmand_query`)."""

from __future__ import annotations

import pytest

from devices.records import Position
from ingest.decode import DecodeLimits, decode_osmand_query
from kernel.dlq import RejectReason
from tests.unit.ingest.factories import (
    OMIT,
    RECEIVED_US,
    TS_MS,
    TS_US,
    only_position,
    only_rejection,
    osmand_params,
)


def fix_of(**changes: object) -> Position:
    return only_position(decode_osmand_query(osmand_params(**changes), received_us=RECEIVED_US))


def rejection_of(params: dict[str, str]) -> tuple[RejectReason, str]:
    rejection = only_rejection(decode_osmand_query(params, received_us=RECEIVED_US))
    return rejection.reason, rejection.detail


def test_query_is_decoded_with_every_field_in_contract_units() -> None:
    fix = fix_of(
        speed="10", bearing="90.5", altitude="120", accuracy="8", batt="77",
        ignition="true", odometer="12345", hours="5400000",
    )  # fmt: skip
    assert fix == Position(
        "phone-1", TS_US, 55.75, 37.62, 10 * 1.852, 90.5, True, 12.345, 8.0, 120.0, 77.0, 1.5
    )


def test_speed_in_knots_becomes_kmh() -> None:
    assert fix_of(speed="1").speed_kmh == 1.852


def test_odometer_in_metres_becomes_km() -> None:
    assert fix_of(odometer="1500").odometer_km == 1.5


def test_hours_in_milliseconds_become_hours_run() -> None:
    assert fix_of(hours="7200000").hours_run == 2.0


def test_location_parameter_gives_lat_and_lon() -> None:
    fix = fix_of(lat=OMIT, lon=OMIT, location="-33.5,151.25")
    assert (fix.lat, fix.lon) == (-33.5, 151.25)


def test_location_parameter_without_two_parts_is_wrong_type() -> None:
    params = osmand_params(lat=OMIT, lon=OMIT, location="1;2")
    assert rejection_of(params)[0] is RejectReason.WRONG_TYPE


def test_deviceid_and_heading_are_accepted_as_aliases() -> None:
    fix = fix_of(id=OMIT, deviceid="tracker-2", heading="45")
    assert (fix.device_id, fix.heading) == ("tracker-2", 45.0)


def test_missing_id_is_missing_field() -> None:
    assert rejection_of(osmand_params(id=OMIT)) == (RejectReason.MISSING_FIELD, "id: missing")


def test_invalid_id_is_invalid_device_id() -> None:
    assert rejection_of(osmand_params(id="a b"))[0] is RejectReason.INVALID_DEVICE_ID


@pytest.mark.parametrize("field", ["lat", "lon"])
def test_missing_coordinate_is_missing_field(field: str) -> None:
    assert rejection_of(osmand_params(**{field: OMIT})) == (
        RejectReason.MISSING_FIELD,
        f"{field}: missing",
    )


def test_missing_timestamp_means_the_receive_time() -> None:
    assert fix_of(timestamp=OMIT).ts_us == RECEIVED_US


@pytest.mark.parametrize(
    "timestamp",
    [str(TS_MS), "2023-11-14T22:12:20Z", "2023-11-14T22:12:20.000+00:00", "1699999940.0"],
)
def test_timestamp_accepts_seconds_milliseconds_and_iso(timestamp: str) -> None:
    assert fix_of(timestamp=timestamp).ts_us == TS_US


def test_timestamp_without_an_offset_is_wrong_type() -> None:
    assert rejection_of(osmand_params(timestamp="2023-11-14 22:12:20")) == (
        RejectReason.WRONG_TYPE,
        "timestamp: timestamp needs a UTC offset",
    )


@pytest.mark.parametrize("value", ["fast", "1,5", "0x10", "1_0", " "])
def test_unparseable_number_is_wrong_type(value: str) -> None:
    assert rejection_of(osmand_params(speed=value)) == (
        RejectReason.WRONG_TYPE,
        "speed: not a number",
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e999"])
def test_non_finite_number_is_not_finite(value: str) -> None:
    assert rejection_of(osmand_params(lat=value))[0] is RejectReason.NOT_FINITE


def test_empty_optional_value_means_not_reported() -> None:
    assert fix_of(speed="", batt="").speed_kmh is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": "-90.1"}, "lat"),
        ({"bearing": "361"}, "bearing"),
        ({"speed": "-1"}, "speed"),
        ({"batt": "101"}, "batt"),
    ],
)
def test_value_beyond_its_range_is_out_of_range(params: dict[str, str], field: str) -> None:
    reason, detail = rejection_of(osmand_params(**params))
    assert reason is RejectReason.OUT_OF_RANGE
    assert detail.startswith(f"{field}: ")


def test_ignition_that_is_not_true_or_false_is_wrong_type() -> None:
    assert rejection_of(osmand_params(ignition="maybe"))[0] is RejectReason.WRONG_TYPE


def test_lat_and_lon_both_zero_is_a_valid_fix() -> None:
    fix = fix_of(lat="0", lon="0")
    assert (fix.lat, fix.lon) == (0.0, 0.0)


def test_query_larger_than_the_limit_is_payload_too_large() -> None:
    params = osmand_params(extra="x" * 100)
    decoded = decode_osmand_query(
        params, received_us=RECEIVED_US, limits=DecodeLimits(max_payload_bytes=100)
    )
    assert only_rejection(decoded).reason is RejectReason.PAYLOAD_TOO_LARGE


def test_non_string_value_is_wrong_type() -> None:
    params: dict[str, object] = {**osmand_params(), "lat": 55.75}
    decoded = decode_osmand_query(params, received_us=RECEIVED_US)  # type: ignore[arg-type]
    assert only_rejection(decoded).reason is RejectReason.WRONG_TYPE
