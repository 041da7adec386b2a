"""Evaluate the online detector on simulator histories with injected, labelled faults."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from devices.simulator.faults import FaultKind, FaultSpec
from kernel.clock import to_epoch_us
from predictive.evaluation.history import (
    History,
    equipment_models,
    fault_plan,
    simulate_history,
)
from predictive.evaluation.metrics import Alarm, LabelledFault, summarise
from predictive.online.config import DetectorConfig
from predictive.online.detector import OnlineDetector
from predictive.online.events import AnomalyEvent, Transition

# A Monday; any date works, the simulator has no calendar beyond the daily cycle.
DEFAULT_START_US = to_epoch_us(datetime(2024, 6, 3, tzinfo=UTC))
BATCH_READINGS = 1_000
# How long each kind takes to develop: two gradual faults over days, two sudden ones.
FAULT_RAMPS_S: dict[FaultKind, float] = {
    FaultKind.BEARING_WEAR: 5 * 86_400.0,
    FaultKind.PRESSURE_LEAK: 3 * 86_400.0,
    FaultKind.OVERHEATING: 2 * 3_600.0,
    FaultKind.STUCK_SENSOR: 0.0,
}
GRADUAL_KINDS = frozenset({FaultKind.BEARING_WEAR.value, FaultKind.PRESSURE_LEAK.value})


def evaluate_simulated(
    *,
    units: int = 20,
    days: float = 30.0,
    seeds: Sequence[int] = (1, 2),
    clean_units: int = 4,
    interval_s: float = 60.0,
    config: DetectorConfig | None = None,
) -> dict[str, Any]:
    """Detection metrics of the online detector on simulated fleets, JSON-able."""
    faults: list[LabelledFault] = []
    alarms: list[Alarm] = []
    unit_keys: list[str] = []
    scoring_s, readings = 0.0, 0
    settings = config or DetectorConfig()
    for seed in seeds:
        history = _history(units=units, days=days, seed=seed, clean=clean_units, every=interval_s)
        started = time.process_time()
        events = run_detector(history, settings)
        scoring_s += time.process_time() - started
        readings += len(history.ts_us)
        # Seeds build different fleets with the same unit ids: keep them apart.
        faults += [_label(f, history, seed) for f in history.faults]
        alarms += [
            Alarm(f"{seed}/{e.unit_id}", e.ts_us, e.kind.value)
            for e in events
            if e.transition is Transition.OPENED
        ]
        unit_keys += [f"{seed}/{unit_id}" for unit_id in history.unit_ids]
    metrics = summarise(
        faults,
        alarms,
        unit_ids=unit_keys,
        scored_from_us=DEFAULT_START_US + int(settings.warmup_samples * interval_s * 1e6),
        end_us=DEFAULT_START_US + int(days * 86_400e6),
        gradual_kinds=GRADUAL_KINDS,
    )
    return {
        "units": units * len(seeds),
        "days": days,
        "interval_s": interval_s,
        "readings": readings,
        "scoring_us_per_reading": round(scoring_s / max(1, readings) * 1e6, 2),
        **metrics,
    }


def run_detector(
    history: History, config: DetectorConfig, *, batch: int = BATCH_READINGS
) -> list[AnomalyEvent]:
    """Feed a history to a fresh detector in stream-sized batches; every event in order."""
    detector = OnlineDetector(history.metric_names, config)
    unit_ids = np.array(history.unit_ids, dtype=object)[history.unit_index].tolist()
    events: list[AnomalyEvent] = []
    for start in range(0, len(unit_ids), batch):
        stop = start + batch
        events += detector.update_batch(
            unit_ids[start:stop],
            history.ts_us[start:stop],
            history.values[start:stop],
            history.running[start:stop],
        )
    return events


def _history(*, units: int, days: float, seed: int, clean: int, every: float) -> History:
    unit_ids = tuple(equipment_models(units=units, seed=seed))
    faults = fault_plan(
        unit_ids, start_us=DEFAULT_START_US, days=days, ramps_s=FAULT_RAMPS_S, clean_units=clean
    )
    return simulate_history(
        units=units,
        days=days,
        start_us=DEFAULT_START_US,
        seed=seed,
        interval_s=every,
        faults=faults,
    )


def _label(fault: FaultSpec, history: History, seed: int) -> LabelledFault:
    return LabelledFault(
        unit_id=f"{seed}/{fault.device_id}",
        kind=str(fault.kind),
        start_us=fault.start_us,
        end_us=history.end_us + 1,
        ramp_s=fault.ramp_s,
    )
