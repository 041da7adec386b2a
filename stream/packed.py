"""The values of the telemetry topics as every stream consumer reads them.

A value is one normalised record, or a pack: a JSON array of records that ingest put in one
Kafka message (one device's batch, or many devices' records bound for the same partition).
A pack is decoded whole; only when that fails is it taken apart, so that a bad member is
refused alone and the good ones around it still count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import orjson

from devices.records import (
    Position,
    Reading,
    decode_position,
    decode_positions,
    decode_reading,
    decode_readings,
)

RecordT = TypeVar("RecordT", Reading, Position)


@dataclass(frozen=True, slots=True)
class BadValue:
    """What could not be decoded: a whole value, or one member of a pack (with its index)."""

    value: bytes
    detail: str
    member_index: int | None = None


@dataclass
class Unpacked(Generic[RecordT]):
    records: list[RecordT] = field(default_factory=list)
    bad: list[BadValue] = field(default_factory=list)


def readings_in(values: Sequence[bytes]) -> Unpacked[Reading]:
    """Every reading in a batch of values of toir.telemetry.readings."""
    return _unpack(values, decode_readings, decode_reading)


def positions_in(values: Sequence[bytes]) -> Unpacked[Position]:
    """Every position in a batch of values of toir.telemetry.positions."""
    return _unpack(values, decode_positions, decode_position)


def in_steps(
    values: Sequence[bytes],
    unpack: Callable[[Sequence[bytes]], Unpacked[RecordT]],
    *,
    max_records: int,
) -> Iterator[Unpacked[RecordT]]:
    """The values' records in steps of at least max_records (the last may hold fewer), a
    pack never split: a consumer handling a backlog of packs then decodes, works and yields
    to the event loop step by step instead of stalling it (and its heartbeats) for seconds."""
    step: Unpacked[RecordT] = Unpacked()
    for value in values:
        found = unpack([value])
        step.records += found.records
        step.bad += found.bad
        if len(step.records) >= max_records:
            yield step
            step = Unpacked()
    if step.records or step.bad:
        yield step


def _unpack(
    values: Sequence[bytes],
    decode_many: Callable[[bytes], list[RecordT]],
    decode_one: Callable[[bytes], RecordT],
) -> Unpacked[RecordT]:
    found: Unpacked[RecordT] = Unpacked()
    for value in values:
        try:
            found.records += decode_many(value)
        except Exception as exc:  # any malformed value is reported, never fatal
            _member_by_member(value, exc, decode_one, found)
    return found


def _member_by_member(
    value: bytes,
    error: Exception,
    decode_one: Callable[[bytes], RecordT],
    found: Unpacked[RecordT],
) -> None:
    members = _members(value)
    if members is None:
        found.bad.append(BadValue(value, _detail(error)))
        return
    for index, member in enumerate(members):
        raw = orjson.dumps(member)
        try:
            found.records.append(decode_one(raw))
        except Exception as exc:  # the rare path: a pack with a bad member
            found.bad.append(BadValue(raw, _detail(exc), index))


def _members(value: bytes) -> list[object] | None:
    """The members of a value that is a non-empty JSON array, else None."""
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, list) and data else None


def _detail(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
