"""Per batch, the newest of what each device reported, and the meter samples it carries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from devices.records import Position, Reading, metric_names
from stream.state.meters import Fix, HoursSample

_TS_US = attrgetter("ts_us")


@dataclass(slots=True)
class ReadingsLatest:
    """The newest reading time, running state and value of every metric of one device."""

    device_id: str
    last_us: int
    running: bool | None = None
    running_us: int | None = None
    metrics: dict[str, tuple[float, int]] = field(default_factory=dict)

    def metrics_json(self) -> dict[str, dict[str, float | int]]:
        return {name: {"value": v, "ts_us": ts} for name, (v, ts) in self.metrics.items()}


def latest_readings(rows: Iterable[Reading]) -> list[ReadingsLatest]:
    """One summary per device, ordered by device id (the order rows are locked in)."""
    by_device: dict[str, list[Reading]] = {}
    for reading in rows:
        found = by_device.get(reading.device_id)
        if found is None:
            by_device[reading.device_id] = [reading]
        else:
            found.append(reading)
    return [_newest_of(device, by_device[device]) for device in sorted(by_device)]


def _newest_of(device_id: str, readings: list[Reading]) -> ReadingsLatest:
    """The summary of one device's readings, newest first: once a reading names no metric
    not already seen, it adds nothing, and that check is one set comparison in C."""
    readings.sort(key=_TS_US, reverse=True)
    newest = readings[0]
    latest = ReadingsLatest(device_id, newest.ts_us)
    if newest.running is not None and newest.metrics.keys() >= metric_names(readings):
        # The usual case: the newest reading says all there is to say.
        latest.running, latest.running_us = newest.running, newest.ts_us
        latest.metrics = {name: (value, newest.ts_us) for name, value in newest.metrics.items()}
        return latest
    seen: set[str] = set()
    for reading in readings:
        if latest.running_us is None and reading.running is not None:
            latest.running, latest.running_us = reading.running, reading.ts_us
        names = reading.metrics.keys()
        if names <= seen:
            if latest.running_us is not None:
                continue
        else:
            for name in names - seen:
                latest.metrics[name] = (reading.metrics[name], reading.ts_us)
            seen |= names
    return latest


def latest_positions(rows: Iterable[Position]) -> list[Position]:
    """The newest fix of each device, ordered by device id."""
    newest: dict[str, Position] = {}
    for fix in rows:
        known = newest.get(fix.device_id)
        if known is None or fix.ts_us > known.ts_us:
            newest[fix.device_id] = fix
    return [newest[device] for device in sorted(newest)]


def hours_from_readings(rows: Sequence[Reading]) -> list[HoursSample]:
    """Readings that say something about hours-run (a counter or a running state)."""
    return [
        HoursSample(r.device_id, r.ts_us, r.hours_run, r.running)
        for r in rows
        if r.hours_run is not None or r.running is not None
    ]


def hours_from_positions(rows: Sequence[Position]) -> list[HoursSample]:
    """Fixes that say something about engine hours (a counter or the ignition)."""
    return [
        HoursSample(p.device_id, p.ts_us, p.hours_run, p.ignition)
        for p in rows
        if p.hours_run is not None or p.ignition is not None
    ]


def fixes_from_positions(rows: Sequence[Position]) -> list[Fix]:
    """Every fix, as the odometer sees it."""
    return [Fix(p.device_id, p.ts_us, p.lat, p.lon, p.accuracy_m, p.odometer_km) for p in rows]
