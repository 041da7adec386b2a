"""A plain per-reading reference for the stream's detectors, and mixed steps to feed both.

The reference does what the detectors promise, one reading at a time and nothing clever: a
unit joins the metric set of every metric it has reported (grown as its readings come), and
each set's readings go through one OnlineDetector batch in arrival order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from devices.records import Reading
from predictive.online.config import DetectorConfig
from predictive.online.detector import OnlineDetector
from predictive.settings import DEMO_DETECTOR, detector_config
from stream.health.findings import Finding

CONFIG = detector_config(DEMO_DETECTOR)
T0_US = 1_780_000_000_000_000
STEP_US = 1_000_000
# Two kinds of device, sharing one metric; a unit of the second kind may gain EXTRA.
KIND_METRICS = (("current_a", "temperature_c"), ("pressure_bar", "temperature_c", "vibration_mm_s"))
EXTRA = "oil_temp_c"
BASE = {"current_a": 40.0, "temperature_c": 60.0, "pressure_bar": 4.0, "vibration_mm_s": 3.0}
# Samples of a faulty unit whose temperature jumps: after the warm-up, cleared later.
FAULT_SAMPLES = range(30, 42)
FAULT_JUMP = 25.0


class ReferenceDetectors:
    """The detectors, reading by reading."""

    def __init__(self, config: DetectorConfig = CONFIG) -> None:
        self.config = config
        self.detectors: dict[tuple[str, ...], OnlineDetector] = {}
        self.set_of: dict[str, tuple[str, ...]] = {}

    def update(self, pairs: Sequence[tuple[str, Reading]]) -> tuple[list[Finding], set[str]]:
        """Findings in time order, and the units updated (those of a non-empty set)."""
        groups: dict[tuple[str, ...], list[tuple[str, Reading]]] = {}
        for unit_id, reading in pairs:
            held = self.set_of.get(unit_id)
            if held is None or not set(reading.metrics) <= set(held):
                held = self.set_of[unit_id] = tuple(sorted({*(held or ()), *reading.metrics}))
            groups.setdefault(held, []).append((unit_id, reading))
        found: list[Finding] = []
        updated: set[str] = set()
        for names, group in groups.items():
            if names:
                found += self._update(names, group)
                updated.update(unit_id for unit_id, _ in group)
        return sorted(found, key=lambda f: f.ts_us), updated

    def state(self, unit_id: str) -> tuple[tuple[str, ...], dict[str, object]]:
        """The unit's metric set and its detector state there."""
        names = self.set_of[unit_id]
        state = self.detectors[names].to_dict()["state"]
        row = state["unit_ids"].index(unit_id)
        return names, {name: values[row] for name, values in state["arrays"].items()}

    def _update(self, names: tuple[str, ...], group: list[tuple[str, Reading]]) -> list[Finding]:
        detector = self.detectors.get(names)
        if detector is None:
            detector = self.detectors[names] = OnlineDetector(names, self.config)
        events = detector.update_batch(
            [unit_id for unit_id, _ in group],
            [r.ts_us for _, r in group],
            [[r.metrics.get(name, np.nan) for name in names] for _, r in group],
            [r.running is not False for _, r in group],
        )
        return [Finding.of(event) for event in events]


@dataclass
class _Unit:
    index: int
    metrics: tuple[str, ...]
    faulty: bool
    sample: int = 0
    sent: list[Reading] = field(default_factory=list)

    @property
    def device_id(self) -> str:
        return device_of(self.index)


def device_of(unit_index: int) -> str:
    return f"dev-{unit_index}"


def unit_of(unit_index: int) -> str:
    return f"eq-{unit_index}"


def mixed_steps(seed: int, *, steps: int, units: int, strays: int = 0) -> list[list[Reading]]:
    """Steps of interleaved readings of `units` devices (dev-i reports for eq-i) and of
    `strays` devices that are not equipment, with partial, empty, replayed and late
    readings. Units join over the first steps (one only halfway), twice a unit gains a
    metric in the middle of a step, and every third step holds units of one kind only."""
    rng = np.random.default_rng(seed)
    fleet = [_Unit(i, KIND_METRICS[i % 2], faulty=i % 3 == 0) for i in range(units)]
    late_joiner = units - 1
    growth_steps = {steps // 3, 2 * steps // 3}
    out = []
    for step in range(steps):
        joined = [
            u
            for u in fleet
            if u.index <= 2 * step and (u.index != late_joiner or step >= steps // 2)
        ]
        if step % 3 == 2:
            joined = [u for u in joined if u.metrics == KIND_METRICS[0]]
        grower = _grower(joined) if step in growth_steps else None
        per_unit = [_unit_readings(rng, u, grows=u is grower) for u in joined]
        per_unit += [_stray_readings(rng, j, step) for j in range(strays)]
        out.append(_interleaved(rng, per_unit))
    return out


def _grower(joined: list[_Unit]) -> _Unit | None:
    candidates = [u for u in joined if EXTRA not in u.metrics and len(u.metrics) == 3]
    return candidates[0] if candidates else None


def _unit_readings(rng: np.random.Generator, unit: _Unit, *, grows: bool) -> list[Reading]:
    count = int(rng.integers(3, 9))
    readings = []
    for i in range(count):
        if grows and i == count // 2:
            unit.metrics = (*unit.metrics, EXTRA)
        readings.append(_odd(rng, unit) or _next(rng, unit))
    return readings


def _odd(rng: np.random.Generator, unit: _Unit) -> Reading | None:
    """Now and then a replay of the unit's last reading, or a late one; else None."""
    draw = rng.random()
    if unit.sent and draw < 0.06:
        return unit.sent[-1]
    if unit.sample > 3 and draw < 0.09:
        return _reading(rng, unit, unit.sample - 3)
    return None


def _next(rng: np.random.Generator, unit: _Unit) -> Reading:
    reading = _reading(rng, unit, unit.sample)
    unit.sample += 1
    unit.sent.append(reading)
    return reading


def _reading(rng: np.random.Generator, unit: _Unit, sample: int) -> Reading:
    jump = FAULT_JUMP if unit.faulty and sample in FAULT_SAMPLES else 0.0
    metrics = {
        name: BASE.get(name, 80.0) + (jump if name == "temperature_c" else 0.0) + rng.normal(0, 0.3)
        for name in unit.metrics
    }
    draw = rng.random()
    if draw < 0.03:
        metrics = {}
    elif draw < 0.12:
        del metrics[str(rng.choice(sorted(metrics)))]
    running = [True, True, True, None, False][int(rng.integers(5))] if sample > 20 else True
    return Reading(unit.device_id, T0_US + sample * STEP_US, running=running, metrics=metrics)


def _stray_readings(rng: np.random.Generator, stray: int, step: int) -> list[Reading]:
    return [
        Reading(f"stray-{stray}", T0_US + (step * 10 + i) * STEP_US, metrics={"speed_kmh": 50.0})
        for i in range(int(rng.integers(1, 4)))
    ]


def _interleaved(rng: np.random.Generator, per_source: list[list[Reading]]) -> list[Reading]:
    """The sources' readings mixed at random, each source's kept in its own order."""
    keyed = [
        (key, n, reading)
        for n, readings in enumerate(per_source)
        for key, reading in zip(np.sort(rng.random(len(readings))), readings, strict=True)
    ]
    return [reading for _, _, reading in sorted(keyed, key=lambda k: (k[0], k[1]))]
