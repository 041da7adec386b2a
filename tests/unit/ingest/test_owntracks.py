"""OwnTracks messages on `owntracks/{user}/{device}`."""

from __future__ import annotations

import pytest

from devices.records import Position
from ingest.decode import Decoded
from kernel.dlq import RejectReason
from tests.unit.ingest.factories import (
    OMIT,
    OWNTRACKS_TOPIC,
    TS_US,
    mqtt,
    only_position,
    only_rejection,
    owntracks_payload,
)


def fix_of(**changes: object) -> Position:
    return only_position(mqtt(OWNTRACKS_TOPIC, owntracks_payload(**changes)))


def rejection_of(**changes: object) -> tuple[RejectReason, str]:
    rejection = only_rejection(mqtt(OWNTRACKS_TOPIC, owntracks_payload(**changes)))
    return rejection.reason, rejection.detail


def test_location_is_decoded_with_every_field_in_contract_units() -> None:
    fix = fix_of(vel=54, cog=270, acc=12, alt=160, batt=81, odometer=1234.5, ign=True, hmc=9000)
    assert fix == Position(
        "jane.phone", TS_US, 55.75, 37.62, 54.0, 270.0, True, 1234.5, 12.0, 160.0, 81.0, 2.5
    )


def test_hmc_seconds_of_operation_become_hours_run() -> None:
    assert fix_of(hmc=7200).hours_run == 2.0


def test_missing_vel_means_zero_speed() -> None:
    assert fix_of().speed_kmh == 0.0


def test_missing_acc_alt_batt_cog_are_unknown() -> None:
    fix = fix_of()
    assert (fix.accuracy_m, fix.altitude_m, fix.battery_pct, fix.heading) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(("ign", "expected"), [(1, True), (0, False), (False, False)])
def test_ign_accepts_booleans_and_zero_or_one(ign: object, expected: bool) -> None:
    assert fix_of(ign=ign).ignition is expected


def test_ign_that_is_neither_boolean_nor_zero_or_one_is_wrong_type() -> None:
    assert rejection_of(ign="yes") == (RejectReason.WRONG_TYPE, "ign: not a boolean")


@pytest.mark.parametrize("field", ["tst", "lat", "lon"])
def test_missing_required_field_is_missing_field(field: str) -> None:
    assert rejection_of(**{field: OMIT}) == (RejectReason.MISSING_FIELD, f"{field}: missing")


def test_lat_and_lon_both_zero_is_a_valid_fix() -> None:
    assert (fix_of(lat=0, lon=0).lat, fix_of(lat=0, lon=0).lon) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("field", "value"), [("lat", 91), ("lon", -181), ("batt", 101), ("vel", -1)]
)
def test_value_beyond_its_range_is_out_of_range(field: str, value: float) -> None:
    assert rejection_of(**{field: value})[0] is RejectReason.OUT_OF_RANGE


@pytest.mark.parametrize("kind", ["transition", "waypoint", "waypoints", "lwt", "card", "status"])
def test_non_location_types_are_ignored_without_outcome(kind: str) -> None:
    assert mqtt(OWNTRACKS_TOPIC, {"_type": kind, "tst": 1}) == Decoded([], [])


def test_encrypted_message_is_rejected_rather_than_dropped() -> None:
    reason, _ = rejection_of(_type="encrypted", data="abc")
    assert reason is RejectReason.WRONG_TYPE


def test_missing_type_is_missing_field() -> None:
    assert rejection_of(_type=OMIT) == (RejectReason.MISSING_FIELD, "_type: missing")


def test_type_that_is_not_a_string_is_wrong_type() -> None:
    assert rejection_of(_type=1) == (RejectReason.WRONG_TYPE, "_type: not a string")


def test_array_payload_is_wrong_type() -> None:
    rejection = only_rejection(mqtt(OWNTRACKS_TOPIC, [owntracks_payload()]))
    assert (rejection.reason, rejection.item_index) == (RejectReason.WRONG_TYPE, None)
