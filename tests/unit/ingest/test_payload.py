"""Whole-message rules: size, encoding, JSON syntax, non-finite numbers, array shape."""

from __future__ import annotations

from ingest.decode import DecodeLimits, decode_mqtt
from kernel.dlq import RejectReason
from tests.unit.ingest.factories import (
    RECEIVED_US,
    TELEMETRY_TOPIC,
    dumps,
    only_rejection,
    reading_payload,
    telemetry,
)


def test_payload_over_the_limit_is_payload_too_large() -> None:
    payload = dumps(reading_payload())
    decoded = decode_mqtt(
        TELEMETRY_TOPIC,
        payload,
        received_us=RECEIVED_US,
        limits=DecodeLimits(max_payload_bytes=len(payload) - 1),
    )
    rejection = only_rejection(decoded)
    assert rejection.reason is RejectReason.PAYLOAD_TOO_LARGE
    assert rejection.item_index is None


def test_payload_exactly_at_the_limit_is_decoded() -> None:
    payload = dumps(reading_payload())
    limits = DecodeLimits(max_payload_bytes=len(payload))
    decoded = decode_mqtt(TELEMETRY_TOPIC, payload, received_us=RECEIVED_US, limits=limits)
    assert len(decoded.records) == 1


def test_size_is_checked_before_the_topic_and_the_encoding() -> None:
    decoded = decode_mqtt(
        "not/a/known/topic",
        b"\xff" * 100,
        received_us=RECEIVED_US,
        limits=DecodeLimits(max_payload_bytes=99),
    )
    assert only_rejection(decoded).reason is RejectReason.PAYLOAD_TOO_LARGE


def test_invalid_utf8_is_not_utf8() -> None:
    decoded = decode_mqtt(TELEMETRY_TOPIC, b'{"ts": "\xff"}', received_us=RECEIVED_US)
    assert only_rejection(decoded).reason is RejectReason.NOT_UTF8


def test_malformed_json_is_invalid_json() -> None:
    decoded = decode_mqtt(TELEMETRY_TOPIC, b'{"ts": 1,', received_us=RECEIVED_US)
    rejection = only_rejection(decoded)
    assert rejection.reason is RejectReason.INVALID_JSON
    assert rejection.item_index is None


def test_json_nested_beyond_any_parser_limit_is_invalid_json() -> None:
    payload = b"[" * 100_000 + b"]" * 100_000
    decoded = decode_mqtt(
        TELEMETRY_TOPIC,
        payload,
        received_us=RECEIVED_US,
        limits=DecodeLimits(max_payload_bytes=len(payload)),
    )
    assert only_rejection(decoded).reason is RejectReason.INVALID_JSON


def test_nan_literal_is_not_finite_and_names_the_field() -> None:
    payload = b'{"ts": 1699999940, "metrics": {"temp": NaN}}'
    rejection = only_rejection(decode_mqtt(TELEMETRY_TOPIC, payload, received_us=RECEIVED_US))
    assert rejection.reason is RejectReason.NOT_FINITE
    assert rejection.detail == "metrics.temp: not finite"


def test_infinity_literals_are_not_finite() -> None:
    for literal in (b"Infinity", b"-Infinity"):
        payload = b'{"ts": 1699999940, "hours_run": ' + literal + b"}"
        rejection = only_rejection(decode_mqtt(TELEMETRY_TOPIC, payload, received_us=RECEIVED_US))
        assert rejection.reason is RejectReason.NOT_FINITE
        assert rejection.detail == "hours_run: not finite"


def test_number_that_overflows_a_double_is_not_finite() -> None:
    payload = b'{"ts": 1699999940, "metrics": {"temp": 1e400}}'
    rejection = only_rejection(decode_mqtt(TELEMETRY_TOPIC, payload, received_us=RECEIVED_US))
    assert rejection.reason is RejectReason.NOT_FINITE


def test_integer_beyond_float_range_is_not_finite() -> None:
    rejection = only_rejection(telemetry(reading_payload(metrics={"count": 10**400})))
    assert rejection.reason is RejectReason.NOT_FINITE
    assert rejection.detail == "metrics.count: not finite"


def test_non_finite_value_rejects_only_its_array_element() -> None:
    payload = b'[{"ts": 1699999940}, {"ts": 1699999940, "metrics": {"t": NaN}}]'
    decoded = decode_mqtt(TELEMETRY_TOPIC, payload, received_us=RECEIVED_US)
    assert len(decoded.records) == 1
    assert [(r.reason, r.item_index) for r in decoded.rejections] == [(RejectReason.NOT_FINITE, 1)]


def test_empty_array_is_one_whole_message_rejection() -> None:
    rejection = only_rejection(telemetry([]))
    assert rejection.reason is RejectReason.MISSING_FIELD
    assert rejection.item_index is None


def test_scalar_payload_is_wrong_type() -> None:
    rejection = only_rejection(telemetry(42))
    assert rejection.reason is RejectReason.WRONG_TYPE
    assert rejection.item_index is None


def test_array_element_that_is_not_an_object_is_wrong_type_at_its_index() -> None:
    decoded = telemetry([reading_payload(), "x", [reading_payload()]])
    assert len(decoded.records) == 1
    assert [(r.reason, r.item_index) for r in decoded.rejections] == [
        (RejectReason.WRONG_TYPE, 1),
        (RejectReason.WRONG_TYPE, 2),
    ]


def test_lone_surrogate_in_a_name_gives_a_utf8_encodable_detail() -> None:
    payload = b'{"ts": 1699999940, "metrics": {"\\ud800": 1}}'
    rejection = only_rejection(decode_mqtt(TELEMETRY_TOPIC, payload, received_us=RECEIVED_US))
    assert rejection.reason is RejectReason.WRONG_TYPE
    assert "\\ud800" in rejection.detail
    assert rejection.detail.encode("utf-8")
