"""Hours-run and odometer that a planner can trust: pure folds of samples into a meter.

A meter follows one device at a time and moves only on samples newer than the last it
applied (`last_us`): duplicates never reach it (the stream only passes new rows) and a sample
older than one already applied (out of order across batches) is skipped, so a late message
can never move a meter twice or backwards. Within one batch samples are applied in time order.

- Device counter (hours_run, odometer_km) when the device reports one: the meter adds the
  counter's deltas. A counter that goes backwards was reset (or rolled over): the hours since
  are its new value, if that is possible in the time elapsed, else nothing (re-anchored). A
  forward step faster than physically possible is a glitch: re-anchored, nothing added.
  Once a device reports a counter, its samples without one add nothing (no double counting).
- Otherwise hours-run from running/ignition: the time from one sample to the next counts
  when the first said "on" — but never across a gap longer than `max_gap_s` (Traccar counts a
  whole offline gap as engine hours when ignition was on at both ends; we don't).
- Otherwise odometer from GPS: great-circle steps between accepted fixes. Fixes with
  accuracy worse than `max_accuracy_m` are dropped; a step shorter than `min_move_m` (or the
  fix's own accuracy) is jitter and waits for more movement; a fix implying a speed above
  `max_speed_kmh` is a jump and dropped, unless `max_jumps_in_row` come in a row (the anchor
  was the bad one, or the vehicle was carried): then the meter re-anchors without distance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Final, Literal

import msgspec

from kernel.geo import haversine_m

Source = Literal["new", "counter", "state", "gps", "baseline"]

US_PER_HOUR: Final = 3_600_000_000
US_PER_SECOND: Final = 1_000_000
# Counters tick in steps (0.1 h, 1 km on many trackers): allow one step beyond the physical.
HOURS_COUNTER_SLACK_H: Final = 0.1
ODOMETER_COUNTER_SLACK_KM: Final = 1.0
HOURS_PER_HOUR: Final = 1.0
_TS_US = attrgetter("ts_us")


@dataclass(frozen=True, slots=True)
class MeterLimits:
    """The physical limits and filters the meters apply (see the module docstring)."""

    max_gap_s: float = 900.0
    max_accuracy_m: float = 100.0
    max_speed_kmh: float = 250.0
    min_move_m: float = 10.0
    max_jumps_in_row: int = 3


# The samples are msgspec structs, as the records they come from: one is made per reading
# or fix stored, and a struct is built in C (60 ns) where a frozen dataclass takes 530.
class HoursSample(msgspec.Struct, frozen=True, gc=False):
    """What one reading or fix says about engine hours: a counter, a state, or both."""

    device_id: str
    ts_us: int
    counter_h: float | None = None
    on: bool | None = None


class Fix(msgspec.Struct, frozen=True, gc=False):
    """What one fix says about distance: a device odometer and/or a GPS position."""

    device_id: str
    ts_us: int
    lat: float
    lon: float
    accuracy_m: float | None = None
    odometer_km: float | None = None


@dataclass(frozen=True, slots=True)
class MeterState:
    """A meter's value and what the next sample is measured against."""

    value: float = 0.0
    source: Source = "new"
    device_id: str | None = None
    last_us: int | None = None
    counter_raw: float | None = None
    counter_us: int | None = None
    state_on: bool | None = None
    state_us: int | None = None
    anchor_lat: float | None = None
    anchor_lon: float | None = None
    anchor_us: int | None = None
    jumps_in_row: int = 0


def counter_delta(
    previous: float, current: float, *, elapsed_h: float, max_rate_per_h: float, slack: float
) -> float:
    """What a device counter says was added between two samples (0 for the implausible)."""
    possible = max(elapsed_h, 0.0) * max_rate_per_h + slack
    step = current - previous
    if step >= 0:
        return step if step <= possible else 0.0
    # Backwards: reset to zero (or wrapped) since the previous sample, so it counted `current`.
    return current if current <= possible else 0.0


def advance_hours(
    state: MeterState, samples: Iterable[HoursSample], limits: MeterLimits
) -> MeterState:
    """The hours-run meter after the samples, applied in time order."""
    ordered = sorted(samples, key=_TS_US)
    at = 0
    while at < len(ordered):
        if _counting(state, ordered[at]):
            state, at = _counter_run(state, ordered, at)
        else:
            state, at = _hours_step(state, ordered[at], limits), at + 1
    return state


def advance_odometer(state: MeterState, fixes: Iterable[Fix], limits: MeterLimits) -> MeterState:
    """The odometer after the fixes, applied in time order."""
    for fix in sorted(fixes, key=lambda f: f.ts_us):
        state = _odometer_step(state, fix, limits)
    return state


def set_baseline(state: MeterState, value: float) -> MeterState:
    """The meter set to value by an admin; later samples add to it from their anchors."""
    return replace(state, value=value, source="baseline")


def _is_late(state: MeterState, ts_us: int) -> bool:
    return state.last_us is not None and ts_us <= state.last_us


def _follow(state: MeterState, device_id: str) -> MeterState:
    """Anchors belong to one device: a sample from another one starts afresh from its own."""
    if state.device_id == device_id:
        return state
    return MeterState(value=state.value, source=state.source, device_id=device_id)


