"""Folding a batch's new rows into rollup buckets.

Every statistic kept is additive (count, sum, minimum, maximum, OR of minute bits), so a
bucket grown from new rows alone, in any order and any number of batches, equals one
computed from all its raw rows at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from operator import attrgetter, is_not, itemgetter

from devices.records import Position, Reading
from devices.telemetry.models import MOVING_SPEED_KMH

US_PER_MINUTE = 60_000_000
US_PER_HOUR = 3_600_000_000
US_PER_DAY = 86_400_000_000
MINUTES_PER_DAY = 1440
_RUNNING = attrgetter("running")
_HOURS_RUN = attrgetter("hours_run")
_METRICS = attrgetter("metrics")
_IS_NOT_NONE = partial(is_not, None)


@dataclass(slots=True)
class UnitHour:
    """One equipment device's hour: reading counts and the hours-run range."""

    device_id: str
    bucket_us: int
    reading_count: int = 0
    running_count: int = 0
    hours_run_min: float | None = None
    hours_run_max: float | None = None


@dataclass(slots=True)
class MetricHour:
    """One metric of one device in one hour."""

    device_id: str
    bucket_us: int
    metric: str
    sample_count: int
    value_sum: float
    value_min: float
    value_max: float


@dataclass(slots=True)
class VehicleDay:
    """One tracker's UTC day; minute maps have bit m set for minute m of the day."""

    device_id: str
    bucket_us: int
    fix_count: int = 0
    odometer_min_km: float | None = None
    odometer_max_km: float | None = None
    speed_max_kmh: float | None = None
    hours_run_min: float | None = None
    hours_run_max: float | None = None
    moving_minutes: int = 0
    ignition_minutes: int = 0


def fold_readings(rows: Iterable[Reading]) -> tuple[list[UnitHour], list[MetricHour]]:
    """Hourly unit and per-metric statistics of the given readings."""
    hours: dict[tuple[str, int], list[Reading]] = {}
    for row in rows:
        key = (row.device_id, row.ts_us - row.ts_us % US_PER_HOUR)
        found = hours.get(key)
        if found is None:
            hours[key] = [row]
        else:
            found.append(row)
    units: list[UnitHour] = []
    metrics: list[MetricHour] = []
    for (device_id, bucket_us), readings in hours.items():
        units.append(_unit_hour(device_id, bucket_us, readings))
        metrics += _metric_hours(device_id, bucket_us, readings)
    return units, metrics


def _unit_hour(device_id: str, bucket_us: int, readings: list[Reading]) -> UnitHour:
    # map/filter with C callables: no Python frame per reading.
    running = list(map(_RUNNING, readings)).count(True)
    counters = list(filter(_IS_NOT_NONE, map(_HOURS_RUN, readings)))
    low, high = (min(counters), max(counters)) if counters else (None, None)
    return UnitHour(device_id, bucket_us, len(readings), running, low, high)


def _metric_hours(device_id: str, bucket_us: int, readings: list[Reading]) -> list[MetricHour]:
    """Count, sum, min and max of every metric, by builtins over each metric's column."""
    series = _columns(list(map(_METRICS, readings)))
    return [
        MetricHour(
            device_id,
            bucket_us,
            name,
            len(values),
            float(sum(values)),
            float(min(values)),
            float(max(values)),
        )
        for name, values in series.items()
    ]


def _columns(metrics: list[dict[str, float]]) -> dict[str, Sequence[float]]:
    """Each metric's values in reading order: when every reading names the same metrics
    (the usual case), a C call per reading; otherwise an append per value."""
    names = tuple(metrics[0])
    if names and set(map(len, metrics)) == {len(names)}:
        try:
            if len(names) == 1:
                return {names[0]: list(map(itemgetter(names[0]), metrics))}
            return dict(
                zip(names, zip(*map(itemgetter(*names), metrics), strict=True), strict=True)
            )
        except KeyError:
            pass  # same number of metrics, other names: the general way below
    series: dict[str, list[float]] = {}
    for values in metrics:
        for name, value in values.items():
            found = series.get(name)
            if found is None:
                series[name] = [value]
            else:
                found.append(value)
    return dict(series)


def fold_positions(rows: Iterable[Position]) -> list[VehicleDay]:
    """Daily per-tracker statistics of the given fixes."""
    days: dict[tuple[str, int], VehicleDay] = {}
    for row in rows:
        bucket_us = row.ts_us - row.ts_us % US_PER_DAY
        day = days.get((row.device_id, bucket_us))
        if day is None:
            day = days[(row.device_id, bucket_us)] = VehicleDay(row.device_id, bucket_us)
        day.fix_count += 1
        day.odometer_min_km = _min(day.odometer_min_km, row.odometer_km)
        day.odometer_max_km = _max(day.odometer_max_km, row.odometer_km)
        day.speed_max_kmh = _max(day.speed_max_kmh, row.speed_kmh)
        day.hours_run_min = _min(day.hours_run_min, row.hours_run)
        day.hours_run_max = _max(day.hours_run_max, row.hours_run)
        minute_bit = 1 << ((row.ts_us - bucket_us) // US_PER_MINUTE)
        if is_moving(row):
            day.moving_minutes |= minute_bit
        if row.ignition:
            day.ignition_minutes |= minute_bit
    return list(days.values())


def is_moving(fix: Position) -> bool:
    return (
        fix.speed_kmh is not None
        and fix.speed_kmh >= MOVING_SPEED_KMH
        and fix.ignition is not False
    )


def minute_map_text(mask: int) -> str:
    """A minute map as PostgreSQL bit(1440) text: minute 0 is the leftmost bit."""
    return format(mask, f"0{MINUTES_PER_DAY}b")[::-1]


def _min(current: float | None, value: float | None) -> float | None:
    if value is None:
        return current
    return value if current is None or value < current else current


def _max(current: float | None, value: float | None) -> float | None:
    if value is None:
        return current
    return value if current is None or value > current else current
