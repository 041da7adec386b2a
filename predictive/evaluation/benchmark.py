"""The CPU cost of online scoring per reading, for stream-shaped batches."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from predictive.online.detector import OnlineDetector

METRICS = ("temperature_c", "vibration_mm_s", "pressure_bar", "current_a")
US_PER_MINUTE = 60_000_000


def scoring_cost(
    *, units: int, batch: int = 1_000, readings: int = 100_000, seed: int = 0
) -> dict[str, Any]:
    """CPU µs per reading when batches of `batch` readings come round-robin from `units`."""
    rng = np.random.default_rng(seed)
    unit_ids = [f"eq-{index}" for index in range(units)]
    ids = [unit_ids[index % units] for index in range(readings)]
    ts_us = (np.arange(readings, dtype=np.int64) // units + 1) * US_PER_MINUTE
    values = rng.normal(50.0, 1.0, (readings, len(METRICS)))
    running = rng.random(readings) < 0.7
    detector = OnlineDetector(METRICS)
    # CPU time of this process: other work on the machine does not count against it.
    started = time.process_time()
    for start in range(0, readings, batch):
        stop = start + batch
        detector.update_batch(
            ids[start:stop], ts_us[start:stop], values[start:stop], running[start:stop]
        )
    spent_s = time.process_time() - started
    return {
        "units": units,
        "batch": batch,
        "readings": readings,
        "cpu_us_per_reading": round(spent_s / readings * 1e6, 2),
    }
