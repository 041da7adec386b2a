"""The normalised telemetry records every device format is decoded into.

They travel on Kafka as compact JSON: one object per message, or a pack, an array of the
records of an ingest batch bound for one partition (each device's partition as if it were
sent alone, keyed by its id: see ingest.packing), so a batch stays a batch at every hop.
The stream decodes a whole batch with one codec and never sees a device's native format.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Annotated, TypeAlias, TypeVar

import msgspec

# Epoch microseconds within what timestamptz and int8 hold comfortably.
EpochUs: TypeAlias = Annotated[int, msgspec.Meta(ge=0, lt=10**17)]


# msgspec structs rather than dataclasses: decoded and validated by one C codec, which
# profiles showed ~6x cheaper per reading than json-then-check in Python; each stream
# consumer decodes every record once. gc=False: they hold no reference cycles, and millions
# pass through a worker, so the collector need not track them.
class Reading(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """One equipment reading: meters, running state and named metrics."""

    device_id: str
    ts_us: EpochUs
    hours_run: float | None = None
    running: bool | None = None
    metrics: dict[str, float] = {}


class Position(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """One GPS fix, units normalised (km/h, km, metres, degrees, hours, percent)."""

    device_id: str
    ts_us: EpochUs
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
R = TypeVar("R", Reading, Position)
T = TypeVar("T")

READING_FIELDS = Reading.__struct_fields__
POSITION_FIELDS = Position.__struct_fields__

_METRICS = attrgetter("metrics")
_ENCODER = msgspec.json.Encoder()
_READINGS = msgspec.json.Decoder(list[Reading] | Reading)
_POSITIONS = msgspec.json.Decoder(list[Position] | Position)
_READING = msgspec.json.Decoder(Reading)
_POSITION = msgspec.json.Decoder(Position)


def metric_names(readings: Iterable[Reading]) -> set[str]:
    """Every metric name the readings carry (set.update takes each dict's keys in C)."""
    names: set[str] = set()
    names.update(*map(_METRICS, readings))
    return names


def encode(record: Record) -> bytes:
    """The Kafka value of a record."""
    return _ENCODER.encode(record)


def encode_many(records: Sequence[Record]) -> bytes:
    """The Kafka value of several records: a JSON array of them."""
    return _ENCODER.encode(records)


class RecordError(ValueError):
    """A Kafka value that is not a well-formed normalised record."""


def decode_readings(value: bytes) -> list[Reading]:
    """The Readings of a Kafka value (one object or an array); RecordError if any is bad."""
    return _many(_READINGS, value)


def decode_positions(value: bytes) -> list[Position]:
    """The Positions of a Kafka value (one object or an array); RecordError if any is bad."""
    return _many(_POSITIONS, value)


def decode_reading(value: bytes) -> Reading:
    """A Reading from its Kafka value; RecordError if it is not one."""
    return _one(_READING, value)


def decode_position(value: bytes) -> Position:
    """A Position from its Kafka value; RecordError if it is not one."""
    return _one(_POSITION, value)


def _many(decoder: msgspec.json.Decoder[list[R] | R], value: bytes) -> list[R]:
    decoded = _one(decoder, value)
    if not isinstance(decoded, list):
        return [decoded]
    if not decoded:
        raise RecordError("an empty array holds no record")
    return decoded


def _one(decoder: msgspec.json.Decoder[T], value: bytes) -> T:
    try:
        return decoder.decode(value)
    except msgspec.DecodeError as exc:  # ValidationError too: the message names the field
        raise RecordError(str(exc)) from exc
