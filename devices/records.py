"""The normalised telemetry records every device format is decoded into.

They travel on Kafka as compact JSON: one object per message, or a pack, an array of the
records of an ingest batch bound for one partition (each device's partition as if it were
sent alone, keyed by its id: see ingest.packing), so a batch stays a batch at every hop.
The stream decodes a whole batch with one codec and never sees a device's native format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Reading:
    """One equipment reading: meters, running state and named metrics."""

    device_id: str
    ts_us: int
    hours_run: float | None = None
    running: bool | None = None
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Position:
    """One GPS fix, units normalised (km/h, km, metres, degrees, hours, percent)."""

    device_id: str
    ts_us: int
    lat: float
    lon: float
    speed_kmh: float | None = None
    heading: float | None = None
    ignition: bool | None = None
    odometer_km: float | None = None
    accuracy_m: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None
    hours_run: float | None = None


Record = Reading | Position

READING_FIELDS = ("device_id", "ts_us", "hours_run", "running", "metrics")
POSITION_FIELDS = tuple(Position.__dataclass_fields__)


def encode(record: Record) -> bytes:
    """The Kafka value of a record."""
    # orjson serialises dataclasses itself, ten times faster than via asdict().
    return orjson.dumps(record)


def encode_many(records: Sequence[Record]) -> bytes:
    """The Kafka value of several records: a JSON array of them."""
    return orjson.dumps(list(records))


class RecordError(ValueError):
    """A Kafka value that is not a well-formed normalised record."""


def decode_readings(value: bytes) -> list[Reading]:
    """The Readings of a Kafka value (one object or an array); RecordError if any is bad."""
    return [_reading(item) for item in _load_many(value)]


def decode_positions(value: bytes) -> list[Position]:
    """The Positions of a Kafka value (one object or an array); RecordError if any is bad."""
    return [_position(item) for item in _load_many(value)]


def decode_reading(value: bytes) -> Reading:
    """A Reading from its Kafka value; RecordError if it is not one."""
    return _reading(_load(value))


def _reading(fields: dict[str, Any]) -> Reading:
    reading = Reading(**fields)
    _require(isinstance(reading.device_id, str), "device_id")
    _require(_is_timestamp(reading.ts_us), "ts_us")
    _require(_optional_number(reading.hours_run), "hours_run")
    _require(reading.running is None or isinstance(reading.running, bool), "running")
    _require(isinstance(reading.metrics, dict), "metrics")
    _require(all(_is_number(v) for v in reading.metrics.values()), "metrics")
    return reading


def decode_position(value: bytes) -> Position:
    """A Position from its Kafka value; RecordError if it is not one."""
    return _position(_load(value))


def _position(fields: dict[str, Any]) -> Position:
    position = Position(**fields)
    _require(isinstance(position.device_id, str), "device_id")
    _require(_is_timestamp(position.ts_us), "ts_us")
    _require(_is_number(position.lat) and _is_number(position.lon), "lat/lon")
    _require(position.ignition is None or isinstance(position.ignition, bool), "ignition")
    numbers = (
        position.speed_kmh,
        position.heading,
        position.odometer_km,
        position.accuracy_m,
        position.altitude_m,
        position.battery_pct,
        position.hours_run,
    )
    _require(all(_optional_number(v) for v in numbers), "numeric field")
    return position


def _load(value: bytes) -> dict[str, Any]:
    data = orjson.loads(value)
    if not isinstance(data, dict):
        raise RecordError("not a JSON object")
    return data


def _load_many(value: bytes) -> list[dict[str, Any]]:
    data = orjson.loads(value)
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(item, dict) for item in items):
        raise RecordError("not a JSON object or a non-empty array of them")
    return items


def _require(ok: bool, name: str) -> None:
    if not ok:
        raise RecordError(f"{name} has the wrong type")


def _is_timestamp(value: object) -> bool:
    # Epoch microseconds within what timestamptz and int8 hold comfortably.
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**17


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _optional_number(value: object) -> bool:
    return value is None or _is_number(value)
