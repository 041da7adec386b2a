"""Offline telemetry histories from the fleet simulator, with the injected faults as labels."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from devices.records import Reading
from devices.simulator.equipment import METRIC_NAMES
from devices.simulator.faults import FaultKind, FaultSpec
from devices.simulator.fleet import Fleet, FleetConfig

US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S
# Advancing the fleet a simulated hour at a time keeps memory flat over long histories.
ADVANCE_STEP_US = 3_600 * US_PER_S


@dataclass(frozen=True, slots=True)
class History:
    """Readings of a fleet as arrays, in time order, with the faults that were injected."""

    unit_ids: tuple[str, ...]
    metric_names: tuple[str, ...]
    unit_index: npt.NDArray[np.int64]
    ts_us: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    running: npt.NDArray[np.bool_]
    faults: tuple[FaultSpec, ...]
    start_us: int
    end_us: int

    def unit_rows(self, unit_id: str) -> npt.NDArray[np.int64]:
        """Row indices of one unit's readings, in time order."""
        return np.flatnonzero(self.unit_index == self.unit_ids.index(unit_id))


def simulate_history(
    *,
    units: int,
    days: float,
    start_us: int,
    seed: int = 1,
    interval_s: float = 60.0,
    faults: tuple[FaultSpec, ...] = (),
) -> History:
    """Run the simulator over simulated time (no clock, no I/O) and collect every reading."""
    config = replace(FleetConfig(), equipment=units, vehicles=0, seed=seed, faults=faults)
    fleet = Fleet(config, equipment_interval_s=interval_s, vehicle_interval_s=interval_s)
    end_us = start_us + int(days * US_PER_DAY)
    readings: list[Reading] = []
    for now_us in range(start_us, end_us + ADVANCE_STEP_US, ADVANCE_STEP_US):
        batch = fleet.advance(min(now_us, end_us))
        readings.extend(r for r in batch if isinstance(r, Reading))
    unit_ids = tuple(unit.id for unit in fleet.equipment)
    return _to_history(readings, unit_ids, faults, start_us, end_us)


def equipment_models(*, units: int, seed: int = 1) -> dict[str, str]:
    """Each simulated unit's equipment model, as the asset registry would give it."""
    config = replace(FleetConfig(), equipment=units, vehicles=0, seed=seed)
    return {unit.id: unit.model for unit in Fleet(config).equipment}


def fault_plan(
    unit_ids: tuple[str, ...],
    *,
    start_us: int,
    days: float,
    ramps_s: dict[FaultKind, float],
    clean_units: int,
) -> tuple[FaultSpec, ...]:
    """One fault per unit except the last clean_units, kinds in turn, starts spread over time."""
    faulty = unit_ids[: max(0, len(unit_ids) - clean_units)]
    kinds = list(ramps_s)
    # Start after a quarter of the history (the detector has learnt) and leave time to develop.
    first_us = start_us + int(days * 0.25 * US_PER_DAY)
    span_us = int(days * 0.4 * US_PER_DAY)
    specs = []
    for index, unit_id in enumerate(faulty):
        kind = kinds[index % len(kinds)]
        # An odd offset in hours so faults start at every time of day, running or not.
        offset_us = (span_us * index) // max(1, len(faulty)) + index * 7 * 3_600 * US_PER_S
        begin_us = first_us + offset_us % span_us
        specs.append(FaultSpec(kind, unit_id, begin_us, ramps_s[kind]))
    return tuple(specs)


def _to_history(
    readings: list[Reading],
    unit_ids: tuple[str, ...],
    faults: tuple[FaultSpec, ...],
    start_us: int,
    end_us: int,
) -> History:
    position = {unit_id: index for index, unit_id in enumerate(unit_ids)}
    readings.sort(key=lambda r: (r.ts_us, position[r.device_id]))
    values = np.array(
        [[r.metrics.get(name, np.nan) for name in METRIC_NAMES] for r in readings],
        dtype=np.float64,
    ).reshape(len(readings), len(METRIC_NAMES))
    return History(
        unit_ids=unit_ids,
        metric_names=METRIC_NAMES,
        unit_index=np.array([position[r.device_id] for r in readings], dtype=np.int64),
        ts_us=np.array([r.ts_us for r in readings], dtype=np.int64),
        values=values,
        running=np.array([bool(r.running) for r in readings], dtype=np.bool_),
        faults=faults,
        start_us=start_us,
        end_us=end_us,
    )
