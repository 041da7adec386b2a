"""ThingsBoard payload forms on the native telemetry topic, and how forms are told apart."""

from __future__ import annotations

import pytest

from devices.records import Reading
from kernel.dlq import RejectReason
from tests.unit.ingest.factories import (
    RECEIVED_US,
    TS_MS,
    TS_S,
    TS_US,
    only_reading,
    only_rejection,
    telemetry,
)


def test_key_value_object_is_a_reading_at_the_receive_time() -> None:
    reading = only_reading(telemetry({"temp": 21.5, "pressure": 3}))
    assert reading == Reading("pump-1", RECEIVED_US, None, None, {"temp": 21.5, "pressure": 3.0})


def test_key_value_booleans_become_one_and_zero_metrics() -> None:
    reading = only_reading(telemetry({"door_open": True, "alarm": False}))
    assert reading.metrics == {"door_open": 1.0, "alarm": 0.0}


def test_key_value_hours_run_and_running_map_to_their_fields() -> None:
    reading = only_reading(telemetry({"hours_run": 120.5, "running": True, "temp": 40}))
    assert (reading.hours_run, reading.running, reading.metrics) == (120.5, True, {"temp": 40.0})


def test_key_value_running_accepts_zero_and_one() -> None:
    assert only_reading(telemetry({"running": 0, "temp": 1})).running is False


@pytest.mark.parametrize("value", ["on", None, {"v": 1}, [1]])
def test_key_value_non_numeric_value_is_wrong_type_naming_the_key(value: object) -> None:
    rejection = only_rejection(telemetry({"temp": 1, "mode": value}))
    assert rejection.reason is RejectReason.WRONG_TYPE
    assert rejection.detail == "mode: not a number or boolean"


def test_key_value_key_outside_the_name_alphabet_is_wrong_type() -> None:
    rejection = only_rejection(telemetry({"bad key": 1}))
    assert rejection.reason is RejectReason.WRONG_TYPE


def test_ts_values_object_is_a_reading_at_ts_milliseconds() -> None:
    reading = only_reading(telemetry({"ts": TS_MS, "values": {"temp": 21.5, "running": True}}))
    assert reading == Reading("pump-1", TS_US, None, True, {"temp": 21.5})


def test_ts_values_ts_follows_the_shared_timestamp_rule() -> None:
    rejection = only_rejection(telemetry({"ts": 946_684_799_000, "values": {"temp": 1}}))
    assert rejection.reason is RejectReason.TS_TOO_OLD


def test_ts_values_non_numeric_value_is_wrong_type_naming_the_key() -> None:
    rejection = only_rejection(telemetry({"ts": TS_MS, "values": {"mode": "auto"}}))
    assert (rejection.reason, rejection.detail) == (
        RejectReason.WRONG_TYPE,
        "values.mode: not a number or boolean",
    )


def test_ts_values_with_values_not_an_object_is_wrong_type() -> None:
    rejection = only_rejection(telemetry({"ts": TS_MS, "values": [1]}))
    assert (rejection.reason, rejection.detail) == (
        RejectReason.WRONG_TYPE,
        "values: not a JSON object",
    )


def test_ts_values_negative_hours_run_is_out_of_range() -> None:
    rejection = only_rejection(telemetry({"ts": TS_MS, "values": {"hours_run": -1}}))
    assert rejection.reason is RejectReason.OUT_OF_RANGE


def test_ts_values_with_more_than_256_metrics_is_out_of_range() -> None:
    values = {f"m{i}": i for i in range(257)}
    rejection = only_rejection(telemetry({"ts": TS_MS, "values": values}))
    assert rejection.reason is RejectReason.OUT_OF_RANGE


def test_object_with_metrics_key_is_native_even_with_values() -> None:
    reading = only_reading(telemetry({"ts": TS_S, "metrics": {"a": 1}, "values": {"b": 2}}))
    assert reading.metrics == {"a": 1.0}


def test_object_with_ts_and_hours_run_but_no_values_is_native() -> None:
    reading = only_reading(telemetry({"ts": TS_S, "hours_run": 5, "running": False}))
    assert (reading.ts_us, reading.hours_run, reading.running) == (TS_US, 5.0, False)


def test_array_may_mix_native_and_thingsboard_forms() -> None:
    decoded = telemetry(
        [{"ts": TS_S, "metrics": {"a": 1}}, {"ts": TS_MS, "values": {"b": 2}}, {"c": 3}]
    )
    assert [r.metrics for r in decoded.records if isinstance(r, Reading)] == [
        {"a": 1.0},
        {"b": 2.0},
        {"c": 3.0},
    ]
    assert decoded.rejections == []
