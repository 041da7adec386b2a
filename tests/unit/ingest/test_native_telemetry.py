"""Native readings on `toir/v1/devices/{device_id}/telemetry`."""

from __future__ import annotations

import pytest

from devices.records import Reading
from ingest.decode import decode_mqtt
from kernel.dlq import RejectReason
from tests.unit.ingest.factories import (
    OMIT,
    RECEIVED_US,
    TELEMETRY_TOPIC,
    TS_S,
    TS_US,
    only_reading,
    only_rejection,
    reading_payload,
    telemetry,
)


def rejection_of(**changes: object) -> tuple[RejectReason, str]:
    rejection = only_rejection(telemetry(reading_payload(**changes)))
    return rejection.reason, rejection.detail


def test_native_reading_is_decoded_with_all_fields() -> None:
    reading = only_reading(telemetry(reading_payload(metrics={"temp": 21.5, "rpm": 1500})))
    assert reading == Reading("pump-1", TS_US, 12.5, True, {"temp": 21.5, "rpm": 1500.0})


def test_integer_metric_becomes_a_float() -> None:
    metrics = only_reading(telemetry(reading_payload(metrics={"rpm": 1500}))).metrics
    assert metrics == {"rpm": 1500.0}
    assert isinstance(metrics["rpm"], float)


def test_optional_fields_default_to_none_and_no_metrics() -> None:
    reading = only_reading(telemetry({"ts": TS_S, "metrics": {}}))
    assert reading == Reading("pump-1", TS_US, None, None, {})


def test_object_with_only_ts_is_a_native_reading_without_metrics() -> None:
    assert only_reading(telemetry({"ts": TS_S})).metrics == {}


def test_null_optional_fields_mean_not_reported() -> None:
    reading = only_reading(telemetry(reading_payload(hours_run=None, running=None, metrics=None)))
    assert (reading.hours_run, reading.running, reading.metrics) == (None, None, {})


@pytest.mark.parametrize("value", ["21.5", True, None, [1], {"v": 1}])
def test_metric_that_is_not_a_number_is_wrong_type(value: object) -> None:
    assert rejection_of(metrics={"temp": value}) == (
        RejectReason.WRONG_TYPE,
        "metrics.temp: not a number",
    )


@pytest.mark.parametrize("name", ["", "a b", "t/1", "x" * 65, "ü"])
def test_metric_name_outside_the_alphabet_is_wrong_type(name: str) -> None:
    reason, detail = rejection_of(metrics={name: 1.0})
    assert reason is RejectReason.WRONG_TYPE
    assert detail.startswith("metrics.")


def test_256_metrics_are_accepted() -> None:
    metrics = {f"m{i}": float(i) for i in range(256)}
    assert len(only_reading(telemetry(reading_payload(metrics=metrics))).metrics) == 256


def test_more_than_256_metrics_is_out_of_range() -> None:
    metrics = {f"m{i}": float(i) for i in range(257)}
    assert rejection_of(metrics=metrics)[0] is RejectReason.OUT_OF_RANGE


def test_metrics_that_is_not_an_object_is_wrong_type() -> None:
    assert rejection_of(metrics=[1, 2]) == (RejectReason.WRONG_TYPE, "metrics: not a JSON object")


def test_negative_hours_run_is_out_of_range() -> None:
    assert rejection_of(hours_run=-0.5)[0] is RejectReason.OUT_OF_RANGE


def test_zero_hours_run_is_accepted() -> None:
    assert only_reading(telemetry(reading_payload(hours_run=0))).hours_run == 0.0


@pytest.mark.parametrize("value", ["12", True])
def test_hours_run_that_is_not_a_number_is_wrong_type(value: object) -> None:
    assert rejection_of(hours_run=value) == (RejectReason.WRONG_TYPE, "hours_run: not a number")


@pytest.mark.parametrize("value", [1, "true"])
def test_running_that_is_not_a_boolean_is_wrong_type(value: object) -> None:
    assert rejection_of(running=value) == (RejectReason.WRONG_TYPE, "running: not a boolean")


def test_array_gives_one_outcome_per_element_in_order() -> None:
    items = [reading_payload(), reading_payload(ts=OMIT), reading_payload(hours_run=-1)]
    decoded = telemetry(items)
    assert len(decoded.records) == 1
    assert [(r.reason, r.item_index) for r in decoded.rejections] == [
        (RejectReason.MISSING_FIELD, 1),
        (RejectReason.OUT_OF_RANGE, 2),
    ]


@pytest.mark.parametrize(
    ("value", "reason", "detail"),
    [
        (b"NaN", RejectReason.NOT_FINITE, "metrics.temp: not finite"),
        (b"Infinity", RejectReason.NOT_FINITE, "metrics.temp: not finite"),
        (b"1e400", RejectReason.NOT_FINITE, "metrics.temp: not finite"),
        (b'"21.5"', RejectReason.WRONG_TYPE, "metrics.temp: not a number"),
        (b"true", RejectReason.WRONG_TYPE, "metrics.temp: not a number"),
    ],
)
def test_known_metric_names_are_still_checked_value_by_value(
    value: bytes, reason: RejectReason, detail: str
) -> None:
    # Names seen valid once skip the name check: the values must not skip theirs.
    only_reading(telemetry(reading_payload(metrics={"temp": 21.5, "rpm": 1500.0})))
    payload = b'{"ts": %d, "metrics": {"rpm": 1500.0, "temp": %s}}' % (TS_S, value)
    rejection = only_rejection(decode_mqtt(TELEMETRY_TOPIC, payload, received_us=RECEIVED_US))
    assert (rejection.reason, rejection.detail) == (reason, detail)


def test_known_names_whose_values_overflow_only_as_a_sum_are_kept() -> None:
    # Each value is a finite float; only their sum is not: the reading is good.
    only_reading(telemetry(reading_payload(metrics={"a": 1.0, "b": 2.0, "c": 3.0})))
    big = {"a": 1.7e308, "b": 1.7e308, "c": -1.0}
    assert only_reading(telemetry(reading_payload(metrics=big))).metrics == big
    opposite = {"a": 1.7e308, "b": -1.7e308, "c": 0.5}
    assert only_reading(telemetry(reading_payload(metrics=opposite))).metrics == opposite


def test_a_name_never_valid_is_refused_even_beside_known_ones() -> None:
    only_reading(telemetry(reading_payload(metrics={"temp": 21.5})))
    reason, detail = rejection_of(metrics={"temp": 21.5, "bad name": 1.0})
    assert reason is RejectReason.WRONG_TYPE
    assert "not a valid metric name" in detail
