"""The batch extension that keeps latest state and meters in step with stored telemetry.

It runs inside the transaction that inserted the batch and sees only the rows that were
new, so a redelivered batch moves nothing twice and a meter moves exactly once per reading.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TypeVar

import psycopg

from devices.records import Position, Reading
from kernel.settings import Settings
from stream.state import repository
from stream.state.latest import (
    fixes_from_positions,
    hours_from_positions,
    hours_from_readings,
    latest_positions,
    latest_readings,
)
from stream.state.meters import (
    Fix,
    HoursSample,
    MeterLimits,
    MeterState,
    advance_hours,
    advance_odometer,
)
from stream.state.repository import MeterKey, Subject
from stream.state.settings import load_state_settings

HOURS_RUN = "hours_run"
ODOMETER_KM = "odometer_km"
# Equipment does not travel: a controller's GPS (if any) must not grow an odometer.
ODOMETER_SUBJECTS = frozenset({"vehicle", "device"})

SampleT = TypeVar("SampleT", HoursSample, Fix)


class StateExtension:
    """`BatchExtension` for telemetry.device_state and telemetry.meters."""

    def __init__(self, limits: MeterLimits) -> None:
        self._limits = limits

    async def on_readings(self, conn: psycopg.AsyncConnection, new: Sequence[Reading]) -> None:
        if not new:
            return
        await repository.upsert_reading_state(conn, latest_readings(new))
        await self._advance_meters(conn, hours_from_readings(new), [])

    async def on_positions(self, conn: psycopg.AsyncConnection, new: Sequence[Position]) -> None:
        if not new:
            return
        await repository.upsert_position_state(conn, latest_positions(new))
        await self._advance_meters(conn, hours_from_positions(new), fixes_from_positions(new))

    async def _advance_meters(
        self, conn: psycopg.AsyncConnection, hours: list[HoursSample], fixes: list[Fix]
    ) -> None:
        devices = sorted({s.device_id for s in hours} | {f.device_id for f in fixes})
        if not devices:
            return
        subjects = await repository.subjects_of(conn, devices)
        hours_by_key = _group(hours, subjects, HOURS_RUN)
        fixes_by_key = _group(fixes, subjects, ODOMETER_KM)
        states = await repository.lock_meters(conn, sorted({*hours_by_key, *fixes_by_key}))
        await repository.save_meters(conn, self._advanced(states, hours_by_key, fixes_by_key))

    def _advanced(
        self,
        states: dict[MeterKey, MeterState],
        hours_by_key: dict[MeterKey, list[HoursSample]],
        fixes_by_key: dict[MeterKey, list[Fix]],
    ) -> dict[MeterKey, MeterState]:
        advanced = {k: advance_hours(states[k], s, self._limits) for k, s in hours_by_key.items()}
        for key, fixes in fixes_by_key.items():
            advanced[key] = advance_odometer(states[key], fixes, self._limits)
        return advanced


def _group(
    samples: list[SampleT], subjects: dict[str, Subject], meter: str
) -> dict[MeterKey, list[SampleT]]:
    """The samples of every meter, each meter's in arrival order."""
    # A batch holds many samples of few devices: the meter of each device is worked out
    # once, and per sample there is one lookup and one append.
    key_of = {
        device: _meter_key(subjects.get(device, Subject("device", device)), meter)
        for device in {sample.device_id for sample in samples}
    }
    grouped: dict[MeterKey, list[SampleT]] = defaultdict(list)
    for sample in samples:
        key = key_of[sample.device_id]
        if key is not None:
            grouped[key].append(sample)
    return grouped


def _meter_key(subject: Subject, meter: str) -> MeterKey | None:
    """The meter of the subject; None for an odometer of what does not travel."""
    if meter == ODOMETER_KM and subject.kind not in ODOMETER_SUBJECTS:
        return None
    return MeterKey(subject.kind, subject.id, meter)


def state_extension(settings: Settings) -> StateExtension:
    """The extension with meter limits from the environment (stream.state.settings)."""
    return StateExtension(load_state_settings().meter_limits())
