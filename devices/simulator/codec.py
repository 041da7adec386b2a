"""Samples to the native MQTT wire format of ARCHITECTURE.md ("MQTT (devices → platform)")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import orjson

from devices.records import Position, Reading

TsFormat = Literal["iso", "epoch_ms"]

TOPIC_PREFIX: Final = "toir/v1/devices/"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_POSITION_OPTIONAL: Final = ("speed_kmh", "heading", "ignition", "odometer_km", "accuracy_m")


def telemetry_topic(device_id: str) -> str:
    """The topic an equipment unit publishes readings on."""
    return f"{TOPIC_PREFIX}{device_id}/telemetry"


def position_topic(device_id: str) -> str:
    """The topic a vehicle tracker publishes GPS fixes on."""
    return f"{TOPIC_PREFIX}{device_id}/position"


def wire_ts(ts_us: int, ts_format: TsFormat = "iso") -> datetime | int:
    """The "ts" value: an aware UTC datetime (orjson writes "+00:00") or epoch milliseconds."""
    if ts_format == "epoch_ms":
        return ts_us // 1000
    # Integer arithmetic: a float timestamp would lose the last microsecond.
    return _EPOCH + timedelta(microseconds=ts_us)


def encode_reading(reading: Reading, ts_format: TsFormat = "iso") -> bytes:
    """A reading as the native telemetry JSON."""
    payload: dict[str, Any] = {"ts": wire_ts(reading.ts_us, ts_format)}
    if reading.hours_run is not None:
        payload["hours_run"] = reading.hours_run
    if reading.running is not None:
        payload["running"] = reading.running
    payload["metrics"] = reading.metrics
    return orjson.dumps(payload)


def encode_position(position: Position, ts_format: TsFormat = "iso") -> bytes:
    """A GPS fix as the native position JSON."""
    payload: dict[str, Any] = {
        "ts": wire_ts(position.ts_us, ts_format),
        "lat": position.lat,
        "lon": position.lon,
    }
    for name in _POSITION_OPTIONAL:
        value = getattr(position, name)
        if value is not None:
            payload[name] = value
    return orjson.dumps(payload)


def encode_sample(sample: Reading | Position, ts_format: TsFormat = "iso") -> tuple[str, bytes]:
    """The topic and payload of a sample."""
    if isinstance(sample, Reading):
        return telemetry_topic(sample.device_id), encode_reading(sample, ts_format)
    return position_topic(sample.device_id), encode_position(sample, ts_format)
