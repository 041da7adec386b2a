"""Native GPS fixes on `toir/v1/devices/{device_id}/position`."""

from __future__ import annotations

import pytest

from devices.records import Position
from kernel.dlq import RejectReason
from tests.unit.ingest.factories import (
    OMIT,
    TS_US,
    only_position,
    only_rejection,
    position,
    position_payload,
)


def fix_of(**changes: object) -> Position:
    return only_position(position(position_payload(**changes)))


def rejection_of(**changes: object) -> tuple[RejectReason, str]:
    rejection = only_rejection(position(position_payload(**changes)))
    return rejection.reason, rejection.detail


def test_position_is_decoded_with_every_field_in_contract_units() -> None:
    fix = fix_of(
        speed_kmh=42.5,
        heading=270,
        ignition=True,
        odometer_km=12_345.6,
        accuracy_m=4.5,
        altitude_m=-12.0,
        battery_pct=88,
        hours_run=321.25,
    )
    assert fix == Position(
        "truck-7", TS_US, 55.75, 37.62, 42.5, 270.0, True, 12_345.6, 4.5, -12.0, 88.0, 321.25
    )


def test_minimal_position_leaves_optional_fields_none() -> None:
    assert fix_of() == Position("truck-7", TS_US, 55.75, 37.62)


def test_null_optional_fields_mean_not_reported() -> None:
    assert fix_of(speed_kmh=None, heading=None, ignition=None).speed_kmh is None


def test_lat_and_lon_both_zero_is_a_valid_fix() -> None:
    fix = fix_of(lat=0, lon=0)
    assert (fix.lat, fix.lon) == (0.0, 0.0)


@pytest.mark.parametrize(("lat", "lon"), [(90, 180), (-90, -180)])
def test_lat_and_lon_at_their_bounds_are_accepted(lat: float, lon: float) -> None:
    fix = fix_of(lat=lat, lon=lon)
    assert (fix.lat, fix.lon) == (lat, lon)


@pytest.mark.parametrize(("field", "value"), [("lat", 90.0001), ("lat", -91), ("lon", 180.5)])
def test_coordinate_beyond_its_range_is_out_of_range(field: str, value: float) -> None:
    reason, detail = rejection_of(**{field: value})
    assert reason is RejectReason.OUT_OF_RANGE
    assert detail.startswith(f"{field}: ")


@pytest.mark.parametrize("field", ["ts", "lat", "lon"])
def test_missing_required_field_is_missing_field(field: str) -> None:
    assert rejection_of(**{field: OMIT}) == (RejectReason.MISSING_FIELD, f"{field}: missing")


@pytest.mark.parametrize("value", ["55.75", True, None])
def test_lat_that_is_not_a_number_is_wrong_type(value: object) -> None:
    assert rejection_of(lat=value) == (RejectReason.WRONG_TYPE, "lat: not a number")


@pytest.mark.parametrize("heading", [0, 360])
def test_heading_at_its_bounds_is_accepted(heading: float) -> None:
    assert fix_of(heading=heading).heading == heading


@pytest.mark.parametrize("heading", [-1, 360.5])
def test_heading_outside_0_to_360_is_out_of_range(heading: float) -> None:
    assert rejection_of(heading=heading)[0] is RejectReason.OUT_OF_RANGE


@pytest.mark.parametrize(
    "field", ["speed_kmh", "accuracy_m", "odometer_km", "hours_run", "battery_pct"]
)
def test_negative_non_negative_field_is_out_of_range(field: str) -> None:
    assert rejection_of(**{field: -0.1})[0] is RejectReason.OUT_OF_RANGE


def test_battery_above_100_percent_is_out_of_range() -> None:
    assert rejection_of(battery_pct=100.5)[0] is RejectReason.OUT_OF_RANGE


def test_negative_altitude_is_accepted() -> None:
    assert fix_of(altitude_m=-400).altitude_m == -400.0


def test_ignition_that_is_not_a_boolean_is_wrong_type() -> None:
    assert rejection_of(ignition=1) == (RejectReason.WRONG_TYPE, "ignition: not a boolean")


def test_array_gives_one_outcome_per_element() -> None:
    decoded = position([position_payload(), position_payload(lat=95), position_payload()])
    assert len(decoded.records) == 2
    assert [(r.reason, r.item_index) for r in decoded.rejections] == [
        (RejectReason.OUT_OF_RANGE, 1)
    ]