def _hours_step(state: MeterState, sample: HoursSample, limits: MeterLimits) -> MeterState:
    # Each step ends in one replace() that also records last_us: this runs per sample.
    if _is_late(state, sample.ts_us):
        return state
    state = _follow(state, sample.device_id)
    if sample.counter_h is not None:
        return _counter_step(
            state, sample.ts_us, sample.counter_h, HOURS_PER_HOUR, HOURS_COUNTER_SLACK_H
        )
    if state.counter_raw is not None or sample.on is None:
        return replace(state, last_us=sample.ts_us)
    return _state_step(state, sample.ts_us, sample.on, limits.max_gap_s)


def _counting(state: MeterState, sample: HoursSample) -> bool:
    """Whether the sample continues the device counter the meter already follows."""
    return (
        sample.counter_h is not None
        and state.device_id == sample.device_id
        and state.counter_raw is not None
        and state.counter_us is not None
    )


def _counter_run(state: MeterState, ordered: list[HoursSample], at: int) -> tuple[MeterState, int]:
    """_hours_step over the run of counter samples from `at`, in plain floats: a device
    sending its counter with every reading (the usual case) would otherwise cost a replace()
    per reading. Returns the meter after the run and where the run ended."""
    assert state.counter_raw is not None and state.counter_us is not None
    value, raw, raw_us = state.value, state.counter_raw, state.counter_us
    last_us, applied = state.last_us, False
    while at < len(ordered):
        sample = ordered[at]
        counter_h = sample.counter_h
        if counter_h is None or sample.device_id != state.device_id:
            break
        at += 1
        if last_us is not None and sample.ts_us <= last_us:
            continue  # late: applied already
        elapsed_h = (sample.ts_us - raw_us) / US_PER_HOUR
        value += counter_delta(
            raw,
            counter_h,
            elapsed_h=elapsed_h,
            max_rate_per_h=HOURS_PER_HOUR,
            slack=HOURS_COUNTER_SLACK_H,
        )
        raw, applied = counter_h, True
        raw_us = last_us = sample.ts_us
    if not applied:
        return state, at
    moved = replace(
        state, value=value, source="counter", counter_raw=raw, counter_us=raw_us, last_us=last_us
    )
    return moved, at


def _state_step(state: MeterState, ts_us: int, on: bool, max_gap_s: float) -> MeterState:
    added_h = 0.0
    if state.state_on and state.state_us is not None:
        gap_us = ts_us - state.state_us
        if gap_us <= max_gap_s * US_PER_SECOND:
            added_h = gap_us / US_PER_HOUR
    source: Source = "state" if added_h > 0 or state.source == "new" else state.source
    return replace(
        state,
        value=state.value + added_h,
        source=source,
        state_on=on,
        state_us=ts_us,
        last_us=ts_us,
    )


def _counter_step(
    state: MeterState, ts_us: int, raw: float, max_rate_per_h: float, slack: float
) -> MeterState:
    if state.counter_raw is None or state.counter_us is None:
        # The first counter a meter sees: a brand-new meter takes the device's word for it.
        value = raw if state.source == "new" else state.value
    else:
        elapsed_h = (ts_us - state.counter_us) / US_PER_HOUR
        value = state.value + counter_delta(
            state.counter_raw, raw, elapsed_h=elapsed_h, max_rate_per_h=max_rate_per_h, slack=slack
        )
    return replace(
        state, value=value, source="counter", counter_raw=raw, counter_us=ts_us, last_us=ts_us
    )


def _odometer_step(state: MeterState, fix: Fix, limits: MeterLimits) -> MeterState:
    if _is_late(state, fix.ts_us):
        return state
    state = _follow(state, fix.device_id)
    if fix.odometer_km is not None:
        return _counter_step(
            state, fix.ts_us, fix.odometer_km, limits.max_speed_kmh, ODOMETER_COUNTER_SLACK_KM
        )
    if state.counter_raw is not None or (
        fix.accuracy_m is not None and fix.accuracy_m > limits.max_accuracy_m
    ):
        return replace(state, last_us=fix.ts_us)
    return _gps_step(state, fix, limits)


def _gps_step(state: MeterState, fix: Fix, limits: MeterLimits) -> MeterState:
    if state.anchor_lat is None or state.anchor_lon is None or state.anchor_us is None:
        return _anchored(state, fix)
    step_m = haversine_m(state.anchor_lat, state.anchor_lon, fix.lat, fix.lon)
    if step_m < max(limits.min_move_m, fix.accuracy_m or 0.0):
        return replace(state, jumps_in_row=0, last_us=fix.ts_us)
    elapsed_h = (fix.ts_us - state.anchor_us) / US_PER_HOUR
    if step_m / 1000.0 > limits.max_speed_kmh * elapsed_h:
        if state.jumps_in_row + 1 >= limits.max_jumps_in_row:
            return _anchored(state, fix)
        return replace(state, jumps_in_row=state.jumps_in_row + 1, last_us=fix.ts_us)
    return _anchored(state, fix, value=state.value + step_m / 1000.0, source="gps")


def _anchored(
    state: MeterState, fix: Fix, *, value: float | None = None, source: Source | None = None
) -> MeterState:
    return replace(
        state,
        anchor_lat=fix.lat,
        anchor_lon=fix.lon,
        anchor_us=fix.ts_us,
        jumps_in_row=0,
        last_us=fix.ts_us,
        value=state.value if value is None else value,
        source=state.source if source is None else source,
    )
