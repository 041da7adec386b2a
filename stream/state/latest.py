"""Per batch, the newest of what each device reported, and the meter samples it carries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from devices.records import Position, Reading
from stream.state.meters import Fix, HoursSample


@dataclass(slots=True)
class ReadingsLatest:
    """The newest reading time, running state and value of every metric of one device."""

    device_id: str
    last_us: int
    running: bool | None = None
    running_us: int | None = None
    metrics: dict[str, tuple[float, int]] = field(default_factory=dict)

    def add(self, reading: Reading) -> None:
        self.last_us = max(self.last_us, reading.ts_us)
        if reading.running is not None and (
            self.running_us is None or reading.ts_us > self.running_us
        ):
            self.running, self.running_us = reading.running, reading.ts_us
        for name, value in reading.metrics.items():
            known = self.metrics.get(name)
            if known is None or reading.ts_us > known[1]:
                self.metrics[name] = (value, reading.ts_us)

    def metrics_json(self) -> dict[str, dict[str, float | int]]:
        return {name: {"value": v, "ts_us": ts} for name, (v, ts) in self.metrics.items()}


def latest_readings(rows: Iterable[Reading]) -> list[ReadingsLatest]:
    """One summary per device, ordered by device id (the order rows are locked in)."""
    by_device: dict[str, ReadingsLatest] = {}
    for reading in rows:
        latest = by_device.get(reading.device_id)
        if latest is None:
            latest = by_device[reading.device_id] = ReadingsLatest(reading.device_id, reading.ts_us)
        latest.add(reading)
    return [by_device[device] for device in sorted(by_device)]


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
