"""Timestamp rules, shown on the native telemetry `ts` (every format shares them)."""

from __future__ import annotations

import pytest

from ingest.decode import DecodeLimits, decode_mqtt
from kernel.dlq import RejectReason
from tests.unit.ingest.factories import (
    RECEIVED_US,
    TELEMETRY_TOPIC,
    TS_MS,
    TS_S,
    TS_US,
    dumps,
    only_reading,
    only_rejection,
    reading_payload,
    telemetry,
)

Y2K_S = 946_684_800


def ts_of(ts: object) -> int:
    return only_reading(telemetry(reading_payload(ts=ts))).ts_us


def rejection_of(ts: object) -> tuple[RejectReason, str]:
    rejection = only_rejection(telemetry(reading_payload(ts=ts)))
    return rejection.reason, rejection.detail


def test_epoch_seconds_integer_is_converted_to_microseconds() -> None:
    assert ts_of(TS_S) == TS_US


def test_epoch_seconds_with_a_fraction_keep_microseconds() -> None:
    assert ts_of(TS_S + 0.25) == TS_US + 250_000


def test_epoch_milliseconds_integer_is_converted_to_microseconds() -> None:
    assert ts_of(TS_MS + 7) == TS_US + 7_000


def test_epoch_milliseconds_float_is_converted_to_microseconds() -> None:
    assert ts_of(float(TS_MS) + 0.5) == TS_US + 500


def test_number_below_1e11_is_seconds() -> None:
    # 99_999_999_999 s is the year 5138: read as seconds, hence in the future.
    assert rejection_of(99_999_999_999)[0] is RejectReason.TS_IN_FUTURE


def test_number_from_1e11_is_milliseconds() -> None:
    # 1e11 ms is 1973: read as milliseconds, hence too old.
    assert rejection_of(100_000_000_000)[0] is RejectReason.TS_TOO_OLD


def test_iso_timestamp_with_z_is_utc() -> None:
    assert ts_of("2023-11-14T22:12:20Z") == TS_US


def test_iso_timestamp_with_an_offset_is_converted_to_utc() -> None:
    assert ts_of("2023-11-15T01:12:20.000123+03:00") == TS_US + 123


def test_iso_timestamp_without_an_offset_is_wrong_type() -> None:
    assert rejection_of("2023-11-14T22:12:20") == (
        RejectReason.WRONG_TYPE,
        "ts: timestamp needs a UTC offset",
    )


@pytest.mark.parametrize("text", ["", "yesterday", "1699999940", "2023-13-01T00:00:00Z"])
def test_string_that_is_not_iso_8601_is_wrong_type(text: str) -> None:
    assert rejection_of(text) == (RejectReason.WRONG_TYPE, "ts: not an ISO-8601 timestamp")


@pytest.mark.parametrize("value", [True, False, None, [TS_S], {"s": TS_S}])
def test_non_numeric_non_string_timestamp_is_wrong_type(value: object) -> None:
    assert rejection_of(value)[0] is RejectReason.WRONG_TYPE


def test_timestamp_at_2000_01_01_is_accepted() -> None:
    assert ts_of(Y2K_S) == Y2K_S * 1_000_000


def test_timestamp_before_2000_is_ts_too_old() -> None:
    assert rejection_of(Y2K_S - 1)[0] is RejectReason.TS_TOO_OLD


def test_negative_timestamp_is_ts_too_old() -> None:
    assert rejection_of(-1)[0] is RejectReason.TS_TOO_OLD


def test_iso_timestamp_before_2000_is_ts_too_old() -> None:
    assert rejection_of("1999-12-31T23:59:59+00:00")[0] is RejectReason.TS_TOO_OLD


def test_timestamp_up_to_max_future_after_receipt_is_accepted() -> None:
    limit_s = RECEIVED_US // 1_000_000 + 86_400
    assert ts_of(limit_s) == limit_s * 1_000_000


def test_timestamp_beyond_max_future_after_receipt_is_ts_in_future() -> None:
    limit_s = RECEIVED_US // 1_000_000 + 86_400
    assert rejection_of(limit_s + 1)[0] is RejectReason.TS_IN_FUTURE


def test_limits_set_the_accepted_time_window() -> None:
    limits = DecodeLimits(max_future_s=0, min_ts_us=TS_US)
    payloads = [reading_payload(ts=TS_S - 1), reading_payload(ts=RECEIVED_US // 1000 + 1)]
    decoded = decode_mqtt(TELEMETRY_TOPIC, dumps(payloads), received_us=RECEIVED_US, limits=limits)
    reasons = [r.reason for r in decoded.rejections]
    assert reasons == [RejectReason.TS_TOO_OLD, RejectReason.TS_IN_FUTURE]


def test_missing_timestamp_is_missing_field() -> None:
    rejection = only_rejection(telemetry({"metrics": {"temp": 1.0}}))
    assert (rejection.reason, rejection.detail) == (RejectReason.MISSING_FIELD, "ts: missing")


def test_non_finite_timestamp_is_not_finite() -> None:
    payload = b'{"ts": Infinity, "metrics": {}}'
    decoded = decode_mqtt(TELEMETRY_TOPIC, payload, received_us=RECEIVED_US)
    assert only_rejection(decoded).reason is RejectReason.NOT_FINITE


def test_an_absurdly_large_float_timestamp_is_refused_not_raised() -> None:
    from ingest.decode import decode_mqtt

    decoded = decode_mqtt(
        "toir/v1/devices/eq-1/telemetry",
        b'{"ts": 1e306, "metrics": {}}',
        received_us=1_764_000_000_000_000,
    )
    assert [r.reason.value for r in decoded.rejections] == ["ts_in_future"]
