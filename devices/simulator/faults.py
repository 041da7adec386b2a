"""Injectable equipment faults, and the labels an evaluator reads back."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from devices.simulator.equipment import (
    CURRENT,
    METRIC_NAMES,
    PRESSURE,
    TEMPERATURE,
    VIBRATION,
)

US_PER_S = 1_000_000

BEARING_WEAR_VIBRATION_MM_S = 6.0
BEARING_WEAR_TEMPERATURE_C = 12.0
OVERHEATING_JUMP_C = 25.0
OVERHEATING_CLIMB_C = 10.0
PRESSURE_LEAK_LOSS = 0.8
PRESSURE_LEAK_CURRENT_GAIN = 0.1


class FaultKind(StrEnum):
    """The faults the simulator can inject."""

    BEARING_WEAR = "bearing_wear"
    OVERHEATING = "overheating"
    STUCK_SENSOR = "stuck_sensor"
    PRESSURE_LEAK = "pressure_leak"


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """A fault that starts on one unit at start_us and develops fully over ramp_s."""

    kind: FaultKind
    device_id: str
    start_us: int
    ramp_s: float = 0.0

    def __post_init__(self) -> None:
        # Accept the plain string too ("bearing_wear"), as a CLI or a test would pass it.
        object.__setattr__(self, "kind", FaultKind(self.kind))
        if self.ramp_s < 0:
            raise ValueError(f"ramp_s must not be negative, got {self.ramp_s}")

    def fraction(self, now_us: int) -> float | None:
        """How far the fault has developed at now_us (0..1), or None before it starts."""
        if now_us < self.start_us:
            return None
        if self.ramp_s <= 0:
            return 1.0
        return min(1.0, (now_us - self.start_us) / (self.ramp_s * US_PER_S))


def active_fault(faults: Iterable[FaultSpec], now_us: int) -> tuple[FaultSpec, float] | None:
    """The most recently started fault active at now_us, with its fraction."""
    latest: tuple[FaultSpec, float] | None = None
    for fault in faults:
        fraction = fault.fraction(now_us)
        if fraction is not None and (latest is None or fault.start_us >= latest[0].start_us):
            latest = (fault, fraction)
    return latest


def stuck_metric(device_id: str) -> str:
    """The metric a stuck_sensor fault freezes on this unit (stable across runs)."""
    return METRIC_NAMES[zlib.crc32(device_id.encode()) % len(METRIC_NAMES)]


def apply_fault(
    metrics: dict[str, float], *, kind: FaultKind, fraction: float, running: bool
) -> None:
    """Distort one sample's metrics in place (stuck_sensor needs state: EquipmentSim does it)."""
    if kind is FaultKind.BEARING_WEAR and running:
        # Friction of a worn bearing shows only while the shaft turns.
        metrics[VIBRATION] += BEARING_WEAR_VIBRATION_MM_S * fraction
        metrics[TEMPERATURE] += BEARING_WEAR_TEMPERATURE_C * fraction
    elif kind is FaultKind.OVERHEATING:
        metrics[TEMPERATURE] += OVERHEATING_JUMP_C + OVERHEATING_CLIMB_C * fraction
    elif kind is FaultKind.PRESSURE_LEAK:
        metrics[PRESSURE] *= 1.0 - PRESSURE_LEAK_LOSS * fraction
        if running:
            metrics[CURRENT] *= 1.0 + PRESSURE_LEAK_CURRENT_GAIN * fraction
