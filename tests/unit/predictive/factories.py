"""Synthetic series for detector tests: noisy baselines with daily cycles, and a runner."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from predictive.online.config import AnomalyKind
from predictive.online.detector import OnlineDetector
from predictive.online.events import AnomalyEvent, Transition

T0_US = 1_717_372_800_000_000
STEP_US = 60_000_000
# One sample a minute: a day is 1,440 samples.
SAMPLES_PER_DAY = 1_440
FIVE_MINUTE_SAMPLES_PER_DAY = 288
# Enough history for every baseline, drift included, to be warm.
WARM_SAMPLES = 2_000


@dataclass
class Series:
    """One unit's metrics, one row per sample, with its running flags."""

    values: npt.NDArray[np.float64]
    running: npt.NDArray[np.bool_] = field(default_factory=lambda: np.ones(0, np.bool_))

    def __post_init__(self) -> None:
        if len(self.running) != len(self.values):
            self.running = np.ones(len(self.values), np.bool_)


def noisy(
    samples: int,
    *,
    metrics: int = 1,
    level: float = 50.0,
    sigma: float = 1.0,
    daily_amplitude: float = 0.0,
    seed: int = 0,
    samples_per_day: int = SAMPLES_PER_DAY,
) -> Series:
    """Gaussian noise around a level, with an optional daily cycle."""
    rng = np.random.default_rng(seed)
    t = np.arange(samples)
    cycle = daily_amplitude * np.sin(2 * np.pi * t / samples_per_day)
    values = level + cycle[:, None] + rng.normal(0.0, sigma, (samples, metrics))
    return Series(values)


def timestamps(samples: int, *, step_us: int = STEP_US) -> npt.NDArray[np.int64]:
    """Sample times step_us apart (a minute by default)."""
    return T0_US + np.arange(samples, dtype=np.int64) * step_us


def feed(
    detector: OnlineDetector, series: Series, *, unit: str = "eq-1", batch: int = 1_000
) -> list[AnomalyEvent]:
    """Feed a unit's series in stream-sized batches; every event."""
    times = timestamps(len(series.values))
    events: list[AnomalyEvent] = []
    for start in range(0, len(series.values), batch):
        stop = start + batch
        events += detector.update_batch(
            [unit] * len(series.values[start:stop]),
            times[start:stop],
            series.values[start:stop],
            series.running[start:stop],
        )
    return events


def opened(events: list[AnomalyEvent], kind: AnomalyKind | None = None) -> list[AnomalyEvent]:
    """The opened events, of one kind when given."""
    return [
        e for e in events if e.transition is Transition.OPENED and (kind is None or e.kind is kind)
    ]


def sample_of(event: AnomalyEvent) -> int:
    """The sample index an event happened at."""
    return (event.ts_us - T0_US) // STEP_US
